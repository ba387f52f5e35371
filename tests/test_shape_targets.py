"""Narrowed targets (kg.shape_targets): which shapes get a SPARQL target, which keep their
class target, and that both engines report exactly what the class targets report."""

from __future__ import annotations

import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import SH

from kg.shape_targets import narrowed_targets
from kg.validate import ENGINES, load_shapes, validate
from tests.conftest import ROOT

KGSH = "https://newskg.dev/shapes#"
PREFIXES = """
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix ex: <http://example.org/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
ex:prefixes sh:declare [ sh:prefix "ex" ; sh:namespace "http://example.org/"^^xsd:anyURI ] .
"""
SIMPLE_WHERE = "$this ex:size ?value . FILTER (?value > 10) BIND (ex:size AS ?path)"


def _shape(where: str = SIMPLE_WHERE, extra: str = "", constraint_extra: str = "") -> Graph:
    graph = Graph()
    graph.parse(
        data=PREFIXES
        + f"""
ex:BigShape a sh:NodeShape ; sh:targetClass ex:Box ; sh:name "big" ; sh:message "too big" ;
    sh:sparql [ a sh:SPARQLConstraint ; sh:prefixes ex:prefixes ; {constraint_extra}
        sh:select "SELECT $this ?path ?value WHERE {{ {where} }}" ] {extra} .
""",
        format="turtle",
    )
    return graph


def _narrowed(graph: Graph) -> list[str]:
    return sorted(str(s) for s in narrowed_targets(graph).subjects(SH.target, None))


def test_kg_mention_checks_are_narrowed_and_the_rest_kept() -> None:
    """kg's two per-mention SPARQL checks get SPARQL targets; the future-date check (NOW())
    and every other shape keep their targets; the shapes graph given is not changed."""
    shapes = load_shapes(ROOT / "shapes")
    before = len(shapes)
    narrowed = narrowed_targets(shapes)
    assert _narrowed(shapes) == [f"{KGSH}MentionInsideBodyShape", f"{KGSH}MentionQuoteMatchesShape"]
    assert (URIRef(f"{KGSH}ArticleDateNotInFutureShape"), SH.targetClass, None) in narrowed
    assert (URIRef(f"{KGSH}MentionInsideBodyShape"), SH.targetClass, None) not in narrowed
    assert len(shapes) == before
    assert set(shapes) - set(narrowed) == {
        (URIRef(f"{KGSH}{name}"), SH.targetClass, URIRef("http://www.w3.org/ns/oa#Annotation"))
        for name in ("MentionInsideBodyShape", "MentionQuoteMatchesShape")
    }


def test_a_simple_select_is_narrowed() -> None:
    assert _narrowed(_shape()) == ["http://example.org/BigShape"]


@pytest.mark.parametrize(
    ("where", "extra", "constraint_extra"),
    [
        ("$this ex:size ?value . OPTIONAL { $this ex:cap ?cap } FILTER (!BOUND(?cap))", "", ""),
        ("$this ex:size ?value . FILTER NOT EXISTS { $this ex:ok true }", "", ""),
        ("?value ex:sizeOf $this .", "", ""),  # $this is not the first pattern's subject
        ("$this ex:size ?value . FILTER (?value > NOW())", "", ""),
        ("$this ex:size ?value . FILTER ($currentShape = ex:BigShape)", "", ""),
        (SIMPLE_WHERE, "; sh:property [ sh:path ex:size ; sh:maxCount 1 ]", ""),  # it constrains more
        (SIMPLE_WHERE, "; sh:targetClass ex:Crate", ""),
        (SIMPLE_WHERE, "; a rdfs:Class", ""),  # an implicit class target too
        (SIMPLE_WHERE, "; a <http://www.w3.org/2002/07/owl#Class>", ""),
        (SIMPLE_WHERE, "", "sh:deactivated true ;"),
    ],
    ids=[
        "optional",
        "not-exists",
        "this-not-first",
        "now",
        "current-shape",
        "more",
        "two-classes",
        "class",
        "owl-class",
        "off",
    ],
)
def test_other_shapes_keep_their_class_target(where: str, extra: str, constraint_extra: str) -> None:
    assert _narrowed(_shape(where, extra, constraint_extra)) == []


@pytest.mark.parametrize("engine", ENGINES)
def test_narrowed_targets_report_what_class_targets_report(engine: str) -> None:
    """Instances of the class and of a subclass (through the ontology), too big or not, and
    a thing of another class that is too big (not a focus node): the same results with and
    without narrowing, on both engines."""
    shapes = _shape()
    ontology = Graph().parse(data=PREFIXES + "ex:Crate rdfs:subClassOf ex:Box .", format="turtle")
    data = Graph().parse(
        data=PREFIXES
        + """
ex:b1 a ex:Box ; ex:size 5 .
ex:b2 a ex:Box ; ex:size 50 .
ex:c1 a ex:Crate ; ex:size 70, 3 .
ex:t1 a ex:Tree ; ex:size 90 .
""",
        format="turtle",
    )
    narrowed = validate(data, shapes, ontology, engine=engine)
    plain = validate(data, shapes, ontology, engine=engine, narrow_targets=False)
    assert [r.key for r in narrowed.results] == [r.key for r in plain.results]
    assert sorted((r.focus, r.value) for r in narrowed.results) == [
        ("http://example.org/b2", "50"),
        ("http://example.org/c1", "70"),
    ]
