"""Pages in a real browser: headless Chromium renders home, article, entity, search and
query pages from a live `kg serve` at desktop and phone widths."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.browser import PAGES, SIZES, chromium, dump_dom, png_size, screenshot
from tests.conftest import kg_serve

pytestmark = pytest.mark.skipif(
    chromium() is None and not os.environ.get("CI"),
    reason="needs chromium (Debian package chromium); .ci/run installs it",
)

#: Text each page shows once rendered.
EXPECTED = {
    "home": "Articles",
    "article": "Sen. Rand Paul goes to Moscow",
    "entity": "Mentioned in",
    "search": "Moscow",
    "sparql": "SPARQL",
}


@pytest.fixture(scope="module")
def live(built: Path) -> Iterator[str]:
    with kg_serve(built) as url:
        yield url


@pytest.mark.parametrize("size", sorted(SIZES))
@pytest.mark.parametrize(("name", "path"), PAGES)
def test_screenshot(live: str, tmp_path: Path, name: str, path: str, size: str) -> None:
    width, height = SIZES[size]
    target = tmp_path / f"{name}-{size}.png"
    screenshot(live + path, target, width, height)
    assert png_size(target) == (width, height)
    assert target.stat().st_size > 8_000, "the page rendered (nearly) blank"


@pytest.mark.parametrize(("name", "path"), PAGES)
def test_rendered_dom(live: str, name: str, path: str) -> None:
    dom = dump_dom(live + path)
    assert EXPECTED[name] in dom
    assert 'role="search"' in dom  # the search box is on every page
    assert "<script>" not in dom  # no executable script: pages work without JavaScript


def test_article_highlights_mentions_as_links(live: str) -> None:
    dom = dump_dom(live + "/article/000_45883e71d61e1347")
    assert "<mark" in dom and 'href="/person/rand-paul"' in dom


def test_sparql_page_gets_the_query_editor(live: str) -> None:
    """kg-sparql.js turns the textarea into the vendored YASQE editor (CodeMirror) once
    loaded, keeping the query in the (hidden) textarea the form submits."""
    query = "SELECT ?name WHERE { ?person a schema:Person ; schema:name ?name } LIMIT 5"
    dom = dump_dom(live + "/sparql?query=" + quote(query))
    assert 'class="yasqe"' in dom and re.search(r'class="CodeMirror[ "]', dom), "the editor did not load"
    textarea = re.search(r'<textarea id="query" name="query"[^>]*>([^<]*)</textarea>', dom)
    assert textarea is not None and textarea.group(1) == query
    assert 'style="display: none;"' in textarea.group(0)  # the editor stands in for it
    assert "cm-keyword" in dom and ">LIMIT<" in dom  # highlighted SPARQL
    assert 'aria-label="SPARQL query"' in dom
    assert "parseErrorIcon" not in dom  # schema: is predeclared by the server, so no syntax error
    assert "yasqe_queryButton" not in dom  # the form runs queries; the editor sends nothing itself
    assert '<table class="results">' in dom  # the server's results are still on the page


def test_sparql_editor_flags_an_undeclared_prefix(live: str) -> None:
    dom = dump_dom(live + "/sparql?query=" + quote("SELECT * WHERE { ?s nope:p ?o }"))
    assert re.search(r'class="CodeMirror[ "]', dom)
    assert dom.count("parseErrorIcon") == 1
