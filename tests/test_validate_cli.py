"""kg validate in CI: injected faults reported in all five formats, exit codes under
--fail-on, --output, JUnit read by a JUnit parser, and kg build refusing invalid builds."""

from __future__ import annotations

import gc
import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import Graph

from kg.build import InvalidBuildError, build
from kg.settings import Settings
from kg.validate import ValidationOutcome, ValidationResult
from tests.conftest import RAW, ROOT
from tests.conftest import run_kg as kg

ART = "http://127.0.0.1:8000/article/003_aa63f568c318a167"
ANN = "http://127.0.0.1:8000/article/003_aa63f568c318a167/mention/"


def _inject(built: Path, tmp_path: Path, fault: str) -> Path:
    """A copy of the seed build's N-Quads-free N-Triples with one fault injected."""
    lines = (built / "kg.nt").read_text(encoding="utf-8").splitlines()
    mention = next(
        ln.split(" ")[0][1:-1].rsplit("/", 1)[0]
        for ln in lines
        if ln.startswith(f"<{ANN}") and "/position> <http://www.w3.org/ns/oa#end>" in ln
    )
    if fault == "headline":
        lines = [ln for ln in lines if not ln.startswith(f"<{ART}> <http://schema.org/headline>")]
    elif fault == "future-date":
        lines = [
            ln.replace('"2018-08-06"', '"2999-08-06"') if ln.startswith(f"<{ART}> <http://schema.org/datePub") else ln
            for ln in lines
        ]
    elif fault == "malformed-date":
        lines = [
            ln.replace('"2018-08-06"', '"2018-13-45"') if ln.startswith(f"<{ART}> <http://schema.org/datePub") else ln
            for ln in lines
        ]
    elif fault == "offsets":
        lines = [
            re.sub(r'"\d+"', '"99999"', ln)
            if ln.startswith(f"<{mention}/position> <http://www.w3.org/ns/oa#end>")
            else ln
            for ln in lines
        ]
    elif fault == "quote":
        lines = [
            re.sub(r'"[^"]*"', '"not the text"', ln)
            if ln.startswith(f"<{mention}/quote> <http://www.w3.org/ns/oa#exact>")
            else ln
            for ln in lines
        ]
    elif fault == "source":
        lines = [ln for ln in lines if not ln.startswith(f"<{ART}> <http://www.w3.org/ns/prov#wasDerivedFrom>")]
    elif fault == "sha256":
        lines = [ln for ln in lines if "<http://schema.org/sha256>" not in ln or "003_aa63" not in ln]
    path = tmp_path / f"{fault}.nt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


#: fault -> (focus starts with, path) of the one Violation it must cause
FAULTS = {
    "headline": (ART, "http://schema.org/headline"),
    "future-date": (ART, "http://schema.org/datePublished"),
    "malformed-date": (ART, "http://schema.org/datePublished"),
    "offsets": (ANN, "http://www.w3.org/ns/oa#hasTarget"),
    "quote": (ANN, "http://www.w3.org/ns/oa#hasTarget"),
    "source": (ART, "http://www.w3.org/ns/prov#wasDerivedFrom"),
    "sha256": ("http://127.0.0.1:8000/source/003_aa63f568c318a167", "http://schema.org/sha256"),
}


@pytest.mark.parametrize("fault", FAULTS)
def test_injected_fault_in_all_five_formats(built: Path, tmp_path: Path, fault: str) -> None:
    data = _inject(built, tmp_path, fault)
    focus, path = FAULTS[fault]
    as_json = kg("validate", str(data), "--format", "json")
    assert as_json.returncode == 1, as_json.stderr
    violations = [r for r in json.loads(as_json.stdout)["results"] if r["severity"] == "violation"]
    assert [(r["focus"].startswith(focus), r["path"]) for r in violations] == [(True, path)]
    text = kg("validate", str(data))
    assert text.returncode == 1 and "VIOLATION" in text.stdout
    assert "003_aa63f568c318a167.txt" in text.stdout or fault == "source"
    turtle = kg("validate", str(data), "--format", "turtle")
    from rdflib import Graph
    from rdflib.namespace import SH

    report = Graph().parse(data=turtle.stdout, format="turtle")
    assert len(list(report.subjects(SH.resultSeverity, SH.Violation))) == 1
    junit = kg("validate", str(data), "--format", "junit")
    assert junit.stdout.count("<failure") == 2  # the shape x focus case and the overall case
    github = kg("validate", str(data), "--format", "github")
    errors = [ln for ln in github.stdout.splitlines() if ln.startswith("::error")]
    assert len(errors) == 1
    if fault != "source":
        assert errors[0].startswith("::error file=raw/003_aa63f568c318a167.txt,")


def test_junit_reads_with_a_junit_parser(built: Path, tmp_path: Path) -> None:
    from junitparser import Failure, JUnitXml

    data = _inject(built, tmp_path, "headline")
    out = tmp_path / "report.xml"
    run = kg("validate", str(data), "--format", "junit", "--output", str(out))
    assert run.returncode == 1
    xml = JUnitXml.fromfile(str(out))
    cases = [case for suite in xml for case in suite]
    failed = [case for case in cases if any(isinstance(r, Failure) for r in case.result)]
    assert len(failed) == 2
    assert any("Article has no headline" in (r.message or "") for case in failed for r in case.result)


@pytest.mark.parametrize(("fail_on", "code"), [("violation", 0), ("warning", 1), ("info", 1)])
def test_fail_on(built: Path, fail_on: str, code: int) -> None:
    assert kg("validate", "--out", str(built), "--fail-on", fail_on).returncode == code


def test_output_file_and_engines_agree(built: Path, tmp_path: Path) -> None:
    results = {}
    for engine in ("pyshacl", "turbo"):
        out = tmp_path / f"{engine}.json"
        run = kg("validate", "--out", str(built), "--format", "json", "--engine", engine, "--output", str(out))
        assert run.returncode == 0 and run.stdout == ""
        doc = json.loads(out.read_text(encoding="utf-8"))
        assert doc["engine"] == engine
        results[engine] = [(r["focus"], r["path"], r["severity"], r["message"]) for r in doc["results"]]
    assert results["pyshacl"] == results["turbo"]


def test_unreadable_shapes_exit_2(built: Path, tmp_path: Path) -> None:
    shapes = tmp_path / "shapes"
    shutil.copytree(ROOT / "shapes", shapes)
    (shapes / "broken.ttl").write_text("@prefix sh: <http://www.w3.org/ns/shacl#> .\nsh:x sh:y [ .\n", encoding="utf-8")
    run = kg("validate", "--out", str(built), "--shapes", str(shapes))
    assert run.returncode == 2
    assert re.search(r"broken\.ttl: line \d+", run.stderr)


def _strict_shapes(tmp_path: Path) -> Path:
    """The project's shapes plus one no kg build satisfies: every article needs a
    copyright year (kg's reader refuses the bad raw files that would break the real shapes)."""
    shapes = tmp_path / "shapes"
    shutil.copytree(ROOT / "shapes", shapes)
    (shapes / "strict.ttl").write_text(
        """@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix schema: <http://schema.org/> .
<https://example.org/shapes#CopyrightYear> a sh:NodeShape ;
    sh:targetClass schema:NewsArticle ;
    sh:property [ sh:path schema:copyrightYear ; sh:minCount 1 ; sh:severity sh:Violation ;
                  sh:message "Article has no copyright year" ] .
""",
        encoding="utf-8",
    )
    return shapes


def test_build_refuses_an_invalid_build_and_keeps_the_old_one(built: Path, tmp_path: Path, extractor: object) -> None:
    out = tmp_path / "out"
    shutil.copytree(built, out)
    before = (out / "kg.nt").read_bytes()
    settings = Settings(raw_dir=RAW, out_dir=out, shapes_dir=_strict_shapes(tmp_path))
    with pytest.raises(InvalidBuildError, match="2 SHACL violation") as refused:
        build(settings, extractor=extractor)  # type: ignore[arg-type]
    assert "Article has no copyright year" in refused.value.report
    assert (out / "kg.nt").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [".out.cache", ".out.lock", "out", "shapes"]
    assert gc.get_freeze_count() == 0, "the build froze its heap while it ran and must thaw it when it fails"


def test_build_allow_invalid_publishes_with_the_report(tmp_path: Path, extractor: object) -> None:
    result = build(
        Settings(raw_dir=RAW, out_dir=tmp_path / "out", shapes_dir=_strict_shapes(tmp_path)),
        extractor=extractor,  # type: ignore[arg-type]
        allow_invalid=True,
    )
    assert result.validation["violations"] == 2
    report = json.loads((tmp_path / "out" / "validation.json").read_text(encoding="utf-8"))
    assert report["conforms"] is False
    violations = [r for r in report["results"] if r["severity"] == "violation"]
    assert sorted(r["file"] for r in violations) == ["000_45883e71d61e1347.txt", "003_aa63f568c318a167.txt"]


def test_future_dated_raw_file_is_left_out_of_the_build(tmp_path: Path, extractor: object) -> None:
    raw = tmp_path / "raw"
    shutil.copytree(RAW, raw)
    (raw / "future.txt").write_text("A story from the future\n\nAugust 6, 2999\n\nMOSCOW — Nothing yet.\n")
    result = build(Settings(raw_dir=raw, out_dir=tmp_path / "out"), extractor=extractor)  # type: ignore[arg-type]
    assert [Path(p.file).name for p in result.problems] == ["future.txt"]
    assert result.problems[0].reason.startswith("dated 2999-08-06, after the build date ")
    assert result.articles == 2 and result.validation["violations"] == 0


def test_ci_examples_exist_and_run_kg_validate() -> None:
    workflow = (ROOT / "examples" / "github-actions-validate.yml").read_text(encoding="utf-8")
    assert "kg validate --format github" in workflow
    hook = (ROOT / "examples" / ".pre-commit-hooks.yaml").read_text(encoding="utf-8")
    assert "kg validate" in hook


def test_a_build_folder_stands_for_its_graph(built: Path) -> None:
    """`kg validate out/` validates kg.trig + void.ttl, not every dump again (they are the
    same statements, and rdflib would rewrite their times, making false duplicates)."""
    folder = kg("validate", str(built), "--format", "json")
    default = kg("validate", "--out", str(built), "--format", "json")
    assert folder.returncode == default.returncode == 0, folder.stdout[-2000:]
    assert json.loads(folder.stdout) == json.loads(default.stdout)


def _rdflib_report(outcome: ValidationOutcome) -> Graph:
    """The sh:ValidationReport of an outcome, made the plain way (rdflib, in memory)."""
    from rdflib import BNode, Literal, URIRef
    from rdflib.namespace import RDF, SH
    from rdflib.util import from_n3

    report = Graph()
    root = BNode()
    report.add((root, RDF.type, SH.ValidationReport))
    report.add((root, SH.conforms, Literal(outcome.conforms)))
    for r in outcome.results:
        node = BNode()
        report.add((root, SH.result, node))
        report.add((node, RDF.type, SH.ValidationResult))
        report.add((node, SH.focusNode, URIRef(r.focus) if r.focus_is_iri else BNode(r.focus)))
        report.add((node, SH.resultSeverity, SH[r.severity]))
        report.add((node, SH.resultMessage, Literal(r.message)))
        report.add((node, SH.sourceConstraintComponent, URIRef(r.constraint)))
        report.add((node, SH.sourceShape, URIRef(r.shape) if "://" in r.shape else BNode(r.shape)))
        if r.path:
            report.add((node, SH.resultPath, URIRef(r.path)))
        if r.value_term:
            report.add((node, SH.value, from_n3(r.value_term)))  # type: ignore[arg-type]
    return report


def _report_triples(outcome: ValidationOutcome) -> Iterator[ox.Triple]:
    """The report's triples made term by term, blank node labels as kg writes them (kg's
    writer before its Turtle was put together as text: the oracle for the text)."""
    from rdflib.namespace import RDF, SH

    from kg.validate import nt_term, report_iri

    def sh(local: str) -> ox.NamedNode:
        return ox.NamedNode(str(SH) + local)

    root = ox.BlankNode("report")
    boolean = ox.NamedNode("http://www.w3.org/2001/XMLSchema#boolean")
    yield ox.Triple(root, ox.NamedNode(str(RDF.type)), sh("ValidationReport"))
    yield ox.Triple(root, sh("conforms"), ox.Literal(str(outcome.conforms).lower(), datatype=boolean))
    for i, r in enumerate(outcome.results):
        node = ox.BlankNode(f"r{i}")
        yield ox.Triple(root, sh("result"), node)
        yield ox.Triple(node, ox.NamedNode(str(RDF.type)), sh("ValidationResult"))
        yield ox.Triple(node, sh("focusNode"), report_iri(r.focus) if r.focus_is_iri else ox.BlankNode(r.focus))
        yield ox.Triple(node, sh("resultSeverity"), sh(r.severity))
        yield ox.Triple(node, sh("resultMessage"), ox.Literal(r.message))
        yield ox.Triple(node, sh("sourceConstraintComponent"), ox.NamedNode(r.constraint))
        shape = ox.NamedNode(r.shape) if "://" in r.shape else ox.BlankNode(r.shape)
        yield ox.Triple(node, sh("sourceShape"), shape)
        if r.path:
            yield ox.Triple(node, sh("resultPath"), report_iri(r.path))
        if r.value_term:
            yield ox.Triple(node, sh("value"), nt_term(r.value_term))


def test_streamed_reports_are_the_report(tmp_path: Path) -> None:
    """validation.ttl and validation.json are written as text a chunk of results at a time;
    the Turtle is the same graph as the report made in memory with rdflib and holds exactly
    the report made term by term (blank node labels included), the JSON the same bytes as
    json.dumps of the whole document (escapes, non-ASCII text, nulls)."""
    from rdflib.compare import isomorphic

    from kg.reports import _json_result, format_json, format_turtle, write_json, write_turtle
    from kg.validate import SEVERITIES

    date = '"2018-13-45"^^<http://www.w3.org/2001/XMLSchema#date>'
    p, s, c = "http://p", "http://s", "http://c"
    results = [
        ValidationResult("http://x/a", None, "Warning", 'says "so"\nü', s, c, None, "Hé", "a.txt"),
        ValidationResult("b0", p, "Violation", "m", "nb1", c, "v", None, None, False, date),
        ValidationResult("http://x/c", p, "Info", "m", s, c, "v", None, None, True, '"hi"@en'),
        ValidationResult("http://x/d", p, "Info", "m", s, c, "x", None, None, True, "<http://x/e>"),
        ValidationResult("http://x/e", "http://schema.org/1abc", "Info", "tab\there \u2028 \\ back", s, c, "42"),
        ValidationResult(
            "http://x/f",
            "http://schema.org/a-b",
            "Violation",
            "m",
            "http://www.w3.org/ns/shacl#",
            c,
            "42",
            None,
            None,
            True,
            '"42"^^<http://www.w3.org/2001/XMLSchema#integer>',
        ),
    ]
    lenient = ValidationResult("http://x/a b", p, "Info", "m", s, c, "v", None, None, True, "<http://x/{v}>")
    text = format_turtle(ValidationOutcome([lenient], 1, 1, "turbo"))  # IRIs rdflib read leniently
    assert "<http://x/a%20b>" in text and "<http://x/%7Bv%7D>" in text
    for found in ([], results):
        outcome = ValidationOutcome(found, 10, 2, "turbo")
        with (tmp_path / "report.ttl").open("wb") as out:
            write_turtle(outcome, out)
        streamed = Graph().parse(tmp_path / "report.ttl", format="turtle")
        assert isomorphic(streamed, _rdflib_report(outcome))
        written = ox.parse(path=str(tmp_path / "report.ttl"), format=ox.RdfFormat.TURTLE)  # keeps blank node ids
        assert sorted(map(str, written)) == sorted(map(str, _report_triples(outcome)))
        assert format_turtle(outcome) == (tmp_path / "report.ttl").read_text(encoding="utf-8")
        document = {
            "version": 1,
            "conforms": outcome.conforms,
            "counts": {s.lower(): outcome.count(s) for s in SEVERITIES},
            "triples": 10,
            "articles": 2,
            "engine": "turbo",
            "results": [_json_result(r) for r in found],
        }
        with (tmp_path / "report.json").open("w", encoding="utf-8") as text:
            write_json(outcome, text)
        expected = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
        assert (tmp_path / "report.json").read_text(encoding="utf-8") == format_json(outcome) == expected
