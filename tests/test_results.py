"""SPARQL results as /sparql and `kg query` write them: the JSON text kg puts together is
the bytes json.dumps writes for the W3C document, and says what pyoxigraph's own JSON says."""

from __future__ import annotations

import json
import random
from typing import Any

import pyoxigraph as ox
import pytest

from kg.query import QueryOutcome, run_query, serialize_results
from kg.settings import Settings
from kg.store.oxigraph import OxigraphStore

_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"


def _w3c_json(term: Any) -> dict[str, str]:
    """A value as the SPARQL 1.1 Query Results JSON Format writes it."""
    if isinstance(term, ox.NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, ox.BlankNode):
        return {"type": "bnode", "value": term.value}
    if term.language:
        return {"type": "literal", "value": term.value, "xml:lang": term.language}
    if term.datatype.value != _XSD_STRING:
        return {"type": "literal", "value": term.value, "datatype": term.datatype.value}
    return {"type": "literal", "value": term.value}


def _expected(outcome: QueryOutcome) -> bytes:
    doc: dict[str, Any] = {"head": {"vars": outcome.variables}}
    if outcome.kind == "ask":
        doc["boolean"] = bool(outcome.boolean)
    else:
        doc["results"] = {
            "bindings": [
                {v: _w3c_json(t) for v, t in zip(outcome.variables, row, strict=True) if t is not None}
                for row in outcome.rows
            ]
        }
    return json.dumps(doc, ensure_ascii=False).encode("utf-8")


def _random_text(rng: random.Random) -> str:
    alphabet = ["a", " ", '"', "\\", "\n", "\t", "\x00", "\x1f", "\x7f", "é", "\u2028", "\U0001f600", "/", "<"]
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 10)))


def _random_term(rng: random.Random) -> Any:
    roll = rng.random()
    if roll < 0.15:
        return None
    if roll < 0.35:
        return ox.NamedNode("http://x.org/" + rng.choice(["a", "é", "%20", "q?x=1"]))
    if roll < 0.45:
        return ox.BlankNode(rng.choice(["b0", "x1"]))
    if roll < 0.65:
        return ox.Literal(_random_text(rng), language=rng.choice(["en", "en-gb"]))
    if roll < 0.8:
        return ox.Literal(_random_text(rng), datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer"))
    return ox.Literal(_random_text(rng))


@pytest.mark.parametrize("seed", range(20))
def test_json_results_are_the_bytes_json_dumps_writes(seed: int) -> None:
    rng = random.Random(seed)
    names = [rng.choice(["a", "é", "x_1", "Ω"]) + str(i) for i in range(rng.randint(0, 4))]
    rows = [[_random_term(rng) for _ in names] for _ in range(rng.randint(0, 30))]
    select = QueryOutcome("select", names, rows, None, [], False, 0.0)
    assert serialize_results(select, "json") == _expected(select)
    for boolean in (True, False):
        ask = QueryOutcome("ask", [], [], boolean, [], False, 0.0)
        assert serialize_results(ask, "json") == _expected(ask)


QUERIES = [
    "SELECT ?s ?p ?o WHERE { ?s ?p ?o } ORDER BY ?s ?p ?o LIMIT 500",
    "SELECT ?a ?body WHERE { ?a <http://schema.org/articleBody> ?body } ORDER BY ?a",
    'SELECT ?x ?none WHERE { { VALUES ?x { "a"@en 1 <urn:x> } } UNION { BIND (BNODE() AS ?x) }'
    " OPTIONAL { ?x <urn:nothing> ?none } }",
    "ASK { ?s ?p ?o }",
    "ASK { <urn:nothing> ?p ?o }",
]


@pytest.mark.parametrize("query", QUERIES)
def test_json_results_say_what_pyoxigraph_says(settings: Settings, query: str) -> None:
    """Over the seed build: kg's JSON parses to pyoxigraph's own JSON results (blank node
    labels aside, which each writer picks, and an ASK's empty list of variables)."""
    store = OxigraphStore(settings.out_dir / "store", read_only=True)
    ours = json.loads(serialize_results(run_query(store, query, settings), "json"))
    raw = ox.Store.read_only(str(settings.out_dir / "store"))
    result = raw.query(query, use_default_graph_as_union=True, base_iri=settings.base_iri + "sparql")
    theirs = json.loads(result.serialize(format=ox.QueryResultsFormat.JSON))

    def without_bnode_labels(doc: dict[str, Any]) -> dict[str, Any]:
        for binding in doc.get("results", {}).get("bindings", []):
            for value in binding.values():
                if value["type"] == "bnode":
                    value["value"] = "_"
        if "boolean" in doc:  # an ASK's head: kg writes "vars": [], pyoxigraph nothing (both allowed)
            doc["head"].setdefault("vars", [])
        return doc

    assert without_bnode_labels(ours) == without_bnode_labels(theirs)
