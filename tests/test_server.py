"""One real waitress server on 127.0.0.1 (a free port), driven by SPARQLWrapper and urllib."""

from __future__ import annotations

import csv
import io
import subprocess
import threading
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from rdflib import Graph, Literal, URIRef
from SPARQLWrapper import CSV, JSON, POST, TURTLE, XML, SPARQLWrapper

from kg.namespaces import SCHEMA
from kg.settings import Settings
from kg.web.server import make_server, stop, urls

pytestmark = pytest.mark.server

ARTICLE = "article/000_45883e71d61e1347"
HEADLINE = "Sen. Rand Paul goes to Moscow and invites Russians to Washington in unofficial bid to boost ties"
PEOPLE = "SELECT ?name WHERE { ?e a schema:Person ; schema:name ?name } ORDER BY ?name"


@pytest.fixture(scope="module")
def server_url(settings: Settings) -> Iterator[str]:
    """The URL of a running waitress server for the session build; stopped afterwards."""
    server = make_server(settings.replace(host="127.0.0.1", port=0, threads=4))
    thread = threading.Thread(target=server.run, name="kg-waitress", daemon=True)
    thread.start()
    try:
        yield urls(server)[0]
    finally:
        stop(server, thread)
    assert not thread.is_alive()


def _sparql(url: str, query: str, fmt: str, method: str | None = None) -> Any:
    client = SPARQLWrapper(url + "sparql")
    client.setQuery(query)
    client.setReturnFormat(fmt)
    if method:
        client.setMethod(method)
    return client.query()


def test_server_listens_on_loopback(server_url: str) -> None:
    assert server_url.startswith("http://127.0.0.1:")
    with urllib.request.urlopen(server_url + "health", timeout=10) as response:
        assert response.status == 200 and b'"ok"' in response.read()


def test_sparqlwrapper_json(server_url: str) -> None:
    result = _sparql(server_url, PEOPLE, JSON)
    assert result.response.headers.get_content_type() == "application/sparql-results+json"
    names = [b["name"]["value"] for b in result.convert()["results"]["bindings"]]
    assert "Rand Paul" in names and names == sorted(names)


def test_sparqlwrapper_xml_by_post(server_url: str) -> None:
    document = _sparql(server_url, PEOPLE, XML, POST).convert()
    literals = [node.firstChild.data for node in document.getElementsByTagName("literal")]
    assert "Rand Paul" in literals


def test_sparqlwrapper_csv(server_url: str) -> None:
    rows = list(csv.reader(io.StringIO(_sparql(server_url, PEOPLE, CSV).convert().decode("utf-8"))))
    assert rows[0] == ["name"] and ["Rand Paul"] in rows


def test_sparqlwrapper_construct_turtle(server_url: str) -> None:
    query = "CONSTRUCT { ?a schema:headline ?h } WHERE { ?a schema:headline ?h }"
    data = _sparql(server_url, query, TURTLE).convert()
    graph = Graph().parse(data=data, format="turtle")
    assert Literal(HEADLINE) in set(graph.objects(None, SCHEMA.headline))


def test_article_as_turtle_over_http(server_url: str) -> None:
    request = urllib.request.Request(server_url + ARTICLE, headers={"Accept": "text/turtle"})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.headers.get_content_type() == "text/turtle"
        assert "Accept" in response.headers["Vary"]
        graph = Graph().parse(data=response.read(), format="turtle")
    article = URIRef("http://127.0.0.1:8000/" + ARTICLE)
    assert list(graph.objects(article, SCHEMA.headline)) == [Literal(HEADLINE)]


def test_curl_gets_gzip_and_304(server_url: str) -> None:
    """curl, a real client: --compressed decodes the gzip body; a second request with the
    ETag it was given is answered 304."""
    url = server_url + "/dataset"
    head = subprocess.run(
        ["curl", "-s", "--compressed", "-H", "Accept: text/turtle", "-D", "-", "-o", "/dev/null", url],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout
    assert "content-encoding: gzip" in head.lower()
    etag = next(line.split(":", 1)[1].strip() for line in head.splitlines() if line.lower().startswith("etag:"))
    body = subprocess.run(
        ["curl", "-s", "--compressed", "-H", "Accept: text/turtle", url], capture_output=True, timeout=30, check=True
    ).stdout
    assert b"void:Dataset" in body or b"dcat:Dataset" in body
    status = subprocess.run(
        [
            "curl",
            "-s",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "-H",
            "Accept: text/turtle",
            "-H",
            f"If-None-Match: {etag}",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout
    assert status == "304"
