"""The /sparql query page: the vendored YASQE editor (kg/web/static/yasgui/) and
kg-sparql.js are linked and served, licensed, kept offline, and only /sparql's page
may run scripts (its own, from this host); the plain form still works without them."""

from __future__ import annotations

import hashlib
import json
import re
from html import unescape
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

import kg.web
from kg.namespaces import PREFIXES
from kg.web.app import CSP, SPARQL_PAGE_CSP

STATIC = Path(kg.web.__file__).parent / "static"
VENDORED = STATIC / "yasgui"
#: What the page loads, by URL path.
ASSETS = {
    "/static/yasgui/yasqe.min.css": "text/css",
    "/static/yasgui/yasqe.min.js": "javascript",
    "/static/kg-sparql.js": "javascript",
}
HTML = {"Accept": "text/html"}


def _directives(policy: str) -> dict[str, list[str]]:
    parsed = (part.split() for part in policy.split(";") if part.strip())
    return {words[0]: words[1:] for words in parsed}


def test_page_links_the_editor_files(client: Any) -> None:
    html = client.get("/sparql", headers=HTML).get_data(as_text=True)
    head = html.split("</head>", 1)[0]
    assert '<link rel="stylesheet" href="/static/yasgui/yasqe.min.css">' in head
    scripts = re.findall(r"<script[^>]*>", html)
    # the library before the code that uses it; both deferred, external, from this host
    assert scripts == [
        '<script src="/static/yasgui/yasqe.min.js" defer>',
        '<script src="/static/kg-sparql.js" defer>',
    ]
    assert "<script>" not in html  # nothing inline (the CSP would refuse it anyway)


def test_page_is_still_a_plain_form(client: Any) -> None:
    """Without JavaScript: a GET form with the query in <textarea name="query">."""
    html = client.get("/sparql?query=" + quote("ASK {}"), headers=HTML).get_data(as_text=True)
    form = html.split('<form method="get" action="/sparql">', 1)[1].split("</form>", 1)[0]
    assert re.search(r'<textarea id="query" name="query"[^>]*>ASK \{\}</textarea>', form)
    assert '<button type="submit">Run</button>' in form


def test_page_passes_the_predeclared_prefixes(client: Any) -> None:
    html = client.get("/sparql", headers=HTML).get_data(as_text=True)
    found = re.search(r"data-prefixes='([^']*)'", html)
    assert found is not None
    assert json.loads(unescape(found.group(1))) == PREFIXES


@pytest.mark.parametrize("path", sorted(ASSETS))
def test_assets_are_served(client: Any, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert ASSETS[path] in response.mimetype
    assert response.get_data() == (STATIC / path.removeprefix("/static/")).read_bytes()


def test_vendored_files_are_licensed_and_match_their_readme() -> None:
    readme = (VENDORED / "README.md").read_text(encoding="utf-8")
    assert "@zazuko/yasqe" in readme and "4.6.2" in readme and "sha512-" in readme
    assert "MIT" in (VENDORED / "LICENSE").read_text(encoding="utf-8")
    notices = (VENDORED / "THIRD-PARTY-LICENSES").read_text(encoding="utf-8")
    for bundled in ("codemirror", "lodash-es", "query-string", "dompurify"):
        assert bundled in notices
    listed = re.findall(r"^\| `([^`]+)` \|.*\| (\d+) \| `([0-9a-f]{64})` \|$", readme, re.MULTILINE)
    assert {name for name, _, _ in listed} == {"yasqe.min.js", "yasqe.min.css", "LICENSE", "THIRD-PARTY-LICENSES"}
    for name, size, sha256 in listed:
        data = (VENDORED / name).read_bytes()
        assert (len(data), hashlib.sha256(data).hexdigest()) == (int(size), sha256), name
    # only what the README lists (and itself) is vendored
    assert {p.name for p in VENDORED.iterdir()} == {name for name, _, _ in listed} | {"README.md"}


def test_editor_setup_never_asks_another_host() -> None:
    """kg-sparql.js keeps the editor offline: no prefix.cc, no LOV, no requests of its own."""
    script = (STATIC / "kg-sparql.js").read_text(encoding="utf-8")
    assert "http://" not in script and "https://" not in script
    code = re.sub(r"/\*.*?\*/|(?<!\S)//[^\n]*", "", script, flags=re.DOTALL)  # comments name what is avoided
    for call in ("fetch(", "XMLHttpRequest", "prefix.cc", "lov.", "localStorage", "innerHTML", "eval("):
        assert call not in code, call
    assert "prefixCcApi = null" in code
    assert 'autocompleters = ["kgPrefixes", "variables"]' in code  # not "property"/"class" (LOV)
    assert "showQueryButton: false" in code and "persistenceId: null" in code
    assert "url(" not in (VENDORED / "yasqe.min.css").read_text(encoding="utf-8")  # no fonts or images to fetch


def test_sparql_page_may_run_its_own_scripts_only(client: Any) -> None:
    for target in ("/sparql", "/sparql?query=" + quote("SELECT * {} LIMIT 1"), "/sparql?query=" + quote("NOT SPARQL")):
        response = client.get(target, headers=HTML)
        assert response.mimetype == "text/html"
        assert response.headers["Content-Security-Policy"] == SPARQL_PAGE_CSP, target
    policy = _directives(SPARQL_PAGE_CSP)
    assert policy["script-src"] == ["'self'"]
    assert policy["default-src"] == ["'none'"] and "connect-src" not in policy  # the editor cannot call out
    assert policy["style-src"] == ["'self'"] and policy["img-src"] == ["'self'"]
    assert {k: v for k, v in policy.items() if k != "script-src"} == _directives(CSP)
    assert "unsafe" not in SPARQL_PAGE_CSP and "data:" not in SPARQL_PAGE_CSP


@pytest.mark.parametrize("path", ["/", "/search?q=mos", "/person/rand-paul", "/dumps/", "/no/such/page"])
def test_other_pages_keep_the_script_free_policy(client: Any, path: str) -> None:
    response = client.get(path, headers=HTML)
    assert response.mimetype == "text/html"
    assert response.headers["Content-Security-Policy"] == CSP
    assert "script-src" not in CSP
    assert "<script src=" not in response.get_data(as_text=True)


def test_a_dozen_examples_each_run_and_answer(client: Any) -> None:
    """Every example on the form is a working query with a non-empty answer on the seeds."""
    from kg.web.site import current_site
    from kg.web.sparql import examples

    with client.application.app_context():
        found = examples(current_site().graph("entities"))
    assert len(found) >= 12
    for title, query in found:
        response = client.get(
            "/sparql",
            query_string={"query": query},
            headers={"Accept": "application/sparql-results+json, text/turtle;q=0.9"},
        )
        assert response.status_code == 200, (title, response.get_data(as_text=True))
        if response.mimetype == "application/sparql-results+json":
            data = response.get_json()
            assert data.get("boolean") is True or data["results"]["bindings"], title
        else:
            assert response.get_data(as_text=True).count(" .\n") > 3, title


def test_editor_script_goes_out_gzipped_to_clients_that_take_it(client: Any) -> None:
    import gzip

    path = Path(kg.web.__file__).parent / "static" / "yasgui" / "yasqe.min.js"
    zipped = client.get("/static/yasgui/yasqe.min.js", headers={"Accept-Encoding": "gzip"})
    assert zipped.status_code == 200 and zipped.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped.get_data()) == path.read_bytes()
    assert len(zipped.get_data()) < path.stat().st_size / 3
    assert "Accept-Encoding" in zipped.headers["Vary"] and zipped.headers["ETag"].startswith('W/"')
    again = client.get(
        "/static/yasgui/yasqe.min.js", headers={"Accept-Encoding": "gzip", "If-None-Match": zipped.headers["ETag"]}
    )
    assert again.status_code == 304
    plain = client.get("/static/yasgui/yasqe.min.js")
    assert "Content-Encoding" not in plain.headers and plain.get_data() == path.read_bytes()
    part = client.get("/static/yasgui/yasqe.min.js", headers={"Accept-Encoding": "gzip", "Range": "bytes=0-9"})
    assert part.status_code == 206 and part.get_data() == path.read_bytes()[:10]
