"""SHACL shapes: every shape has a conforming and a non-conforming fixture; results are
asserted exactly (focus node, path, severity). Also the seed build and input errors."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from concurrent.futures import Future
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import Graph

from kg.reports import format_text
from kg.validate import (
    ENGINES,
    ValidationInputError,
    load_data,
    load_ontology,
    load_quads,
    load_shapes,
    run_validation,
    store_others,
    validate,
    validate_article_text,
    validate_build,
)
from tests.conftest import ROOT

FIXTURES = ROOT / "tests" / "fixtures" / "shapes"
CASES = sorted(p for p in FIXTURES.iterdir() if (p / "data.ttl").is_file())
ARTICLE_003 = "http://127.0.0.1:8000/article/003_aa63f568c318a167"
ARTICLE_000 = "http://127.0.0.1:8000/article/000_45883e71d61e1347"


@pytest.fixture(scope="module")
def shapes() -> Graph:
    return load_shapes(ROOT / "shapes")


@pytest.fixture(scope="module")
def ontology() -> Graph:
    return load_ontology(ROOT / "ontology")


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_shape_fixture(case: Path, engine: str, shapes: Graph, ontology: Graph) -> None:
    """Both engines give exactly the expected results on every fixture."""
    outcome = validate(load_data([case / "data.ttl"]), shapes, ontology, engine=engine)
    got = sorted((r.focus, r.path, r.severity) for r in outcome.results)
    expected = sorted((e["focus"], e["path"], e["severity"]) for e in json.loads((case / "expected.json").read_text()))
    assert got == expected
    assert outcome.conforms == (not any(s == "Violation" for _, _, s in expected))
    assert all(r.message for r in outcome.results), "every result has a message"


@pytest.mark.parametrize("engine", ENGINES)
def test_a_result_keeps_its_value_term_exactly(engine: str, shapes: Graph, ontology: Graph) -> None:
    """sh:value of a result goes into validation.ttl as the very term of the data, also a
    literal with a line break and quotes (rdflib writes those in triple quotes, which the
    report used to keep as a plain literal of the quoted text)."""
    from kg.reports import format_turtle

    lexical = 'not\na "date"'
    data = (FIXTURES / "base.ttl").read_text(encoding="utf-8")
    data = data.replace('"2018-08-06"^^xsd:date', '"""not\na \\"date\\""""^^xsd:date')
    graph = Graph().parse(data=data, format="turtle")
    outcome = validate(graph, shapes, ontology, engine=engine)
    found = [r for r in outcome.results if r.path == "http://schema.org/datePublished" and r.value is not None]
    assert found and all(r.value == lexical for r in found)
    wanted = ox.Literal(lexical, datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#date"))
    report = ox.parse(format_turtle(outcome).encode("utf-8"), format=ox.RdfFormat.TURTLE)
    values = [t.object for t in report if t.predicate.value.endswith("#value")]
    assert values == [wanted] * len(found)


def test_turbo_report_comes_from_the_engine_as_n_triples(
    shapes: Graph, ontology: Graph, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the pinned pyshacl-turbo the report is read from the compiled engine's own
    N-Triples, not through its rdflib decoding (55% of validation time at 100k articles)."""
    from kg.validate import TurboValidator

    def decoded(*args: object, **kwargs: object) -> None:
        raise AssertionError("the report went through rdflib")

    validator = TurboValidator(shapes, ontology)
    monkeypatch.setattr(validator.program, "validate", decoded)
    data = (FIXTURES / "article-no-headline" / "data.ttl").read_text(encoding="utf-8")
    results = validator.results(Graph().parse(data=data, format="turtle").serialize(format="nt"))
    assert [(r.focus, r.path, r.severity) for r in results] == [
        ("http://example.org/a1", "http://schema.org/headline", "Violation")
    ]


def test_every_shape_has_a_name_description_and_message(shapes: Graph) -> None:
    from rdflib.namespace import RDF, SH

    nodes = set(shapes.subjects(RDF.type, SH.NodeShape)) | set(shapes.subjects(SH.path, None))
    nodes |= set(shapes.subjects(RDF.type, SH.SPARQLConstraint))
    for node in nodes:
        for term in (SH.name, SH.description, SH.message):
            assert shapes.value(node, term) is not None, (node, term)


def test_seed_build_conforms_with_warnings_only(built: Path, shapes: Graph, ontology: Graph) -> None:
    outcome = validate(load_data([built / "kg.trig", built / "void.ttl"]), shapes, ontology)
    assert outcome.conforms
    warnings = sorted((r.focus, r.path) for r in outcome.results if r.severity == "Warning")
    assert warnings == [
        (ARTICLE_000, "http://schema.org/publisher"),
        (ARTICLE_003, "http://schema.org/author"),
    ]
    text = format_text(outcome)
    assert "003_aa63f568c318a167.txt" in text
    assert "Article has no author" in text


def test_removed_headline_is_a_violation_naming_the_file(
    built: Path, tmp_path: Path, shapes: Graph, ontology: Graph
) -> None:
    lines = (built / "kg.nt").read_text(encoding="utf-8").splitlines()
    kept = [ln for ln in lines if not ln.startswith(f"<{ARTICLE_003}> <http://schema.org/headline>")]
    path = tmp_path / "kg.nt"
    path.write_text("\n".join(kept) + "\n", encoding="utf-8")
    outcome = validate(load_data([path]), shapes, ontology)
    violations = [(r.focus, r.path) for r in outcome.results if r.severity == "Violation"]
    assert violations == [(ARTICLE_003, "http://schema.org/headline")]
    assert "file: 003_aa63f568c318a167.txt" in format_text(outcome)


def test_broken_data_file_names_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.ttl"
    bad.write_text('@prefix s: <http://schema.org/> .\n\n<http://a> s:name "x" ;\n  s:oops .\n', encoding="utf-8")
    with pytest.raises(ValidationInputError, match=r"bad\.ttl: line \d+"):
        load_data([bad])


def test_broken_shape_file_names_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "x.ttl").write_text("@prefix sh: <http://www.w3.org/ns/shacl#> .\nsh:a sh:b [ .\n", encoding="utf-8")
    with pytest.raises(ValidationInputError, match=r"x\.ttl: line \d+"):
        load_shapes(tmp_path)


def test_missing_input_and_unknown_extension(tmp_path: Path) -> None:
    with pytest.raises(ValidationInputError, match="no such file"):
        load_data([tmp_path / "nope.ttl"])
    (tmp_path / "x.csv").write_text("a,b\n", encoding="utf-8")
    with pytest.raises(ValidationInputError, match="unknown RDF file extension"):
        load_data([tmp_path / "x.csv"])


def test_rdfxml_with_doctype_is_refused_before_parsing(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.rdf"
    bomb.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE rdf [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>\n'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/>\n',
        encoding="utf-8",
    )
    with pytest.raises(ValidationInputError, match="DOCTYPE"):
        load_data([bomb])


def test_jsonld_remote_context_is_refused(tmp_path: Path) -> None:
    doc = tmp_path / "x.jsonld"
    doc.write_text('{"@context": "http://127.0.0.1:9/context.jsonld", "@id": "http://a"}', encoding="utf-8")
    with pytest.raises(ValidationInputError, match="remote JSON-LD"):
        load_data([doc])


def test_all_formats_validate_the_same(built: Path, shapes: Graph, ontology: Graph) -> None:
    results = {}
    for name in ("kg.ttl", "kg.nt", "kg.jsonld", "kg.trig"):
        outcome = validate(load_data([built / name]), shapes, ontology)
        results[name] = sorted((r.focus, r.path, r.severity) for r in outcome.results)
    assert len({json.dumps(v) for v in results.values()}) == 1


def test_broken_ntriples_names_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.nt"
    bad.write_text('<http://a> <http://b> "ok" .\n<http://a> <http://b> "broken .\n', encoding="utf-8")
    with pytest.raises(ValidationInputError, match=r"bad\.nt: line 2: invalid line"):
        load_data([bad])


def test_engines_agree_on_the_seed_build(built: Path, shapes: Graph, ontology: Graph) -> None:
    data = load_data([built / "kg.trig", built / "void.ttl"])
    keys = {engine: [r.key for r in validate(data, shapes, ontology, engine=engine).results] for engine in ENGINES}
    assert keys["pyshacl"] == keys["turbo"]


@pytest.mark.parametrize("engine", ENGINES)
def test_article_by_article_equals_whole_graph(built: Path, shapes: Graph, ontology: Graph, engine: str) -> None:
    """Validating each article graph on its own (in parallel) finds exactly what one
    whole-graph run finds."""
    whole = validate(load_data([built / "kg.trig"]), shapes, ontology, engine=engine)
    quads = load_quads([built / "kg.trig"])
    assert quads is not None
    parts = validate_build(quads, ROOT / "shapes", ROOT / "ontology", engine=engine, jobs=2)
    assert parts.partitions == 3  # two article graphs and the shared context
    assert [r.key for r in parts.results] == [r.key for r in whole.results]
    assert (parts.triples, parts.articles) == (whole.triples, whole.articles)


def test_article_by_article_finds_injected_faults(built: Path, tmp_path: Path) -> None:
    trig = (built / "kg.trig").read_text(encoding="utf-8")
    broken = trig.replace('"2018-08-06"^^xsd:date', '"2999-08-06"^^xsd:date', 1)
    assert broken != trig
    (tmp_path / "kg.trig").write_text(broken, encoding="utf-8")
    quads = load_quads([tmp_path / "kg.trig"])
    assert quads is not None
    outcome = validate_build(quads, ROOT / "shapes", ROOT / "ontology", jobs=1)
    assert [(r.path, r.severity) for r in outcome.results if r.severity == "Violation"] == [
        ("http://schema.org/datePublished", "Violation")
    ]


def test_streamed_files_and_interleaved_graphs_give_the_whole_graph_results(
    built: Path, shapes: Graph, ontology: Graph, tmp_path: Path
) -> None:
    """run_validation streams kg's TriG (article graphs contiguous); N-Quads whose graphs are
    interleaved are grouped in memory instead. Both find what one whole-graph run finds, also
    when the statements outside article graphs come from the build's store."""
    whole = validate(load_data([built / "kg.trig", built / "void.ttl"]), shapes, ontology, engine="pyshacl")
    quads = list(ox.parse(path=str(built / "kg.trig"), format=ox.RdfFormat.TRIG))
    random.Random(7).shuffle(quads)
    shuffled = tmp_path / "shuffled.nq"
    shuffled.write_bytes(ox.serialize(quads, format=ox.RdfFormat.N_QUADS) or b"")
    others = store_others(built / "store")  # what the build passes: the store has every other graph
    for inputs in ([built / "kg.trig", built / "void.ttl"], [shuffled, built / "void.ttl"]):
        for outside in (None, others):
            outcome = run_validation(inputs, ROOT / "shapes", ROOT / "ontology", jobs=1, others=outside)
            assert [r.key for r in outcome.results] == [r.key for r in whole.results]
            assert outcome.partitions == 3
            assert outcome.articles == whole.articles == 2
            assert outcome.triples == whole.triples
            assert all(r.file for r in outcome.results if r.focus.startswith(ARTICLE_003))


def _article_blocks(quads: list[ox.Quad]) -> list[bytes]:
    """Each graph's quads as N-Quads text, lines sorted, graphs in TriG order: what the
    build's DumpSorter.whole_graphs() gives."""
    lines: dict[str, list[bytes]] = {}
    for quad in quads:
        line = (ox.serialize([quad], format=ox.RdfFormat.N_QUADS) or b"").rstrip(b"\n")
        lines.setdefault(f"{quad.graph_name}", []).append(line)
    return [b"\n".join(sorted(lines[g])) + b"\n" for g in sorted(lines, key=lambda g: f"{g}>")]


@pytest.mark.parametrize("late", ["none", "first", "last"])
@pytest.mark.parametrize("engine", ENGINES)
def test_article_graphs_as_text_give_the_whole_graph_results(
    built: Path, shapes: Graph, ontology: Graph, tmp_path: Path, engine: str, late: str
) -> None:
    """validate_article_text (the build's way: article graphs as the N-Quads text it mapped,
    the other statements from the store) finds what one whole-graph run finds, also
    violations (a mention quote changed, an offset beyond the body), with the same counts;
    graphs of other kinds among the blocks are skipped (the store gives them). Also with
    the dataset description given late (as the build does: it is made after the dumps,
    while the article graphs are validated): done before the article graphs are read
    (its part comes first), or only once the last is read (its part is waited for)."""
    quads = list(ox.parse(path=str(built / "kg.trig"), format=ox.RdfFormat.TRIG))
    exact = next(q for q in quads if q.predicate.value.endswith("#exact"))
    end = [q for q in quads if q.predicate.value.endswith("#end")][-1]  # of another mention
    broken = [
        ox.Quad(q.subject, q.predicate, ox.Literal("Somebody Else"), q.graph_name)
        if q == exact
        else ox.Quad(q.subject, q.predicate, ox.Literal("999999", datatype=q.object.datatype), q.graph_name)
        if q == end
        else q
        for q in quads
    ]
    (tmp_path / "broken.nq").write_bytes(ox.serialize(broken, format=ox.RdfFormat.N_QUADS) or b"")
    whole = validate(load_data([tmp_path / "broken.nq", built / "void.ttl"]), shapes, ontology, engine=engine)
    violations = [r for r in whole.results if r.severity == "Violation"]
    assert len(violations) == 2, [r.message for r in violations]
    others = store_others(built / "store")
    blocks = _article_blocks(broken)
    if late != "none":
        void = ox.NamedNode("http://127.0.0.1:8000/graph/void")  # the suite's build's base IRI
        outside = list(others())
        assert any(q.graph_name == void for q in outside)
        later: Future[list[ox.Quad]] = Future()
        if late == "first":
            later.set_result([q for q in outside if q.graph_name == void])

        def reading() -> Iterator[bytes]:
            yield from blocks
            if late == "last":  # once every article graph is read
                later.set_result([q for q in outside if q.graph_name == void])

        outcome = validate_article_text(
            reading(),
            lambda: [q for q in outside if q.graph_name != void],
            ROOT / "shapes",
            ROOT / "ontology",
            engine=engine,
            jobs=1,
            late=later,
        )
    else:
        outcome = validate_article_text(blocks, others, ROOT / "shapes", ROOT / "ontology", engine=engine, jobs=1)
    assert [r.key for r in outcome.results] == [r.key for r in whole.results]
    assert (outcome.partitions, outcome.articles, outcome.triples) == (3, 2, whole.triples)
    assert all(r.file for r in outcome.results if r.focus.startswith(ARTICLE_003))
