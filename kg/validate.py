"""SHACL validation: load data, shapes and ontology safely; validate with pySHACL (the
reference engine) or pyshacl-turbo; validate a kg build one article graph at a time, in
parallel, with the same results as one whole-graph run."""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import pyoxigraph as ox
from pyshacl import validate as pyshacl_validate
from rdflib import Dataset, Graph, URIRef
from rdflib.namespace import RDF, SH
from rdflib.plugins.sparql.algebra import translateQuery
from rdflib.plugins.sparql.parser import parseQuery
from rdflib.plugins.sparql.sparql import Query
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
    """One SHACL result, with the article and raw file it concerns when there is one.
    focus and value are in N-Triples syntax-free form: IRIs and blank node ids as text."""

    focus: str
    path: str | None
    severity: str
    message: str
    shape: str
    constraint: str
    value: str | None
    headline: str | None = None
    file: str | None = None
    focus_is_iri: bool = field(default=True, compare=False)
    value_term: str | None = field(default=None, compare=False)  # N-Triples form of the value

    @property
    def key(self) -> tuple[str, str, str, str, str, str, str | None]:
        """Identity of a result across runs (blank-node shape ids differ between runs)."""
        shape = self.shape if "://" in self.shape else ""
        return (self.focus, self.path or "", self.severity, shape, self.constraint, self.message, self.value)


@dataclass
class ValidationOutcome:
    """All results; conforms means no Violation (warnings and info allowed)."""

    results: list[ValidationResult]
    triples: int
    articles: int
    engine: str
    partitions: int = 1

    @property
    def conforms(self) -> bool:
        return not any(r.severity == "Violation" for r in self.results)

    def count(self, severity: str) -> int:
        return sum(1 for r in self.results if r.severity == severity)

    def fails(self, fail_on: str) -> bool:
        """True when a result is at least as severe as fail_on (violation/warning/info)."""
        threshold = _SEVERITY_ORDER[fail_on.capitalize()]
        return any(_SEVERITY_ORDER.get(r.severity, 0) <= threshold for r in self.results)


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
    # rdflib logs a traceback for every ill-typed literal ("2018-13-45"^^xsd:date); the
    # shapes report those as results, so the noise is kept out of the terminal.
    term_log = logging.getLogger("rdflib.term")
    level = term_log.level
    term_log.setLevel(logging.CRITICAL)
    try:
        for path in files:
            _parse_into(graph, path)
    finally:
        term_log.setLevel(level)
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


ENGINES = ("pyshacl", "turbo")


def default_engine() -> str:
    """pyshacl-turbo when installed (same results on every fixture, tested), else pySHACL."""
    try:
        import pyshacl_turbo  # noqa: F401
    except ImportError:
        return "pyshacl"
    return "turbo"


def _engine_validate(engine: str) -> Callable[..., tuple[bool, Graph, str]]:
    if engine == "turbo":
        from pyshacl_turbo import validate as turbo_validate

        return turbo_validate
    if engine == "pyshacl":
        return pyshacl_validate
    raise ValueError(f"unknown SHACL engine {engine!r} (one of {', '.join(ENGINES)})")


def _article_of(data: Graph, focus: Node) -> Node | None:
    """The article a focus node belongs to: itself, a mention's article, a source's article."""
    if (focus, SCHEMA.headline, None) in data or (focus, RDF.type, SCHEMA.NewsArticle) in data:
        return focus
    target = data.value(focus, OA.hasTarget)
    if target is not None:
        return data.value(target, OA.hasSource)
    source = data.value(focus, OA.hasSource)
    if source is not None:
        return source
    return data.value(None, PROV.wasDerivedFrom, focus)


def _results(report: Graph, data: Graph) -> list[ValidationResult]:
    results = []
    for node in report.subjects(RDF.type, SH.ValidationResult):
        severity = report.value(node, SH.resultSeverity)
        path = report.value(node, SH.resultPath)
        focus = report.value(node, SH.focusNode)
        value = report.value(node, SH.value)
        messages = sorted(str(m) for m in report.objects(node, SH.resultMessage))
        article = _article_of(data, focus) if focus is not None else None
        source = data.value(article, PROV.wasDerivedFrom) if article is not None else None
        headline = data.value(article, SCHEMA.headline) if article is not None else None
        file_name = data.value(source, SCHEMA.name) if source is not None else None
        results.append(
            ValidationResult(
                focus=str(focus),
                path=str(path) if isinstance(path, URIRef) else None,
                severity=str(severity).rsplit("#", 1)[-1] if severity else "Violation",
                message=messages[0] if messages else "",
                shape=str(report.value(node, SH.sourceShape)),
                constraint=str(report.value(node, SH.sourceConstraintComponent)),
                value=None if value is None else str(value),
                headline=None if headline is None else str(headline),
                file=None if file_name is None else str(file_name),
                focus_is_iri=isinstance(focus, URIRef),
                value_term=None if value is None else value.n3(),
            )
        )
    return results


def _sorted(results: Iterable[ValidationResult]) -> list[ValidationResult]:
    unique = {r.key: r for r in results}
    return sorted(unique.values(), key=lambda r: (_SEVERITY_ORDER.get(r.severity, 9), r.focus, r.path or "", r.message))


@lru_cache(maxsize=256)
def _prepared_query(text: str) -> Query:
    return translateQuery(parseQuery(text))


class _PreparedQueryGraph(Graph):
    """A graph that parses each distinct SPARQL text once. pySHACL sends a SPARQL
    constraint's query once per focus node with $this bound, and rdflib parses it every
    time: on the seed build parsing was 90% of validation time."""

    def query(
        self,
        query_object: Any,
        processor: Any = "sparql",
        result: Any = "sparql",
        initNs: Any = None,  # noqa: N803 (rdflib's spelling)
        initBindings: Any = None,  # noqa: N803
        use_store_provided: bool = True,
        **kwargs: Any,
    ) -> Any:
        if isinstance(query_object, str) and not initNs and not kwargs.get("base"):
            query_object = _prepared_query(query_object)
        return super().query(query_object, processor, result, initNs, initBindings, use_store_provided, **kwargs)


def validate(data: Graph, shapes: Graph, ontology: Graph, engine: str | None = None) -> ValidationOutcome:
    """Validate one graph; subclass facts of the ontology make class targets reach subclasses."""
    engine = engine or default_engine()
    run = _engine_validate(engine)
    work = data
    if engine == "pyshacl":
        work = _PreparedQueryGraph()  # a private copy: pySHACL mixes the ontology into it in place
        for triple in data:
            work.add(triple)
    _conforms, report, _text = run(
        work,
        shacl_graph=shapes,
        ont_graph=ontology,
        inference="none",
        advanced=True,
        allow_warnings=True,
        allow_infos=True,
        inplace=engine == "pyshacl",
    )
    return ValidationOutcome(
        results=_sorted(_results(report, data)),
        triples=len(data),
        articles=len(set(data.subjects(RDF.type, SCHEMA.NewsArticle))),
        engine=engine,
    )


# --- one article graph at a time ----------------------------------------------------------

ARTICLE_GRAPH = re.compile(r"/graph/article/[^/]+$")
_GENERATED_BY = ox.NamedNode(str(PROV.wasGeneratedBy))
_ASSOCIATED = ox.NamedNode(str(PROV.wasAssociatedWith))
_USED = ox.NamedNode(str(PROV.used))


def partitions(quads: Sequence[ox.Quad]) -> list[list[ox.Triple]]:
    """Split a kg build into independently valid parts: each article graph, with the
    description of the build activity (and its agents) it was generated by, and one part
    with every other graph (entities, provenance, dataset description).

    Of the build's prov:used list, an article part keeps only the use of its own raw file:
    the list grows with the corpus."""
    by_graph: dict[str, list[ox.Triple]] = defaultdict(list)
    for q in quads:
        name = q.graph_name.value if isinstance(q.graph_name, ox.NamedNode) else ""
        by_graph[name].append(ox.Triple(q.subject, q.predicate, q.object))
    article_graphs = sorted(name for name in by_graph if ARTICLE_GRAPH.search(name))
    context = [t for name, triples in by_graph.items() if name not in article_graphs for t in triples]
    by_subject: dict[object, list[ox.Triple]] = defaultdict(list)
    used: set[ox.Triple] = set()
    for t in context:
        if t.predicate == _USED:
            used.add(t)
        else:
            by_subject[t.subject].append(t)
    parts = []
    for name in article_graphs:
        part = list(by_graph[name])
        nodes = {t.subject for t in part}
        builds = {t.object for t in part if t.predicate == _GENERATED_BY and not isinstance(t.object, ox.Literal)}
        agents = {t.object for b in builds for t in by_subject.get(b, []) if t.predicate == _ASSOCIATED}
        for node in builds | agents:
            part += by_subject.get(node, [])
        part += [ox.Triple(b, _USED, n) for b in builds for n in nodes if ox.Triple(b, _USED, n) in used]
        parts.append(part)
    return [*parts, context] if context else parts


_WORKER: dict[str, object] = {}


def _init_worker(shapes_dir: str, ontology_dir: str, engine: str) -> None:
    _WORKER["shapes"] = load_shapes(Path(shapes_dir))
    _WORKER["ontology"] = load_ontology(Path(ontology_dir))
    _WORKER["engine"] = engine


def _validate_part(ntriples: bytes) -> tuple[list[ValidationResult], int, int]:
    graph = Graph()
    logging.getLogger("rdflib.term").setLevel(logging.CRITICAL)
    graph.parse(data=ntriples.decode("utf-8"), format="nt")
    outcome = validate(graph, _WORKER["shapes"], _WORKER["ontology"], str(_WORKER["engine"]))  # type: ignore[arg-type]
    return outcome.results, outcome.triples, outcome.articles


def validate_build(
    quads: Sequence[ox.Quad], shapes_dir: Path, ontology_dir: Path, *, engine: str | None = None, jobs: int = 0
) -> ValidationOutcome:
    """Validate a kg build part by part (see partitions), on jobs processes (0: all cores)."""
    engine = engine or default_engine()
    load_shapes(shapes_dir), load_ontology(ontology_dir)  # fail early, in this process
    parts = [ox.serialize(p, format=ox.RdfFormat.N_TRIPLES) or b"" for p in partitions(quads)]
    jobs = jobs or os.cpu_count() or 1
    args = (str(shapes_dir), str(ontology_dir), engine)
    if jobs == 1 or len(parts) == 1:
        _init_worker(*args)
        outputs = [_validate_part(p) for p in parts]
    else:
        context = multiprocessing.get_context("spawn")
        with context.Pool(min(jobs, len(parts)), initializer=_init_worker, initargs=args) as pool:
            outputs = pool.map(_validate_part, parts, chunksize=max(1, len(parts) // (jobs * 4)))
    triples = len({(q.subject, q.predicate, q.object) for q in quads})
    articles = sum(a for _, _, a in outputs[:-1]) if len(parts) > 1 else outputs[0][2]
    return ValidationOutcome(
        results=_sorted(r for rs, _, _ in outputs for r in rs),
        triples=triples,
        articles=articles,
        engine=engine,
        partitions=len(parts),
    )


def load_quads(paths: Sequence[Path]) -> list[ox.Quad] | None:
    """The quads of the inputs when every input is a TriG/N-Quads file (safe to read with
    pyoxigraph), else None (validate the union graph instead)."""
    files = _files(paths)
    formats = [format_for_path(p.name) for p in files]
    if not files or not all(f is not None and f.datasets for f in formats):
        return None
    quads: list[ox.Quad] = []
    for path, fmt in zip(files, formats, strict=True):
        assert fmt is not None
        try:
            quads += list(ox.parse(path=str(path), format=fmt.oxigraph))
        except SyntaxError as exc:
            raise ValidationInputError(f"{path}: {_parse_message(exc, path)}") from exc
    return quads


def report_graph(outcome: ValidationOutcome) -> Graph:
    """The standard sh:ValidationReport of an outcome."""
    from rdflib import BNode, Literal
    from rdflib.util import from_n3

    report = Graph()
    for prefix, namespace in PREFIXES.items():
        report.bind(prefix, namespace, override=True, replace=True)
    root = BNode("report")
    report.add((root, RDF.type, SH.ValidationReport))
    report.add((root, SH.conforms, Literal(outcome.conforms)))
    for i, r in enumerate(outcome.results):
        node = BNode(f"r{i}")
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
            value = from_n3(r.value_term)
            if value is not None:
                report.add((node, SH.value, value))  # type: ignore[arg-type]
    return report


def run_validation(
    paths: Sequence[Path], shapes_dir: Path, ontology_dir: Path, *, engine: str | None = None, jobs: int = 0
) -> ValidationOutcome:
    """Validate files or folders. A kg build (TriG/N-Quads with article graphs, plus any
    other files such as void.ttl) is validated article by article in parallel; anything
    else as one union graph."""
    from kg.terms import to_ox

    files = _files(paths)
    datasets = [p for p in files if (fmt := format_for_path(p.name)) is not None and fmt.datasets]
    others = [p for p in files if p not in datasets]
    quads = load_quads(datasets) if datasets else None
    if quads and any(
        isinstance(q.graph_name, ox.NamedNode) and ARTICLE_GRAPH.search(q.graph_name.value) for q in quads
    ):
        extra = load_data(others) if others else Graph()
        quads += [ox.Quad(to_ox(s), to_ox(p), to_ox(o), ox.DefaultGraph()) for s, p, o in extra]  # type: ignore[arg-type]
        return validate_build(quads, shapes_dir, ontology_dir, engine=engine, jobs=jobs)
    return validate(load_data(paths), load_shapes(shapes_dir), load_ontology(ontology_dir), engine=engine)
