"""The web app through Flask's test client: negotiation as a table, resources, SPARQL, dumps."""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pyoxigraph as ox
import pytest
from rdflib import Dataset, Graph, Literal, URIRef
from rdflib.compare import isomorphic
from rdflib.query import Result

from kg.build import build
from kg.extract.entities import SpacyExtractor
from kg.namespaces import OA, RDF, SCHEMA, VOID
from kg.settings import Settings
from kg.web.app import create_app
from kg.web.server import get
from tests.conftest import SEED_EPOCH

BASE = "http://127.0.0.1:8000/"
KEY = "000_45883e71d61e1347"
ARTICLE = f"/article/{KEY}"
HEADLINE = "Sen. Rand Paul goes to Moscow and invites Russians to Washington in unofficial bid to boost ties"
ASK = "/sparql?query=" + quote("ASK { ?s ?p ?o }")
CONSTRUCT = "/sparql?query=" + quote("CONSTRUCT { ?s schema:name ?o } WHERE { ?s schema:name ?o } LIMIT 5")
SELECT_NAMES = "SELECT ?e ?name WHERE { ?e a schema:Person ; schema:name ?name } ORDER BY ?name"
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"

# (path, Accept header or None, expected status, expected media type)
NEGOTIATION = [
    (ARTICLE, None, 200, "text/html"),
    (ARTICLE, "*/*", 200, "text/html"),
    (ARTICLE, BROWSER, 200, "text/html"),
    (ARTICLE, "text/turtle", 200, "text/turtle"),
    (ARTICLE, "text/turtle; charset=utf-8", 200, "text/turtle"),
    (ARTICLE, "application/ld+json", 200, "application/ld+json"),
    (ARTICLE, "application/json", 200, "application/ld+json"),
    (ARTICLE, "application/n-triples", 200, "application/n-triples"),
    (ARTICLE, "application/rdf+xml", 200, "application/rdf+xml"),
    (ARTICLE, "application/trig", 200, "application/trig"),
    (ARTICLE, "application/n-quads", 200, "application/n-quads"),
    (ARTICLE, "text/turtle;q=0.5, application/ld+json;q=0.9", 200, "application/ld+json"),
    (ARTICLE, "text/html;q=0.1, text/turtle", 200, "text/turtle"),
    (ARTICLE, "text/html;q=0, */*", 200, "text/turtle"),
    (ARTICLE, "application/*", 200, "application/ld+json"),
    (ARTICLE, "image/png", 406, "text/plain"),
    (ARTICLE, "text/html;q=0", 406, "text/plain"),
    (ARTICLE + ".ttl", "application/ld+json", 200, "text/turtle"),
    (ARTICLE + ".jsonld", None, 200, "application/ld+json"),
    (ARTICLE + ".nt", "text/html", 200, "application/n-triples"),
    (ARTICLE + ".rdf", None, 200, "application/rdf+xml"),
    (ARTICLE + ".trig", None, 200, "application/trig"),
    (ARTICLE + ".nq", None, 200, "application/n-quads"),
    (ARTICLE + ".html", "text/turtle", 200, "text/html"),
    (ARTICLE + "?format=turtle", "text/html", 200, "text/turtle"),
    (ARTICLE + "?format=ttl", None, 200, "text/turtle"),
    (ARTICLE + "?format=jsonld", "text/turtle", 200, "application/ld+json"),
    (ARTICLE + "?format=rdfxml", None, 200, "application/rdf+xml"),
    (ARTICLE + "?format=nt", None, 200, "application/n-triples"),
    (ARTICLE + "?format=html", "text/turtle", 200, "text/html"),
    (ARTICLE + ".ttl?format=jsonld", None, 200, "application/ld+json"),
    (ARTICLE + "?format=png", None, 406, "text/plain"),
    ("/person/rand-paul", "text/turtle", 200, "text/turtle"),
    ("/person/rand-paul.jsonld", None, 200, "application/ld+json"),
    ("/dataset", "text/turtle", 200, "text/turtle"),
    ("/", None, 200, "text/html"),
    ("/", "text/turtle", 200, "text/turtle"),
    ("/.well-known/void", None, 200, "text/turtle"),
    ("/.well-known/void", "application/ld+json", 200, "application/ld+json"),
    ("/.well-known/void", "application/n-triples", 200, "application/n-triples"),
    ("/.well-known/void", "image/png", 406, "text/plain"),
    ("/dumps/", None, 200, "text/html"),
    ("/dumps/", "application/json", 200, "application/json"),
    ("/dumps/", "text/turtle", 406, "text/plain"),
    ("/sparql", "text/html", 200, "text/html"),
    ("/sparql", "text/turtle", 200, "text/turtle"),
    (ASK, None, 200, "application/sparql-results+json"),
    (ASK, "application/sparql-results+xml", 200, "application/sparql-results+xml"),
    (ASK, "text/csv", 200, "text/csv"),
    (ASK, "text/tab-separated-values", 200, "text/tab-separated-values"),
    (ASK, "application/json", 200, "application/sparql-results+json"),
    (ASK, "text/html", 200, "text/html"),
    (ASK + "&format=xml", "text/csv", 200, "application/sparql-results+xml"),
    (ASK, "text/turtle", 406, "text/plain"),
    (CONSTRUCT, None, 200, "text/turtle"),
    (CONSTRUCT, "application/n-triples", 200, "application/n-triples"),
    (CONSTRUCT, "application/ld+json", 200, "application/ld+json"),
    (CONSTRUCT, "application/rdf+xml", 200, "application/rdf+xml"),
    (CONSTRUCT + "&format=jsonld", None, 200, "application/ld+json"),
    (CONSTRUCT, "text/csv", 406, "text/plain"),
    ("/no/such/thing", None, 404, "text/plain"),
    ("/no/such/thing", BROWSER, 404, "text/html"),
    ("/no/such/thing.ttl", None, 404, "text/plain"),
    (ARTICLE + ".csv", None, 404, "text/plain"),
    ("/no%20such%3Cthing%7D", None, 404, "text/plain"),
    ("/article/x%20y.ttl", None, 404, "text/plain"),
]


@pytest.mark.parametrize(("path", "accept", "status", "media_type"), NEGOTIATION)
def test_negotiation_table(client: Any, path: str, accept: str | None, status: int, media_type: str) -> None:
    response = client.get(path, headers={"Accept": accept} if accept else {})
    assert (response.status_code, response.mimetype) == (status, media_type), response.get_data(as_text=True)[:300]
    assert "Accept" in response.headers.get("Vary", "")


def test_accept_matching_is_remembered_per_route() -> None:
    """best_for_accept remembers its answers (kg.web.negotiation): the same header still gets
    each route's own offer, the very objects routes compare with `is`, from a list or a tuple."""
    from kg.web.negotiation import RESOURCE, RESULTS_XML, SOLUTIONS, TURTLE, best_for_accept

    for _ in range(2):
        assert best_for_accept(SOLUTIONS, "application/xml") is RESULTS_XML
        assert best_for_accept(list(SOLUTIONS), "application/xml") is RESULTS_XML
        assert best_for_accept(RESOURCE, "application/xml").name == "rdfxml"
        assert best_for_accept(RESOURCE, "text/turtle;q=0.9, text/html;q=0.1") is TURTLE
        assert best_for_accept(SOLUTIONS, "text/turtle") is None
    from kg.web.negotiation import REMEMBERED_ACCEPT, _best_for_accept

    kept = _best_for_accept.cache_info().currsize
    long = "text/turtle;q=0.9, " + ", ".join(f"application/x-{i}" for i in range(REMEMBERED_ACCEPT // 10))
    assert len(long) > REMEMBERED_ACCEPT and best_for_accept(RESOURCE, long) is TURTLE
    assert _best_for_accept.cache_info().currsize == kept, "a long header is matched, not remembered"


def test_void_for_browsers_is_the_dataset_page(client: Any) -> None:
    response = client.get("/.well-known/void", headers={"Accept": BROWSER})
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/dataset")
    assert "Accept" in response.headers["Vary"]


def test_406_lists_what_is_offered(client: Any) -> None:
    response = client.get(ARTICLE, headers={"Accept": "image/png"})
    body = response.get_data(as_text=True)
    for media_type in ("text/html", "text/turtle", "application/ld+json", "application/n-triples"):
        assert media_type in body
    assert response.headers["Vary"] == "Accept"


@pytest.mark.parametrize("path", [ARTICLE, ARTICLE + ".ttl", "/", "/sparql", ASK, "/dumps/", "/dumps/kg.nt", "/health"])
def test_head_has_the_headers_of_get_and_no_body(client: Any, path: str) -> None:
    got, head = client.get(path), client.head(path)
    assert head.status_code == got.status_code == 200
    assert head.mimetype == got.mimetype
    assert head.get_data() == b""
    assert int(head.headers["Content-Length"]) == len(got.get_data())


# --- resources ------------------------------------------------------------------------------


def _article_key(built: Path) -> str:
    """The key the build gave the seed article (the file stem)."""
    assert f"<{BASE}article/{KEY}>".encode() in (built / "kg.nt").read_bytes()
    return KEY


@pytest.mark.parametrize(
    ("accept", "rdflib_format", "oxigraph_format"),
    [
        ("text/turtle", "turtle", ox.RdfFormat.TURTLE),
        ("application/ld+json", "json-ld", ox.RdfFormat.JSON_LD),
        ("application/n-triples", "nt", ox.RdfFormat.N_TRIPLES),
        ("application/rdf+xml", "xml", ox.RdfFormat.RDF_XML),
        ("application/trig", "trig", ox.RdfFormat.TRIG),
        ("application/n-quads", "nquads", ox.RdfFormat.N_QUADS),
    ],
)
def test_article_graph_parses_with_rdflib_and_oxigraph(
    client: Any, built: Path, accept: str, rdflib_format: str, oxigraph_format: ox.RdfFormat
) -> None:
    article = BASE + "article/" + _article_key(built)
    response = client.get(ARTICLE, headers={"Accept": accept})
    assert response.status_code == 200
    assert response.mimetype == accept
    data = response.get_data()
    if rdflib_format in ("trig", "nquads"):
        dataset = Dataset().parse(data=data, format=rdflib_format)
        headlines = [o for _, _, o, _ in dataset.quads((URIRef(article), SCHEMA.headline, None, None))]
    else:
        headlines = list(Graph().parse(data=data, format=rdflib_format).objects(URIRef(article), SCHEMA.headline))
    assert headlines == [Literal(HEADLINE)]
    quads = list(ox.parse(data, format=oxigraph_format))
    assert any(
        q.subject == ox.NamedNode(article)
        and q.predicate == ox.NamedNode(str(SCHEMA.headline))
        and q.object == ox.Literal(HEADLINE)
        for q in quads
    )


def test_article_data_has_its_parts_and_the_labels_of_what_it_links(client: Any) -> None:
    graph = Graph().parse(data=client.get(ARTICLE + ".ttl").get_data(), format="turtle")
    article = URIRef(BASE + ARTICLE.lstrip("/"))
    annotations = set(graph.subjects(RDF.type, OA.Annotation))
    assert annotations and all(str(a).startswith(str(article) + "/mention/") for a in annotations)
    assert (None, OA.hasSource, article) in graph
    assert (URIRef(BASE + "person/rand-paul"), SCHEMA.name, Literal("Rand Paul")) in graph
    assert (article, SCHEMA.articleBody, None) in graph


def test_twin_and_named_graphs_in_trig(client: Any) -> None:
    dataset = Dataset().parse(data=client.get(ARTICLE + ".trig").get_data(), format="trig")
    graphs = {str(g.identifier) for g in dataset.graphs() if len(g)}
    assert BASE + f"graph/article/{KEY}" in graphs
    assert BASE + "graph/entities" in graphs  # the labels of linked entities keep their graph


def test_article_page_shows_labels_links_and_evidence(client: Any) -> None:
    response = client.get(ARTICLE, headers={"Accept": BROWSER})
    html = response.get_data(as_text=True)
    assert f"<h1>{HEADLINE}</h1>" in html
    for ext, media_type in [
        ("ttl", "text/turtle"),
        ("jsonld", "application/ld+json"),
        ("nt", "application/n-triples"),
        ("rdf", "application/rdf+xml"),
    ]:
        assert f'<link rel="alternate" type="{media_type}" href="{ARTICLE}.{ext}"' in html
    assert re.search(r'<a class="mention" href="/person/rand-paul" title="Rand Paul">Rand Paul</a>', html)
    assert ">Rand Paul</a>" in html and 'href="/build/' in html
    assert 'href="http://127.0.0.1:8000/' not in html  # local links by path: any host works
    assert "Content-Security-Policy" in response.headers


def test_entity_page_lists_the_articles_that_mention_it(client: Any) -> None:
    html = client.get("/person/rand-paul", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert "<h1>Rand Paul</h1>" in html
    assert "Mentioned in" in html
    assert f'<a href="{ARTICLE}">{HEADLINE}</a>' in html
    assert "<mark>Rand Paul</mark>" in html


def test_site_answers_on_any_host(client: Any) -> None:
    response = client.get(ARTICLE, base_url="http://kg.example.org:9000", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert 'href="/person/rand-paul"' in response.get_data(as_text=True)


def test_home_lists_articles_and_entities(client: Any, built: Path) -> None:
    manifest = json.loads((built / "build.json").read_text())
    html = client.get("/", headers={"Accept": BROWSER}).get_data(as_text=True)
    assert f'<a href="{ARTICLE}">{HEADLINE}</a>' in html
    assert "People" in html and 'href="/person/rand-paul"' in html
    assert f"<dd>{manifest['articles']}</dd>" in html and f"<dd>{manifest['quads']}</dd>" in html
    for href in ('href="/sparql"', 'href="/dumps/"', 'href="/.well-known/void"'):
        assert href in html


def test_unknown_paths_are_404(client: Any) -> None:
    text = client.get("/person/nobody-at-all")
    assert text.status_code == 404 and text.mimetype == "text/plain"
    assert BASE + "person/nobody-at-all" in text.get_data(as_text=True)
    assert client.post(ARTICLE).status_code == 405


def test_cors_on_data_and_sparql(client: Any) -> None:
    for path in (ARTICLE + ".ttl", ASK, "/dumps/kg.ttl", "/.well-known/void"):
        assert client.get(path).headers["Access-Control-Allow-Origin"] == "*"


# --- SPARQL ---------------------------------------------------------------------------------


def _names(response: Any) -> list[str]:
    assert response.status_code == 200, response.get_data(as_text=True)
    doc = json.loads(response.get_data())
    return [b["name"]["value"] for b in doc["results"]["bindings"]]


def test_sparql_get_post_and_form_agree(client: Any) -> None:
    by_get = _names(client.get("/sparql", query_string={"query": SELECT_NAMES}))
    by_post = _names(client.post("/sparql", data=SELECT_NAMES.encode(), content_type="application/sparql-query"))
    by_form = _names(client.post("/sparql", data={"query": SELECT_NAMES}))
    assert by_get == by_post == by_form
    assert "Rand Paul" in by_get


@pytest.mark.parametrize(
    ("accept", "fmt"),
    [
        ("application/sparql-results+json", "json"),
        ("application/sparql-results+xml", "xml"),
        ("text/csv", "csv"),
        ("text/tab-separated-values", "tsv"),
    ],
)
def test_sparql_results_formats_parse(client: Any, accept: str, fmt: str) -> None:
    response = client.get("/sparql", query_string={"query": SELECT_NAMES}, headers={"Accept": accept})
    assert response.mimetype == accept
    result = Result.parse(io.BytesIO(response.get_data()), format=fmt)
    names = sorted(str(row[1]) for row in result)  # type: ignore[index]
    assert "Rand Paul" in names
    by_param = client.get("/sparql", query_string={"query": SELECT_NAMES, "format": fmt})
    assert by_param.mimetype == accept and by_param.get_data() == response.get_data()
    if fmt == "xml":
        ET.fromstring(response.get_data())
    if fmt == "csv":
        assert next(csv.reader(io.StringIO(response.get_data(as_text=True)))) == ["e", "name"]


def test_sparql_construct_formats_parse(client: Any) -> None:
    for accept, fmt in [
        ("text/turtle", "turtle"),
        ("application/ld+json", "json-ld"),
        ("application/rdf+xml", "xml"),
        ("application/n-triples", "nt"),
    ]:
        response = client.get(CONSTRUCT, headers={"Accept": accept})
        assert len(Graph().parse(data=response.get_data(), format=fmt)) == 5


def test_malformed_query_is_400_with_the_parser_message(client: Any) -> None:
    bad = "SELECT ?x WHERE { ?x ?y }"
    with pytest.raises(SyntaxError) as parser:
        ox.Store().query(bad)
    response = client.get("/sparql", query_string={"query": bad})
    assert response.status_code == 400 and response.mimetype == "text/plain"
    assert str(parser.value).splitlines()[0] in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "request_kwargs",
    [
        {"method": "GET", "query_string": {"update": "INSERT DATA { <x:a> <x:b> <x:c> }"}},
        {"method": "POST", "data": {"update": "INSERT DATA { <x:a> <x:b> <x:c> }"}},
        {"method": "POST", "data": b"CLEAR ALL", "content_type": "application/sparql-update"},
        {"method": "GET", "query_string": {"query": "DELETE WHERE { ?s ?p ?o }"}},
        {"method": "GET", "query_string": {"query": "SELECT * WHERE { SERVICE <http://127.0.0.1:9/s> { ?s ?p ?o } }"}},
    ],
)
def test_updates_and_service_are_403(client: Any, request_kwargs: dict[str, Any]) -> None:
    response = client.open("/sparql", **request_kwargs)
    assert response.status_code == 403 and response.mimetype == "text/plain"
    assert len(client.get("/sparql", query_string={"query": "ASK { ?s ?p ?o }"}).get_data()) > 0  # still up


def test_other_post_bodies_are_415(client: Any) -> None:
    response = client.post("/sparql", data=b"{}", content_type="application/json")
    assert response.status_code == 415


def test_default_and_named_graph_uri(client: Any, built: Path) -> None:
    entities = BASE + "graph/entities"
    dataset = Dataset().parse(built / "kg.trig", format="trig")
    in_entities = len(dataset.graph(URIRef(entities)))
    count = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    union = json.loads(client.get("/sparql", query_string={"query": count}).get_data())
    only = json.loads(client.get("/sparql", query_string={"query": count, "default-graph-uri": entities}).get_data())
    assert int(only["results"]["bindings"][0]["n"]["value"]) == in_entities
    assert int(union["results"]["bindings"][0]["n"]["value"]) > in_entities
    graphs = "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }"
    named = json.loads(client.get("/sparql", query_string={"query": graphs, "named-graph-uri": entities}).get_data())
    assert [b["g"]["value"] for b in named["results"]["bindings"]] == [entities]


def test_from_in_the_query_sets_the_dataset(client: Any, built: Path) -> None:
    """FROM/FROM NAMED in the query pick the graphs (the union default graph is only the
    default); default-graph-uri in the request overrides FROM (SPARQL 1.1 Protocol 2.1.4)."""
    entities, provenance = BASE + "graph/entities", BASE + "graph/provenance"
    dataset = Dataset().parse(built / "kg.trig", format="trig")

    def count(query: str, **params: str) -> int:
        answer = json.loads(client.get("/sparql", query_string={"query": query, **params}).get_data())
        return int(answer["results"]["bindings"][0]["n"]["value"])

    assert count(f"SELECT (COUNT(*) AS ?n) FROM <{entities}> {{ ?s ?p ?o }}") == len(dataset.graph(URIRef(entities)))
    assert count("SELECT (COUNT(*) AS ?n) FROM <urn:kg:no-such-graph> { ?s ?p ?o }") == 0
    assert count(f"SELECT (COUNT(DISTINCT ?g) AS ?n) FROM NAMED <{entities}> {{ GRAPH ?g {{ ?s ?p ?o }} }}") == 1
    overridden = count(f"SELECT (COUNT(*) AS ?n) FROM <{entities}> {{ ?s ?p ?o }}", **{"default-graph-uri": provenance})
    assert overridden == len(dataset.graph(URIRef(provenance)))


def test_truncated_results_are_flagged(settings: Settings) -> None:
    client = create_app(settings.replace(result_limit=3)).test_client()
    query = {"query": "SELECT ?s WHERE { ?s ?p ?o }"}
    response = client.get("/sparql", query_string=query)
    assert response.headers["X-KG-Truncated"] == "true"
    assert len(json.loads(response.get_data())["results"]["bindings"]) == 3
    html = client.get("/sparql", query_string=query, headers={"Accept": "text/html"})
    assert html.headers["X-KG-Truncated"] == "true" and "truncated" in html.get_data(as_text=True)
    assert "X-KG-Truncated" not in client.get(ASK).headers


def test_sparql_form_and_html_results(client: Any) -> None:
    form = client.get("/sparql", headers={"Accept": BROWSER}).get_data(as_text=True)
    assert "<textarea" in form and 'name="query"' in form
    assert form.count('href="/sparql?query=') >= 3  # example queries as links
    page = client.get("/sparql", query_string={"query": SELECT_NAMES}, headers={"Accept": BROWSER})
    html = page.get_data(as_text=True)
    assert "<table" in html and 'href="/person/rand-paul"' in html and "Rand Paul" in html
    assert "format=csv" in html  # download links
    error = client.get("/sparql", query_string={"query": "SELECT nonsense"}, headers={"Accept": BROWSER})
    assert error.status_code == 400 and error.mimetype == "text/html"


def test_service_description(client: Any) -> None:
    graph = Graph().parse(data=client.get("/sparql", headers={"Accept": "text/turtle"}).get_data(), format="turtle")
    sd = "http://www.w3.org/ns/sparql-service-description#"
    assert (None, RDF.type, URIRef(sd + "Service")) in graph


# --- dumps, VoID, health --------------------------------------------------------------------


def test_dumps_listing(client: Any, built: Path) -> None:
    manifest = json.loads((built / "build.json").read_text())
    html = client.get("/dumps/", headers={"Accept": BROWSER}).get_data(as_text=True)
    listing = json.loads(client.get("/dumps/", headers={"Accept": "application/json"}).get_data())
    listed = {f["name"]: f for f in listing["files"]}
    for dump in manifest["dumps"]:
        assert f'href="/dumps/{dump["name"]}"' in html and dump["sha256"] in html and str(dump["size"]) in html
        assert listed[dump["name"]]["sha256"] == dump["sha256"]
        served = "application/gzip" if dump["compressed"] else dump["media_type"]
        assert listed[dump["name"]]["media_type"] == served
    assert {"void.ttl", "SHA256SUMS", "kg.nt.gz", "kg.trig.gz"} <= set(listed)


@pytest.mark.parametrize(
    ("name", "media_type"),
    [
        ("kg.ttl", "text/turtle"),
        ("kg.nt", "application/n-triples"),
        ("kg.jsonld", "application/ld+json"),
        ("kg.trig", "application/trig"),
        ("void.ttl", "text/turtle"),
        ("SHA256SUMS", "text/plain"),
    ],
)
def test_dump_downloads_are_the_files(client: Any, built: Path, name: str, media_type: str) -> None:
    response = client.get(f"/dumps/{name}")
    assert response.status_code == 200 and response.mimetype == media_type
    assert response.get_data() == (built / name).read_bytes()


@pytest.mark.parametrize(
    "path",
    [
        "/dumps/..%2Fbuild.json",
        "/dumps/../build.json",
        "/dumps/%2e%2e/build.json",
        "/dumps/build.json",
        "/dumps/store",
        "/dumps/..%2F..%2Fetc%2Fpasswd",
        "/dumps/kg.ttl/..",
        "/dumps/" + quote(str(Path("/etc/passwd")), safe=""),
    ],
)
def test_dump_traversal_is_404(client: Any, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert b"root:" not in response.get_data() and b'"build"' not in response.get_data()


def test_well_known_void(client: Any, built: Path) -> None:
    turtle = client.get("/.well-known/void")
    assert turtle.get_data() == (built / "void.ttl").read_bytes()
    jsonld = client.get("/.well-known/void", headers={"Accept": "application/ld+json"})
    graph = Graph().parse(data=jsonld.get_data(), format="json-ld")
    assert (URIRef(BASE + "dataset"), RDF.type, VOID.Dataset) in graph


def test_health(client: Any, built: Path) -> None:
    response = client.get("/health")
    body = json.loads(response.get_data())
    assert response.status_code == 200 and body["status"] == "ok"
    assert body["build"] == json.loads((built / "build.json").read_text())["build"]


def test_get_without_a_server(settings: Settings) -> None:
    status, headers, body = get(settings, "/sparql?query=" + quote(SELECT_NAMES), "text/csv")
    assert status == 200 and headers["Content-Type"].startswith("text/csv")
    assert "Rand Paul" in body.decode()
    status, _, body = get(settings, ARTICLE, "text/turtle")
    assert status == 200 and HEADLINE.encode() in body


# --- escaping -------------------------------------------------------------------------------

SCRIPT_ARTICLE = """Breaking &lt;script&gt;alert("kg")&lt;/script&gt; news from Paris

By Jane Doe

August 6, 2018

Emmanuel Macron met Angela Merkel in Paris on Monday. The &lt;b onmouseover="x()"&gt;talks&lt;/b&gt; went well.

They agreed to meet again in Berlin next month.
"""


@pytest.fixture(scope="module")
def script_client(tmp_path_factory: pytest.TempPathFactory, extractor: SpacyExtractor) -> Any:
    """A client for a one-article store whose headline and body hold markup."""
    root = tmp_path_factory.mktemp("script")
    (root / "raw").mkdir()
    (root / "raw" / "xss.txt").write_text(SCRIPT_ARTICLE, encoding="utf-8")
    old = os.environ.get("SOURCE_DATE_EPOCH")
    os.environ["SOURCE_DATE_EPOCH"] = SEED_EPOCH
    try:
        settings = Settings(raw_dir=root / "raw", out_dir=root / "out", authority_file=root / "none.csv")
        build(settings, extractor=extractor)
    finally:
        os.environ.pop("SOURCE_DATE_EPOCH", None)
        if old is not None:
            os.environ["SOURCE_DATE_EPOCH"] = old
    return create_app(settings).test_client()


@pytest.mark.parametrize(
    "path", ["/article/xss", "/", "/sparql?query=" + quote("SELECT ?h WHERE { ?a schema:headline ?h }")]
)
def test_html_escapes_what_the_data_says(script_client: Any, path: str) -> None:
    response = script_client.get(path, headers={"Accept": "text/html"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "&lt;script&gt;alert(" in html
    scripts = re.findall(r"<script[^>]*>", html)
    editor = [s for s in scripts if re.fullmatch(r'<script src="/static/[^"]+" defer>', s)]  # /sparql's own files
    assert len(scripts) - len(editor) == html.count('<script type="application/ld+json">') <= 1  # data only
    assert "<script>" not in html and "</script><" not in html.replace("</script>\n</head>", "")
    assert "<b onmouseover" not in html


def test_turtle_keeps_the_markup_as_data(script_client: Any) -> None:
    graph = Graph().parse(data=script_client.get("/article/xss.ttl").get_data(), format="turtle")
    assert Literal('Breaking <script>alert("kg")</script> news from Paris') in set(graph.objects(None, SCHEMA.headline))


def test_app_refuses_a_missing_build(tmp_path: Path) -> None:
    from kg.web.app import create_app

    with pytest.raises(FileNotFoundError, match="run `kg build` first"):
        create_app(Settings(out_dir=tmp_path / "nothing"))


def test_unexpected_errors_show_no_traceback(built: Path, tmp_path: Path) -> None:
    import shutil

    from kg.web.app import create_app

    out = tmp_path / "out"
    shutil.copytree(built, out)
    app = create_app(Settings(out_dir=out))
    shutil.rmtree(out / "store")  # the store vanishes under the running app
    (out / "build.json").write_text("{", encoding="utf-8")
    client = app.test_client()

    @app.route("/boom")
    def boom() -> str:
        raise RuntimeError("secret internals")

    response = client.get("/boom", headers={"Accept": "text/html"})
    assert response.status_code == 500
    body = response.get_data(as_text=True)
    assert "Traceback" not in body and "secret internals" not in body
    assert "internal error" in body


def test_validators_and_304(client: Any) -> None:
    """Generated responses carry a weak ETag and the build's Last-Modified; a conditional
    request that matches gets 304 with no body."""
    first = client.get("/dataset", headers={"Accept": "text/turtle"})
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert etag.startswith('W/"') and modified.endswith("GMT")
    again = client.get("/dataset", headers={"Accept": "text/turtle", "If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b""
    since = client.get("/dataset", headers={"Accept": "text/turtle", "If-Modified-Since": modified})
    assert since.status_code == 304
    other = client.get("/dataset", headers={"Accept": "application/ld+json", "If-None-Match": etag})
    assert other.status_code == 200  # another representation, another ETag
    health = client.get("/health")
    assert "ETag" not in health.headers and health.headers["Cache-Control"] == "no-store"


def test_gzip_when_the_client_takes_it(client: Any) -> None:
    plain = client.get("/dataset", headers={"Accept": "text/turtle"})
    packed = client.get("/dataset", headers={"Accept": "text/turtle", "Accept-Encoding": "gzip, deflate"})
    assert "Content-Encoding" not in plain.headers
    assert packed.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(packed.get_data()) == plain.get_data()
    assert int(packed.headers["Content-Length"]) == len(packed.get_data()) < len(plain.get_data())
    assert {"Accept", "Accept-Encoding"} <= set(packed.headers["Vary"].replace(" ", "").split(","))
    assert packed.headers["ETag"] == plain.headers["ETag"]


def test_pages_embed_their_resource_as_json_ld(client: Any) -> None:
    """The JSON-LD block of a page parses (rdflib, not the writer) to the resource's own
    statements, which its Turtle twin also has."""
    html = client.get("/person/rand-paul", headers={"Accept": "text/html"}).get_data(as_text=True)
    block = html.split('<script type="application/ld+json">', 1)[1].split("</script>", 1)[0]
    embedded = Graph().parse(data=block, format="json-ld")
    twin = Graph().parse(data=client.get("/person/rand-paul.ttl").get_data(as_text=True), format="turtle")
    person = URIRef(BASE + "person/rand-paul")
    assert (person, SCHEMA.name, Literal("Rand Paul")) in embedded
    assert len(embedded) > 3 and all(triple in twin for triple in embedded)


def test_embedded_json_ld_cannot_close_the_script(script_client: Any) -> None:
    html = script_client.get("/article/xss", headers={"Accept": "text/html"}).get_data(as_text=True)
    block = html.split('<script type="application/ld+json">', 1)[1].split("</script>", 1)[0]
    assert "<" not in block and "\\u003cscript\\u003e" in block
    headline = json.loads(block)
    assert "<script>alert(" in json.dumps(headline, ensure_ascii=False)  # the data itself is kept


def test_entity_page_shows_co_mentions_and_timeline(client: Any) -> None:
    html = client.get("/person/rand-paul", headers={"Accept": "text/html"}).get_data(as_text=True)
    with_section = html.split("<h2>Mentioned with</h2>", 1)[1].split("</section>", 1)[0]
    assert '<a href="/person/vladimir-putin">Vladimir Putin</a> <span class="note">in 2 articles</span>' in with_section
    assert "/person/rand-paul" not in with_section  # not itself
    news = html.split("<h2>In the news", 1)[1].split("</section>", 1)[0]
    assert '<th scope="row">2018-08</th><td><meter min="0" max="2" value="2">2</meter></td>' in news
    article = client.get("/article/000_45883e71d61e1347", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert "Mentioned with" not in article  # only for things articles mention


def test_validation_report_page_and_twins(client: Any, built: Path) -> None:
    page = client.get("/validation", headers={"Accept": "text/html"})
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "<strong>conforms</strong>" in html
    assert "<h2>003_aa63f568c318a167.txt</h2>" in html and "Article has no author" in html
    turtle = client.get("/validation", headers={"Accept": "text/turtle"})
    assert turtle.mimetype == "text/turtle"
    report = Graph().parse(data=turtle.get_data(as_text=True), format="turtle")
    assert isomorphic(report, Graph().parse(built / "validation.ttl", format="turtle"))
    as_json = client.get("/validation?format=json")
    assert json.loads(as_json.get_data())["counts"] == {"violation": 0, "warning": 2, "info": 2}
    assert client.get("/validation?format=xml").status_code == 406
    home = client.get("/", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert 'SHACL validation of this build:\n  <a href="/validation">conforms</a>' in home
    assert "validation.ttl" in client.get("/dumps/", headers={"Accept": "application/json"}).get_data(as_text=True)


def test_mentioned_in_is_paged(client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from kg.web import pages

    monkeypatch.setattr(pages, "MENTIONED_IN_CAP", 1)  # one article per page: Rand Paul has two
    first = client.get("/person/rand-paul", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert "Articles 1–1 of 2 (page 1 of 2)" in first and 'rel="next" href="/person/rand-paul?page=2"' in first
    second = client.get("/person/rand-paul?page=2", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert "Articles 2–2 of 2 (page 2 of 2)" in second and 'rel="prev" href="/person/rand-paul"' in second
    shown = [page.split("<h2>Mentioned in", 1)[1].split("</ul>", 1)[0] for page in (first, second)]
    assert shown[0] != shown[1]
    assert client.get("/person/rand-paul?page=3").status_code == 404
    assert client.get("/person/rand-paul?page=0").status_code == 400
    assert client.get("/person/rand-paul?page=x").status_code == 400


def test_home_lists_each_dump_with_size_and_checksum(client: Any, built: Path) -> None:
    from kg.dumps import read_checksums

    html = client.get("/", headers={"Accept": "text/html"}).get_data(as_text=True)
    downloads = html[html.index("<h2>Downloads") : html.index("<h2>Articles")]
    for name, digest in read_checksums(built).items():
        if name.startswith("kg."):
            assert f'href="/dumps/{name}"' in downloads
            assert digest in downloads
            assert f">{(built / name).stat().st_size}<" in downloads


def test_evidence_from_minted_spans_is_the_evidence_of_every_annotation(built: Path) -> None:
    """An entity page reads the text span and the selectors from kg's annotation IRIs to
    look up only the quotes it shows; the result is what looking up every annotation by
    following its target and selectors gives."""
    from kg.iris import Minter
    from kg.store.oxigraph import OxigraphStore
    from kg.web.describe import evidence_for

    manifest = json.loads((built / "build.json").read_text(encoding="utf-8"))
    minter = Minter(manifest["base_iri"])
    store = OxigraphStore(built / "store")
    try:
        query = (
            "SELECT ?e ?a ?g WHERE { GRAPH ?g { ?m <http://www.w3.org/ns/oa#hasBody> ?e ; "
            "<http://www.w3.org/ns/oa#hasTarget>/<http://www.w3.org/ns/oa#hasSource> ?a } } "
            "GROUP BY ?e ?a ?g HAVING (COUNT(?m) > 2) ORDER BY ?e ?a"
        )
        rows = [(r["e"].value, r["a"].value, r["g"].value) for r in store.query(query, dataset_in_query=True)]
        assert rows, "the seeds have entities mentioned three times or more in one article"
        for entity, article, graph in rows:
            slow = evidence_for(store, entity, {article: graph}, 2)
            fast = evidence_for(store, entity, {article: graph}, 2, minter)
            assert fast == slow and slow[article][0] > 2 and len(slow[article][1]) == 2
        assert minter.mention_span(minter.mention("a-1", 5, 12)) == (5, 12)
        assert minter.mention_span(str(minter.mention_part("a-1", 5, 12, "quote"))) is None
        assert minter.mention_span("http://elsewhere.example/article/a/mention/1-2") is None
        assert minter.mention_selectors(minter.mention("a-1", 5, 12)) == (
            str(minter.mention_part("a-1", 5, 12, "position")),
            str(minter.mention_part("a-1", 5, 12, "quote")),
        )
    finally:
        store.close()


def test_entity_pages_from_build_summaries_are_the_live_pages(
    tmp_path: Path, extractor: SpacyExtractor, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With summary_from 1 the build works out every mentioned entity's summary
    (summaries.json and summary-pages.txt, listed in SHA256SUMS); each page made with it is
    byte for byte the page asked of the store, every page (one article a page here) without
    asking the store who links to the entity."""
    import kg.summaries
    from kg.summaries import PAGES_FILE, SUMMARIES_FILE, read_summaries
    from kg.web import pages

    monkeypatch.setenv("SOURCE_DATE_EPOCH", SEED_EPOCH)
    monkeypatch.setattr(kg.summaries, "PAGE_SIZE", 1)
    monkeypatch.setattr(pages, "MENTIONED_IN_CAP", 1)
    out = tmp_path / "out"
    settings = Settings(raw_dir=Path(__file__).parent.parent / "raw", out_dir=out, summary_from=1)
    build(settings, extractor=extractor)
    summaries = read_summaries(out / SUMMARIES_FILE)
    assert len(summaries) > 20
    listed = (out / "SHA256SUMS").read_text(encoding="utf-8")
    assert SUMMARIES_FILE in listed and PAGES_FILE in listed
    base = settings.base_iri
    app = create_app(settings)
    site = app.extensions["kg"].site
    client = app.test_client()
    later_pages = 0
    for iri, summary in sorted(summaries.items()):
        assert site.summary(iri) == summary
        mentioned = next(g.total for g in summary.incoming if g.predicate == str(SCHEMA.mentions))
        for page in range(1, mentioned + 2):  # and one past the end
            path = "/" + iri[len(base) :] + (f"?page={page}" if page > 1 else "")
            with monkeypatch.context() as patched:
                for name in ("incoming", "co_mentioned", "timeline", "paged_subjects"):  # none may ask the store
                    patched.setattr(pages, name, _must_not_be_called)
                from_summary = client.get(path, headers={"Accept": "text/html"})
            site._summaries = {}  # the store only
            live = client.get(path, headers={"Accept": "text/html"})
            site._summaries = None  # read the file again
            assert from_summary.status_code == live.status_code == (200 if page <= mentioned else 404), path
            assert from_summary.get_data() == live.get_data(), path
            later_pages += 1 < page <= mentioned
    assert later_pages > 5


def _must_not_be_called(*args: object, **kwargs: object) -> None:
    raise AssertionError("a page with a build summary asked the store")


def test_home_page_from_the_build_listing_is_the_live_page(built: Path, tmp_path: Path, settings: Settings) -> None:
    """The build keeps the home page's lists in summaries.json (the queries take seconds at
    100,000 articles); the page made from them is byte for byte the page asked of the store,
    and a build without them still gets its home page from the store."""
    from kg.iris import Minter
    from kg.store.oxigraph import OxigraphStore
    from kg.summaries import SUMMARIES_FILE, home_listing, read_home

    kept = read_home(built / SUMMARIES_FILE)
    assert kept is not None
    store = OxigraphStore(built / "store", read_only=True)
    try:
        assert kept == home_listing(store, Minter(BASE))
    finally:
        store.close()
    assert HEADLINE in [a.headline for a in kept.articles] and not kept.more_articles
    assert [g.kind for g in kept.groups] == ["person", "organization", "place", "event"][: len(kept.groups)]
    assert all(g.total == len(g.entities) for g in kept.groups)  # the seeds are far below the cap
    copy = tmp_path / "out"
    shutil.copytree(built, copy)
    data = json.loads((copy / SUMMARIES_FILE).read_text(encoding="utf-8"))
    del data["home"]
    (copy / SUMMARIES_FILE).write_text(json.dumps(data), encoding="utf-8")
    assert read_home(copy / SUMMARIES_FILE) is None
    with_listing = create_app(settings.replace(response_cache_mb=0)).test_client()
    live = create_app(settings.replace(out_dir=copy, response_cache_mb=0)).test_client()
    page = with_listing.get("/", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert page.get_data() == live.get("/", headers={"Accept": "text/html"}).get_data()


def test_validation_page_counts_each_message_and_lists_a_bounded_number(
    client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At 100,000 articles the report holds 300,000 results (134 MB of JSON): the page counts
    each message and lists the first VALIDATION_CAP results, violations first, pointing to
    the full reports for the rest."""
    from kg.web import dumps

    full = client.get("/validation", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert "<h2>What it says</h2>" in full and "more are in the full report" not in full
    assert re.search(r"Article has no author</td><td>1</td>", full)
    assert full.index("Article has no publisher</td>") < full.index("Article has no dateline</td>")  # warnings first
    monkeypatch.setattr(dumps, "VALIDATION_CAP", 1)
    capped = client.get("/validation?format=html").get_data(as_text=True)  # not the page kept above
    assert capped.count('<li><span class="severity') == 1
    assert "The first 1 results are listed below, violations first; 3 more are in the full report" in capped


def test_a_property_with_more_values_than_a_page_shows(
    client: Any, built: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The build's prov:used links every raw file (100,000 at 100,000 articles: a 16 MB page
    in 11 s before). A page shows LABELLED values of a property and says how many more; the
    Turtle twin has them all, with the labels of the first LABELLED; the embedded JSON-LD
    leaves the property out."""
    from kg.web import describe, pages, views

    for module in (describe, pages):
        monkeypatch.setattr(module, "LABELLED", 1)
    monkeypatch.setattr(views, "VALUES_SHOWN", 1)
    build = json.loads((built / "build.json").read_text())["build"].removeprefix(BASE)
    page = client.get(f"/{build}", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert "and 1 more (all in the data" in page
    used = re.search(r"<th scope=\"row\">.*?used.*?</th>\s*<td>(.*?)</td>", page, re.S)
    assert used is not None and used.group(1).count('<a href="/source/') == 1
    script = page.split('<script type="application/ld+json">', 1)[1].split("</script>", 1)[0]
    assert "/source/" not in script and "prov" in script  # the other properties are still there
    turtle = Graph().parse(data=client.get(f"/{build}.ttl").get_data(as_text=True), format="turtle")
    prov_used = URIRef("http://www.w3.org/ns/prov#used")
    sources = list(turtle.objects(URIRef(BASE + build), prov_used))
    assert len(sources) == 2
    labelled = [s for s in sources if (s, SCHEMA.name, None) in turtle]
    assert len(labelled) == 1
