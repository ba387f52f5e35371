"""SHACL validation with pySHACL: load data, shapes and ontology; validate; report as
text or as the standard sh:ValidationReport in Turtle."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from pyshacl import validate as pyshacl_validate
from rdflib import BNode, Dataset, Graph, URIRef
from rdflib.namespace import RDF, SH
from rdflib.term import Node

from kg.formats import format_for_path
from kg.namespaces import OA, PREFIXES, PROV, SCHEMA

SEVERITIES = ("Violation", "Warning", "Info")
_SEVERITY_ORDER = {name: i for i, name in enumerate(SEVERITIES)}
_DTD = re.compile(rb"<!\s*(?:DOCTYPE|ENTITY)", re.IGNORECASE)


class ValidationInputError(Exception):
    """An input, shape or ontology file that cannot be read; names the file and line."""


@dataclass(frozen=True)
class ValidationResult:
    """One SHACL result."""

    focus: str
    path: str | None
    severity: str
    message: str
    shape: str
    constraint: str
    value: str | None


@dataclass
class ValidationOutcome:
    """All results; conforms means no Violation (warnings and info allowed)."""

    conforms: bool
    results: list[ValidationResult]
    report: Graph
    data: Graph

    def count(self, severity: str) -> int:
        return sum(1 for r in self.results if r.severity == severity)


def _parse_message(exc: Exception, path: Path) -> str:
    """'line N: reason' from a parser exception, without the parser's echo of the input."""
    text = str(exc)
    bad_line = re.match(r"Invalid line: (.*)", text, re.S)
    if bad_line:  # the N-Triples/N-Quads parsers quote the line but do not number it
        wanted = bad_line.group(1).strip()
        for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            if wanted and wanted in line:
                return f"line {number}: invalid line {line.strip()[:80]!r}"
    match = re.search(r"line[: ]+(\d+)", text, re.IGNORECASE)
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not re.match(r"^at line \d+ of", ln.strip())]
    reason = (lines[0] if lines else text).split(" at ^ in:")[0]
    return f"line {match.group(1)}: {reason}" if match else reason


def _check_safe(path: Path, rdflib_format: str) -> None:
    """Refuse documents that would make a parser fetch or expand anything."""
    data = path.read_bytes()
    if rdflib_format == "xml" and _DTD.search(data):
        raise ValidationInputError(f"{path}: RDF/XML with a DOCTYPE or ENTITY declaration is refused")
    if rdflib_format == "json-ld":
        try:
            doc = json.loads(data)
        except json.JSONDecodeError as exc:
            raise ValidationInputError(f"{path}: line {exc.lineno}: {exc.msg}") from exc
        for context in _contexts(doc):
            if isinstance(context, str) or (isinstance(context, list) and any(isinstance(c, str) for c in context)):
                raise ValidationInputError(f"{path}: remote JSON-LD @context references are refused")


def _contexts(doc: object) -> Iterable[object]:
    if isinstance(doc, dict):
        if "@context" in doc:
            yield doc["@context"]
        for value in doc.values():
            yield from _contexts(value)
    elif isinstance(doc, list):
        for item in doc:
            yield from _contexts(item)


def _files(paths: Sequence[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files += sorted(p for p in path.rglob("*") if p.is_file() and format_for_path(p.name))
        elif path.is_file():
            files.append(path)
        else:
            raise ValidationInputError(f"{path}: no such file or folder")
    return files


def _parse_into(graph: Graph, path: Path) -> None:
    fmt = format_for_path(path.name)
    if fmt is None:
        raise ValidationInputError(f"{path}: unknown RDF file extension (use .ttl .nt .nq .trig .jsonld .rdf)")
    _check_safe(path, fmt.rdflib)
    try:
        if fmt.datasets:
            dataset = Dataset()
            dataset.parse(path, format=fmt.rdflib)
            for s, p, o, _g in dataset.quads((None, None, None, None)):
                graph.add((s, p, o))
        else:
            graph.parse(path, format=fmt.rdflib)
    except Exception as exc:  # rdflib's parsers raise many exception types
        raise ValidationInputError(f"{path}: {_parse_message(exc, path)}") from exc


def load_data(paths: Sequence[Path]) -> Graph:
    """The union of the RDF in these files and folders."""
    graph = Graph()
    files = _files(paths)
    if not files:
        raise ValidationInputError(f"{', '.join(map(str, paths))}: no RDF files to validate")
    for path in files:
        _parse_into(graph, path)
    return graph


def _load_folder(folder: Path, what: str) -> Graph:
    if not folder.is_dir():
        raise ValidationInputError(f"{folder}: {what} folder does not exist")
    files = sorted(folder.glob("*.ttl"))
    if not files:
        raise ValidationInputError(f"{folder}: no {what} files (*.ttl)")
    graph = Graph()
    for path in files:
        _parse_into(graph, path)
    return graph


def load_shapes(shapes_dir: Path) -> Graph:
    return _load_folder(shapes_dir, "shapes")


def load_ontology(ontology_dir: Path) -> Graph:
    return _load_folder(ontology_dir, "ontology")


def _str(node: Node | None) -> str | None:
    return None if node is None else str(node)


def validate(data: Graph, shapes: Graph, ontology: Graph) -> ValidationOutcome:
    """Run pySHACL; subclass facts of the ontology make class targets reach subclasses."""
    _conforms, report, _text = pyshacl_validate(
        data,
        shacl_graph=shapes,
        ont_graph=ontology,
        inference="none",
        advanced=True,
        allow_warnings=True,
        allow_infos=True,
    )
    assert isinstance(report, Graph)
    results = []
    for result in report.subjects(RDF.type, SH.ValidationResult):
        severity = report.value(result, SH.resultSeverity)
        name = str(severity).rsplit("#", 1)[-1] if severity else "Violation"
        messages = sorted(str(m) for m in report.objects(result, SH.resultMessage))
        path = report.value(result, SH.resultPath)
        results.append(
            ValidationResult(
                focus=str(report.value(result, SH.focusNode)),
                path=str(path) if isinstance(path, URIRef) else None,
                severity=name,
                message=messages[0] if messages else "",
                shape=str(report.value(result, SH.sourceShape)),
                constraint=str(report.value(result, SH.sourceConstraintComponent)),
                value=_str(report.value(result, SH.value)),
            )
        )
    results.sort(key=lambda r: (_SEVERITY_ORDER.get(r.severity, 9), r.focus, r.path or "", r.message))
    for prefix, namespace in PREFIXES.items():
        report.bind(prefix, namespace, override=True, replace=True)
    return ValidationOutcome(
        conforms=not any(r.severity == "Violation" for r in results), results=results, report=report, data=data
    )


def _article_of(data: Graph, focus: URIRef) -> URIRef | None:
    """The article a focus node belongs to: itself, a mention's article, a source's article."""
    if (focus, RDF.type, SCHEMA.NewsArticle) in data or (focus, SCHEMA.headline, None) in data:
        return focus
    target = data.value(focus, OA.hasTarget)
    if target is not None:
        article = data.value(target, OA.hasSource)
        return article if isinstance(article, URIRef) else None
    derived = data.value(None, PROV.wasDerivedFrom, focus)
    return derived if isinstance(derived, URIRef) else None


def _short(iri: str | None) -> str:
    if iri is None:
        return ""
    for prefix, namespace in PREFIXES.items():
        if iri.startswith(namespace):
            return f"{prefix}:{iri[len(namespace) :]}"
    return iri


def format_text(outcome: ValidationOutcome) -> str:
    """A summary line, then results grouped by focus node with article headline and file."""
    articles = len(set(outcome.data.subjects(RDF.type, SCHEMA.NewsArticle)))
    counts = ", ".join(f"{outcome.count(s)} {s.lower()}{'s' if outcome.count(s) != 1 else ''}" for s in SEVERITIES)
    verdict = "conforms" if outcome.conforms else "does NOT conform"
    lines = [f"kg validate: {len(outcome.data)} triples, {articles} articles: {verdict} ({counts})"]
    grouped: dict[str, list[ValidationResult]] = defaultdict(list)
    for result in outcome.results:
        grouped[result.focus].append(result)
    for focus, results in grouped.items():
        lines.append("")
        label = focus if not focus.startswith("_:") else "(blank node)"
        article = _article_of(outcome.data, URIRef(focus)) if not isinstance(focus, BNode) else None
        if article is not None:
            headline = outcome.data.value(article, SCHEMA.headline)
            source = outcome.data.value(article, PROV.wasDerivedFrom)
            file_name = outcome.data.value(source, SCHEMA.name) if source is not None else None
            label += f"\n  article: {headline or '(no headline)'}\n  file: {file_name or '(no source file)'}"
        lines.append(label)
        for r in results:
            where = f" [{_short(r.path)}]" if r.path else ""
            value = f" (value: {r.value})" if r.value and len(r.value) < 80 else ""
            lines.append(f"  {r.severity.upper()}{where}: {r.message}{value}")
    return "\n".join(lines) + "\n"


def format_turtle(outcome: ValidationOutcome) -> str:
    """The standard sh:ValidationReport."""
    return outcome.report.serialize(format="turtle")


__all__ = [
    "ValidationInputError",
    "ValidationOutcome",
    "ValidationResult",
    "format_text",
    "format_turtle",
    "load_data",
    "load_ontology",
    "load_shapes",
    "validate",
]
