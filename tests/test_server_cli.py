"""One real `kg serve` (waitress) on 127.0.0.1, driven by real clients: SPARQLWrapper, urllib
and curl."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from rdflib import Graph, Literal, URIRef

from tests.conftest import kg_serve

pytestmark = pytest.mark.server

HEADLINE = "Sen. Rand Paul goes to Moscow and invites Russians to Washington in unofficial bid to boost ties"
ARTICLE = "/article/000_45883e71d61e1347"


@pytest.fixture(scope="module")
def server(built: Path) -> Iterator[str]:
    with kg_serve(built) as url:
        yield url


def test_sparqlwrapper_json_xml_csv(server: str) -> None:
    from SPARQLWrapper import CSV, JSON, XML, SPARQLWrapper

    query = (
        "PREFIX schema: <http://schema.org/> SELECT ?h WHERE { ?a a schema:NewsArticle ; "
        "schema:headline ?h } ORDER BY ?h"
    )
    client = SPARQLWrapper(server + "/sparql")
    client.setQuery(query)
    client.setReturnFormat(JSON)
    rows = client.query().convert()["results"]["bindings"]  # type: ignore[index]
    assert [r["h"]["value"] for r in rows][0] == HEADLINE
    client.setReturnFormat(XML)
    xml = client.query().convert()
    assert HEADLINE in xml.toxml()  # type: ignore[union-attr]
    client.setReturnFormat(CSV)
    assert HEADLINE in client.query().convert().decode("utf-8")  # type: ignore[union-attr]
    client.setMethod("POST")
    client.setReturnFormat(JSON)
    assert len(client.query().convert()["results"]["bindings"]) == 2  # type: ignore[index]


def test_article_by_plain_http(server: str) -> None:
    for accept, fmt in (("text/turtle", "turtle"), ("application/ld+json", "json-ld")):
        request = urllib.request.Request(server + ARTICLE, headers={"Accept": accept})
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.headers.get_content_type() == accept
            graph = Graph().parse(data=response.read(), format=fmt)
        assert (
            URIRef("http://127.0.0.1:8000" + ARTICLE),
            URIRef("http://schema.org/headline"),
            Literal(HEADLINE),
        ) in graph


def test_update_refused_and_unknown_path_404(server: str) -> None:
    request = urllib.request.Request(
        server + "/sparql", data=b"DROP ALL", method="POST", headers={"Content-Type": "application/sparql-update"}
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 403
    with pytest.raises(urllib.error.HTTPError) as missing:
        urllib.request.urlopen(server + "/nothing/here", timeout=10)
    assert missing.value.code == 404


@pytest.mark.skipif(
    shutil.which("curl") is None and not os.environ.get("CI"), reason="needs curl (.ci/run installs it)"
)
def test_curl_downloads_a_dump_and_checks_it(server: str, built: Path, tmp_path: Path) -> None:
    target = tmp_path / "kg.nt"
    run = subprocess.run(
        ["curl", "-sS", "-f", "-o", str(target), "-w", "%{http_code} %{content_type}", server + "/dumps/kg.nt"],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    assert run.stdout.startswith("200 application/n-triples")
    assert target.read_bytes() == (built / "kg.nt").read_bytes()
    health = subprocess.run(["curl", "-sS", server + "/health"], capture_output=True, text=True, check=True, timeout=30)
    assert json.loads(health.stdout)["status"] == "ok"
