"""/search: prefix search on names, aliases and headlines, ranked by mentions; HTML and JSON."""

from __future__ import annotations

import json
from typing import Any

import pytest

from kg.search import Hit, SearchIndex, fold

BASE = "http://127.0.0.1:8000/"


def _index() -> SearchIndex:
    return SearchIndex(
        [
            Hit("urn:paul", "Rand Paul", "Person", "Rand Paul", 5),
            Hit("urn:paul", "Rand Paul", "Person", "Sen. Rand Paul", 5),
            Hit("urn:pauline", "Pauline Hanson", "Person", "Pauline Hanson", 9),
            Hit("urn:jose", "José Álvarez", "Person", "José Álvarez", 1),
            Hit("urn:moscow", "Moscow", "City", "Moscow", 3),
        ]
    )


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("paul", ["urn:pauline", "urn:paul"]),  # any word of a name; most mentioned first
        ("RAND", ["urn:paul"]),  # case ignored
        ("sen. rand", ["urn:paul"]),  # an alias
        ("jose alv", ["urn:jose"]),  # accents ignored
        ("  moscow  ", ["urn:moscow"]),
        ("oscow", []),  # prefixes of words only
        ("", []),
    ],
)
def test_prefix_search(query: str, expected: list[str]) -> None:
    assert [h.iri for h in _index().search(query)] == expected


def test_one_hit_per_thing_showing_its_label() -> None:
    hits = _index().search("rand")
    assert len(hits) == 1 and hits[0].label == "Rand Paul"
    assert fold("Álvarez") == "alvarez"


def test_search_json_on_the_seed_build(client: Any) -> None:
    answer = client.get("/search.json?q=mosc")
    assert answer.status_code == 200 and answer.mimetype == "application/json"
    results = json.loads(answer.get_data())["results"]
    assert results[0] == {
        "iri": BASE + "place/moscow",
        "label": "Moscow",
        "type": "City",
        "mentions": 2,
        "matched": "Moscow",
        "href": "/place/moscow",
    }
    assert answer.headers["Access-Control-Allow-Origin"] == "*"
    negotiated = client.get("/search?q=mosc", headers={"Accept": "application/json"})
    assert json.loads(negotiated.get_data()) == json.loads(answer.get_data())


def test_search_page_and_box(client: Any) -> None:
    page = client.get("/search?q=paul", headers={"Accept": "text/html"})
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert '<a href="/person/rand-paul">Rand Paul</a>' in html
    assert 'rel="alternate" type="application/json" href="/search.json?q=paul"' in html
    home = client.get("/", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert 'role="search"' in home and 'name="q"' in home  # the box is on every page
    nothing = client.get("/search?q=zzzz", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert "Nothing is called “zzzz”." in nothing


@pytest.mark.parametrize("limit", ["0", "101", "x", "-1"])
def test_bad_limit_is_400(client: Any, limit: str) -> None:
    assert client.get(f"/search.json?q=a&limit={limit}").status_code == 400
    page = client.get(f"/search?q=a&limit={limit}", headers={"Accept": "text/html"})
    assert page.status_code == 400 and "limit must be a whole number" in page.get_data(as_text=True)


def test_html_in_the_query_is_escaped(client: Any) -> None:
    page = client.get("/search?q=%3Cscript%3Ealert(1)%3C/script%3E", headers={"Accept": "text/html"})
    assert "<script>alert(1)" not in page.get_data(as_text=True)


#: The single query the index was built with before (30 s at 100,000 articles): the reference.
REFERENCE = """
SELECT ?thing ?name ?type ?label (COUNT(DISTINCT ?article) AS ?mentions) WHERE {
  { ?thing schema:name ?name } UNION { ?thing schema:alternateName ?name } UNION { ?thing schema:headline ?name }
  ?thing a ?type .
  OPTIONAL { ?thing schema:name|schema:headline ?label }
  OPTIONAL { ?article schema:mentions ?thing }
  FILTER (STRSTARTS(STR(?type), "http://schema.org/"))
  FILTER (?type = schema:NewsArticle || EXISTS { ?any schema:mentions|schema:author|schema:publisher ?thing })
} GROUP BY ?thing ?name ?type ?label
"""


def test_the_index_holds_what_the_reference_query_finds(built: Any) -> None:
    """The four queries joined in Python give the names, types, labels and mention counts
    of the single query they replaced, on the seed build."""
    from kg.store.oxigraph import OxigraphStore

    store = OxigraphStore(built / "store", read_only=True)
    try:
        index = SearchIndex.from_store(store)
        expected = {
            (row["thing"].value, row["name"].value, row["type"].value.rsplit("/", 1)[-1], int(row["mentions"].value))
            for row in store.query(REFERENCE)
        }
        labels = {(row["thing"].value, (row["label"] or row["name"]).value) for row in store.query(REFERENCE)}
    finally:
        store.close()
    hits = index._hits
    assert len(hits) > 50
    assert {(h.iri, h.matched) for h in hits} == {(iri, name) for iri, name, _, _ in expected}
    assert all((h.iri, h.matched, h.type, h.mentions) in expected for h in hits)
    assert all((h.iri, h.label) in labels for h in hits)
