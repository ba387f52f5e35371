"""The web app through Flask's test client: negotiation as a table, pages, SPARQL, dumps."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
from rdflib import Graph, Literal, URIRef

ARTICLE = "/article/000_45883e71d61e1347"
ARTICLE_IRI = "http://127.0.0.1:8000" + ARTICLE
HEADLINE = "Sen. Rand Paul goes to Moscow and invites Russians to Washington in unofficial bid to boost ties"
SCHEMA = "http://schema.org/"


# (path, Accept header, expected status, expected media type)
NEGOTIATION = [
    (ARTICLE, None, 200, "text/html"),
    (ARTICLE, "*/*", 200, "text/html"),
    (ARTICLE, "text/html", 200, "text/html"),
    (ARTICLE, "text/turtle", 200, "text/turtle"),
    (ARTICLE, "application/ld+json", 200, "application/ld+json"),
    (ARTICLE, "application/n-triples", 200, "application/n-triples"),
    (ARTICLE, "application/rdf+xml", 200, "application/rdf+xml"),
    (ARTICLE, "application/x-turtle", 200, "text/turtle"),
    (ARTICLE, "text/turtle;q=0.5, application/ld+json;q=0.9", 200, "application/ld+json"),
    (ARTICLE, "text/html;q=0.1, text/turtle", 200, "text/turtle"),
    (ARTICLE, "image/png", 406, "text/plain"),
    (ARTICLE + ".ttl", "application/ld+json", 200, "text/turtle"),
    (ARTICLE + ".jsonld", None, 200, "application/ld+json"),
    (ARTICLE + ".nt", "text/html", 200, "application/n-triples"),
    (ARTICLE + ".rdf", None, 200, "application/rdf+xml"),
    (ARTICLE + ".html", "text/turtle", 200, "text/html"),
    (ARTICLE + "?format=turtle", "text/html", 200, "text/turtle"),
    (ARTICLE + "?format=jsonld", None, 200, "application/ld+json"),
    (ARTICLE + "?format=png", None, 406, "text/plain"),
    ("/person/rand-paul", "text/turtle", 200, "text/turtle"),
    ("/person/rand-paul.jsonld", None, 200, "application/ld+json"),
    ("/", "text/turtle", 200, "text/turtle"),
    ("/", "text/html", 200, "text/html"),
    ("/no/such/thing", "text/html", 404, "text/html"),
    ("/no/such/thing", "text/turtle", 404, "text/plain"),
    ("/no/such/thing.ttl", None, 404, "text/plain"),
]


@pytest.mark.parametrize(("path", "accept", "status", "media_type"), NEGOTIATION)
def test_negotiation_table(client: Any, path: str, accept: str | None, status: int, media_type: str) -> None:
    headers = {"Accept": accept} if accept else {}
    response = client.get(path, headers=headers)
    assert response.status_code == status
    assert response.mimetype == media_type
    if status in (200, 406) and not path.startswith("/no/"):
        assert response.headers["Vary"] == "Accept"


def test_406_lists_the_offered_types(client: Any) -> None:
    response = client.get(ARTICLE, headers={"Accept": "image/png"})
    body = response.get_data(as_text=True)
    for media in ("text/html", "text/turtle", "application/ld+json", "application/n-triples", "application/rdf+xml"):
        assert media in body


@pytest.mark.parametrize(
    ("accept", "rdflib_format", "ox_format"),
    [
        ("text/turtle", "turtle", ox.RdfFormat.TURTLE),
        ("application/ld+json", "json-ld", ox.RdfFormat.JSON_LD),
        ("application/n-triples", "nt", ox.RdfFormat.N_TRIPLES),
        ("application/rdf+xml", "xml", ox.RdfFormat.RDF_XML),
    ],
)
def test_article_graph_parses_with_two_parsers(client: Any, accept: str, rdflib_format: str, ox_format: Any) -> None:
    body = client.get(ARTICLE, headers={"Accept": accept}).get_data()
    graph = Graph().parse(data=body, format=rdflib_format)
    assert (URIRef(ARTICLE_IRI), URIRef(SCHEMA + "headline"), Literal(HEADLINE)) in graph
    triples = list(ox.parse(body, format=ox_format))
    assert len({(t.subject, t.predicate, t.object) for t in triples}) == len(graph)


def test_head_and_alternate_links(client: Any) -> None:
    head = client.head(ARTICLE, headers={"Accept": "text/turtle"})
    assert head.status_code == 200
    assert head.get_data() == b""
    html = client.get(ARTICLE).get_data(as_text=True)
    assert f'<link rel="alternate" type="text/turtle" href="{ARTICLE}.ttl">' in html
    assert HEADLINE in html
    link = client.get(ARTICLE, headers={"Accept": "text/turtle"}).headers["Link"]
    assert f'<{ARTICLE}.jsonld>; rel="alternate"; type="application/ld+json"' in link


def test_entity_page_lists_articles_by_label(client: Any) -> None:
    html = client.get("/person/rand-paul").get_data(as_text=True)
    assert "<h1>Rand Paul</h1>" in html
    assert HEADLINE in html  # the mentioning article, by its headline
    assert f'href="{ARTICLE}"' in html


def test_home_page(client: Any) -> None:
    html = client.get("/").get_data(as_text=True)
    assert "2 articles" in html
    assert HEADLINE in html
    assert 'href="/sparql"' in html and 'href="/dumps/"' in html


# --- SPARQL -------------------------------------------------------------------------------

SELECT = "SELECT ?h WHERE { ?a a schema:NewsArticle ; schema:headline ?h } ORDER BY ?h"


def test_sparql_get_json(client: Any) -> None:
    response = client.get("/sparql", query_string={"query": SELECT})
    assert response.status_code == 200
    assert response.mimetype == "application/sparql-results+json"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    rows = response.get_json()["results"]["bindings"]
    assert rows[0]["h"]["value"] == HEADLINE


@pytest.mark.parametrize(
    ("accept", "mimetype"),
    [
        ("application/sparql-results+xml", "application/sparql-results+xml"),
        ("text/csv", "text/csv"),
        ("text/tab-separated-values", "text/tab-separated-values"),
    ],
)
def test_sparql_result_formats(client: Any, accept: str, mimetype: str) -> None:
    response = client.post("/sparql", data=SELECT, content_type="application/sparql-query", headers={"Accept": accept})
    assert response.status_code == 200
    assert response.mimetype == mimetype
    text = response.get_data(as_text=True)
    if mimetype == "text/csv":
        assert list(csv.reader(io.StringIO(text)))[1] == [HEADLINE]
    else:
        assert HEADLINE in text


def test_sparql_form_post_and_ask(client: Any) -> None:
    response = client.post("/sparql", data={"query": "ASK { ?x a schema:Person }"})
    assert response.get_json() == {"head": {"vars": []}, "boolean": True}


def test_sparql_construct_as_turtle(client: Any) -> None:
    q = "CONSTRUCT { ?a schema:headline ?h } WHERE { ?a schema:headline ?h }"
    response = client.get("/sparql", query_string={"query": q}, headers={"Accept": "text/turtle"})
    assert response.mimetype == "text/turtle"
    assert len(Graph().parse(data=response.get_data(), format="turtle")) == 2


def test_sparql_default_graph_uri(client: Any) -> None:
    q = "SELECT (COUNT(*) AS ?n) WHERE { ?a schema:headline ?h }"
    graph = "http://127.0.0.1:8000/graph/article/000_45883e71d61e1347"
    one = client.get("/sparql", query_string={"query": q, "default-graph-uri": graph}).get_json()
    assert one["results"]["bindings"][0]["n"]["value"] == "1"


@pytest.mark.parametrize(
    ("kwargs", "status", "message"),
    [
        ({"query_string": {"query": "SELEC ?x"}}, 400, "malformed query"),
        ({"query_string": {"query": "INSERT DATA { <http://a> <http://b> <http://c> }"}}, 403, "read-only"),
        ({"query_string": {"update": "CLEAR ALL"}}, 403, "read-only"),
        ({"query_string": {"query": "SELECT * WHERE { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }"}}, 403, "SERVICE"),
        ({"query_string": {}, "headers": {"Accept": "application/sparql-results+json"}}, 400, "missing"),
        ({"query_string": [("query", "ASK {}"), ("query", "ASK {}")]}, 400, "more than one"),
    ],
)
def test_sparql_errors(client: Any, kwargs: dict[str, Any], status: int, message: str) -> None:
    response = client.get("/sparql", **kwargs)
    assert response.status_code == status
    assert message in response.get_data(as_text=True)


def test_sparql_update_by_post_is_refused(client: Any) -> None:
    response = client.post("/sparql", data="DROP ALL", content_type="application/sparql-update")
    assert response.status_code == 403


def test_sparql_html_form_and_results(client: Any) -> None:
    form = client.get("/sparql", headers={"Accept": "text/html"})
    assert form.status_code == 200 and "<textarea" in form.get_data(as_text=True)
    results = client.get("/sparql", query_string={"query": SELECT}, headers={"Accept": "text/html"})
    assert HEADLINE in results.get_data(as_text=True)


def test_truncated_results_are_flagged(built: Path) -> None:
    from kg.settings import Settings
    from kg.web.app import create_app

    app = create_app(Settings(out_dir=built, result_limit=3))
    response = app.test_client().get("/sparql", query_string={"query": "SELECT * WHERE { ?s ?p ?o }"})
    assert response.headers["X-KG-Truncated"] == "true"
    assert len(response.get_json()["results"]["bindings"]) == 3


# --- dumps, VoID, health --------------------------------------------------------------------


def test_dump_listing_and_downloads(client: Any, built: Path) -> None:
    listing = client.get("/dumps/", headers={"Accept": "application/json"}).get_json()
    assert {d["name"] for d in listing} == {"kg.ttl", "kg.nt", "kg.jsonld", "kg.trig"}
    for name, media in (
        ("kg.ttl", "text/turtle"),
        ("kg.nt", "application/n-triples"),
        ("kg.jsonld", "application/ld+json"),
        ("kg.trig", "application/trig"),
        ("SHA256SUMS", "text/plain"),
    ):
        response = client.get(f"/dumps/{name}")
        assert response.status_code == 200
        assert response.mimetype == media
        assert response.get_data() == (built / name).read_bytes()
    assert "kg.nt" in client.get("/dumps/").get_data(as_text=True)


@pytest.mark.parametrize(
    "path",
    [
        "/dumps/..%2Fbuild.json",
        "/dumps/../build.json",
        "/dumps/build.json",
        "/dumps/store",
        "/dumps/%2e%2e%2fkg.nt",
        "/dumps/.%2E/etc/passwd",
    ],
)
def test_dump_traversal_is_404(client: Any, path: str) -> None:
    assert client.get(path).status_code == 404


def test_void_and_health(client: Any) -> None:
    void = client.get("/.well-known/void")
    assert void.mimetype == "text/turtle"
    graph = Graph().parse(data=void.get_data(), format="turtle")
    assert (URIRef("http://127.0.0.1:8000/dataset"), None, None) in graph
    assert client.get("/.well-known/void", headers={"Accept": "application/ld+json"}).mimetype == "application/ld+json"
    health = client.get("/health").get_json()
    assert health["status"] == "ok" and health["articles"] == 2


def test_html_escapes_hostile_text(tmp_path: Path, extractor: Any) -> None:
    from kg.build import build
    from kg.settings import Settings
    from kg.web.app import create_app

    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "evil.txt").write_text(
        'Breaking <script>alert("x")</script> news & "quotes"\n\nAugust 6, 2018\n\nBody with <b>bold</b> text.\n',
        encoding="utf-8",
    )
    build(Settings(raw_dir=raw, out_dir=tmp_path / "out"), extractor=extractor)
    client = create_app(Settings(out_dir=tmp_path / "out")).test_client()
    html = client.get("/article/evil").get_data(as_text=True)
    assert "<script>" not in html
    assert "Content-Security-Policy" in client.get("/article/evil").headers


def test_app_refuses_missing_build(tmp_path: Path) -> None:
    from kg.settings import Settings
    from kg.web.app import create_app

    with pytest.raises(FileNotFoundError, match="run `kg build` first"):
        create_app(Settings(out_dir=tmp_path / "nothing"))


def test_server_error_has_no_stack_trace(built: Path, tmp_path: Path) -> None:
    from kg.settings import Settings
    from kg.web.app import create_app

    out = tmp_path / "out"
    shutil.copytree(built, out)
    app = create_app(Settings(out_dir=out))
    (out / "void.ttl").write_text("this is not turtle", encoding="utf-8")
    response = app.test_client().get("/.well-known/void")
    assert response.status_code == 500
    body = response.get_data(as_text=True)
    assert "Traceback" not in body and "internal error" in body
    json.dumps(body)
