"""SHACL validation: load data, shapes and ontology safely; validate with pySHACL (the
reference engine) or pyshacl-turbo; validate a kg build one article graph at a time, in
parallel, with the same results as one whole-graph run."""

from __future__ import annotations

import json
import logging
import re
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Iterator, Sequence, Set
from concurrent.futures import Future
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, cast
from urllib.parse import quote

import pyoxigraph as ox
from pyshacl import validate as pyshacl_validate
from rdflib import Dataset, Graph, URIRef
from rdflib.namespace import RDF, SH
from rdflib.plugins.sparql.algebra import translateQuery
from rdflib.plugins.sparql.parser import parseQuery
from rdflib.plugins.sparql.sparql import Query

from kg.executor import Executor, LocalExecutor, per_process
from kg.formats import format_for_path
from kg.namespaces import OA, PROV, SCHEMA
from kg.shape_targets import narrowed_targets
from kg.terms import graph_of_quad_line

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
            items = context if isinstance(context, list) else [context]
            if any(isinstance(c, str) or (isinstance(c, dict) and "@import" in c) for c in items):
                raise ValidationInputError(f"{path}: remote JSON-LD @context references (and @import) are refused")


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
    """The RDF files of paths. A kg build folder (build.json + kg.trig) stands for its graph,
    kg.trig and void.ttl: its other dumps are the same statements again, and its reports
    are not data."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir() and (path / "build.json").is_file() and (path / "kg.trig").is_file():
            files += [p for p in (path / "kg.trig", path / "void.ttl") if p.is_file()]
        elif path.is_dir():
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


Where = Callable[[Any], tuple[str | None, str | None]]


_OX_HEADLINE, _OX_NAME, _OX_TYPE = (ox.NamedNode(str(i)) for i in (SCHEMA.headline, SCHEMA.name, RDF.type))
_OX_TARGET, _OX_SOURCE = ox.NamedNode(str(OA.hasTarget)), ox.NamedNode(str(OA.hasSource))
_OX_DERIVED, _OX_NEWS_ARTICLE = ox.NamedNode(str(PROV.wasDerivedFrom)), ox.NamedNode(str(SCHEMA.NewsArticle))


#: The statements the article lookup reads (besides rdf:type schema:NewsArticle).
_LOOKUP_PREDICATES = (_OX_HEADLINE, _OX_NAME, _OX_TARGET, _OX_SOURCE, _OX_DERIVED)
_LOOKUP_LINES = tuple(f" {p} " for p in _LOOKUP_PREDICATES)
_NEWS_ARTICLE_LINE = f" {_OX_TYPE} {_OX_NEWS_ARTICLE} ."
_LOOKED_UP = re.compile("|".join(re.escape(w) for w in (_NEWS_ARTICLE_LINE, *_LOOKUP_LINES)))


def _lines_looked_up(ntriples: str) -> list[str]:
    """The N-Triples lines the lookup of a result's article needs (found by one regular
    expression pass in C, not a Python test per line)."""
    lines: dict[int, str] = {}
    for match in _LOOKED_UP.finditer(ntriples):
        start = ntriples.rfind("\n", 0, match.start()) + 1
        if start not in lines:
            end = ntriples.find("\n", match.end())
            lines[start] = ntriples[start : end if end >= 0 else len(ntriples)]
    return list(lines.values())


def _where_in_graph(data: Graph) -> Where:
    """_where_in_store over the few statements of an rdflib graph that the lookup reads."""
    from kg.terms import to_ox

    store = ox.Store()
    for predicate in _LOOKUP_PREDICATES:
        triples = data.triples((None, URIRef(predicate.value), None))
        store.extend(ox.Quad(to_ox(s), predicate, to_ox(o)) for s, _p, o in triples)  # type: ignore[arg-type]
    store.extend(ox.Quad(to_ox(s), _OX_TYPE, _OX_NEWS_ARTICLE) for s in data.subjects(RDF.type, SCHEMA.NewsArticle))  # type: ignore[arg-type]
    return _where_in_store(store)


def _where_in_store(store: ox.Store) -> Where:
    """(headline, raw file name) of the article a focus node belongs to: the focus itself,
    a mention's article, a source's article, or the article derived from a raw file."""

    def value(s: object, p: ox.NamedNode) -> object:
        quad = next(store.quads_for_pattern(s, p, None, None), None)  # type: ignore[arg-type]
        return None if quad is None else quad.object

    def subject(p: ox.NamedNode, o: object) -> object:
        quad = next(store.quads_for_pattern(None, p, o, None), None)  # type: ignore[arg-type]
        return None if quad is None else quad.subject

    known: dict[object, tuple[str | None, str | None]] = {}  # an article's results share its focus node

    def where(node: ox.NamedNode | ox.BlankNode | ox.Literal) -> tuple[str | None, str | None]:
        if (found := known.get(node)) is None:
            found = known[node] = look_up(node)
        return found

    def look_up(node: ox.NamedNode | ox.BlankNode | ox.Literal) -> tuple[str | None, str | None]:
        article: object
        if isinstance(node, ox.Literal):  # a literal focus node belongs to no article
            return None, None
        if value(node, _OX_HEADLINE) is not None or next(
            store.quads_for_pattern(node, _OX_TYPE, _OX_NEWS_ARTICLE, None), None
        ):
            article = node
        elif (target := value(node, _OX_TARGET)) is not None:
            article = value(target, _OX_SOURCE)
        elif (source := value(node, _OX_SOURCE)) is not None:
            article = source
        else:
            article = subject(_OX_DERIVED, node)
        if article is None:
            return None, None
        headline, source = value(article, _OX_HEADLINE), value(article, _OX_DERIVED)
        name = value(source, _OX_NAME) if source is not None else None
        return (
            headline.value if isinstance(headline, ox.Literal) else None,
            name.value if isinstance(name, ox.Literal) else None,
        )

    return where


_SH = str(SH)
_RESULT_TYPE = (str(RDF.type), _SH + "ValidationResult")


def _report_triples(report: Graph) -> Iterator[ox.Triple]:
    """The triples of an rdflib report graph as pyoxigraph terms (read leniently: rdflib
    keeps IRIs such as "http://x/a b" that it read leniently from a Turtle file)."""
    text = report.serialize(format="nt")
    return (q.triple for q in ox.parse(text, format=ox.RdfFormat.N_TRIPLES, lenient=True))


def _results(report: Iterable[ox.Triple], where: Where, shapes: dict[str, str] | None = None) -> list[ValidationResult]:
    """The sh:ValidationResults of a report. shapes renames blank-node shapes (the engine's
    label -> the label in the shapes graph)."""
    described: dict[object, dict[str, list[Any]]] = defaultdict(lambda: defaultdict(list))
    for t in report:
        described[t.subject][t.predicate.value].append(t.object)
    results = []
    for props in described.values():
        if not any(o.value == _RESULT_TYPE[1] for o in props.get(_RESULT_TYPE[0], ())):
            continue
        severity, path, focus, value, shape, constraint = (
            props[_SH + k][0] if props.get(_SH + k) else None
            for k in ("resultSeverity", "resultPath", "focusNode", "value", "sourceShape", "sourceConstraintComponent")
        )
        messages = sorted(m.value for m in props.get(_SH + "resultMessage", ()))
        headline, file_name = where(focus) if focus is not None else (None, None)
        shape_name = "None" if shape is None else shape.value
        if isinstance(shape, ox.BlankNode) and shapes:
            shape_name = shapes.get(shape_name, shape_name)
        results.append(
            ValidationResult(
                focus="None" if focus is None else focus.value,
                path=path.value if isinstance(path, ox.NamedNode) else None,
                severity=severity.value.rsplit("#", 1)[-1] if severity is not None else "Violation",
                message=messages[0] if messages else "",
                shape=shape_name,
                constraint="None" if constraint is None else constraint.value,
                value=None if value is None else value.value,
                headline=headline,
                file=file_name,
                focus_is_iri=isinstance(focus, ox.NamedNode),
                value_term=None if value is None else str(value),
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


class TurboValidator:
    """pyshacl-turbo with the shapes compiled once and the data handed over as N-Triples
    text. Its validate() with ont_graph round-trips the data through rdflib three times,
    which was 80% of its time; here the ontology is added to the data as N-Triples, which
    is what pySHACL's ontology "inoculation" does."""

    def __init__(self, shapes: Graph, ontology: Graph, narrow_targets: bool = True) -> None:
        from pyshacl_turbo import compile_shapes

        self.program = compile_shapes(narrowed_targets(shapes) if narrow_targets else shapes, advanced=True)
        self.ontology = ontology.serialize(format="nt")
        # the engine's labels of blank-node shapes -> their labels in the shapes graph
        self.shape_names = {k: str(v) for k, v in getattr(self.program, "_blank_nodes", {}).items()}

    def report(self, ntriples: str) -> str:
        """The engine's report of the data, as N-Triples."""
        from pyshacl_turbo.rdf import Input

        data = ntriples + "\n" + self.ontology
        native = getattr(self.program, "_native", None)
        if native is not None:
            try:  # the compiled engine's own call: its N-Triples report, not decoded into rdflib
                _conforms, report, *_rest = native.validate(
                    data, "nt", None, False, 100, 15, False, True, True, False, [], [], []
                )
            except TypeError:  # another pyshacl-turbo release: its public API below
                pass
            else:
                if isinstance(report, str):
                    return report
        _conforms, graph, _text = self.program.validate(
            Input(data, "nt", None, {}, {}, preserve_ids=True), allow_warnings=True, allow_infos=True
        )
        return graph.serialize(format="nt")

    def results(self, ntriples: str) -> list[ValidationResult]:
        report = self.report(ntriples)
        if "#ValidationResult>" not in report:
            return []
        lines = _lines_looked_up(ntriples)
        store = ox.Store()
        store.load("\n".join(lines), format=ox.RdfFormat.N_TRIPLES)
        triples = (q.triple for q in ox.parse(report, format=ox.RdfFormat.N_TRIPLES, lenient=True))
        return _results(triples, _where_in_store(store), self.shape_names)


def validate(
    data: Graph, shapes: Graph, ontology: Graph, engine: str | None = None, *, narrow_targets: bool = True
) -> ValidationOutcome:
    """Validate one graph; subclass facts of the ontology make class targets reach subclasses.
    narrow_targets: hand the engine kg.shape_targets.narrowed_targets(shapes) (same results)."""
    engine = engine or default_engine()
    if engine == "turbo":
        results = TurboValidator(shapes, ontology, narrow_targets).results(data.serialize(format="nt"))
    else:
        work = _PreparedQueryGraph()  # a private copy: pySHACL mixes the ontology into it in place
        for triple in data:
            work.add(triple)
        _conforms, report, _text = _engine_validate(engine)(
            work,
            shacl_graph=narrowed_targets(shapes) if narrow_targets else shapes,
            ont_graph=ontology,
            inference="none",
            advanced=True,
            allow_warnings=True,
            allow_infos=True,
            inplace=True,
        )
        results = _results(_report_triples(report), _where_in_graph(data))
    return ValidationOutcome(
        results=_sorted(results),
        triples=len(data),
        articles=len(set(data.subjects(RDF.type, SCHEMA.NewsArticle))),
        engine=engine,
    )


# --- one article graph at a time ----------------------------------------------------------

ARTICLE_GRAPH = re.compile(r"/graph/article/[^/]+$")
_GENERATED_BY = ox.NamedNode(str(PROV.wasGeneratedBy))
_ASSOCIATED = ox.NamedNode(str(PROV.wasAssociatedWith))
_USED = ox.NamedNode(str(PROV.used))
ARTICLES_PER_TASK = 8  # at least 8 articles (and TASK_BYTES) per engine call: amortises its fixed cost


def _is_article_graph(name: object) -> bool:
    return isinstance(name, ox.NamedNode) and ARTICLE_GRAPH.search(name.value) is not None


def is_article_graph_nt(name: bytes) -> bool:
    """Whether a graph name written in N-Triples (<IRI>) is a kg article graph's."""
    return name.startswith(b"<") and ARTICLE_GRAPH.search(name[1:-1].decode()) is not None


class _GraphsNotGrouped(Exception):
    """An article graph's quads are not contiguous in the input (streaming needs them to be)."""


def _first_time(graph: object, seen: set[object]) -> None:
    """Note an article graph met in a pass over the quads; _GraphsNotGrouped if it was
    met before (its quads are not contiguous)."""
    if graph in seen:
        raise _GraphsNotGrouped(str(graph))
    seen.add(graph)


QuadSource = Callable[[], Iterable[ox.Quad]]


@dataclass
class _Tally:
    """What validation_parts saw: statements (quads), distinct articles, parts yielded."""

    quads: int = 0
    articles: set[object] = field(default_factory=set)
    parts: int = 0


class _Shared:
    """The statements outside article graphs, indexed for the article parts: an article
    part carries the description of the build activity that generated its graph (and its
    agents) and, of the build's prov:used list, only the use of its own raw file (the list
    grows with the corpus)."""

    def __init__(self, quads: Iterable[ox.Quad], seen: set[object] | None = None) -> None:
        """quads: any quads; those in article graphs are skipped (and noted in seen, when
        given, which raises _GraphsNotGrouped for an article graph met twice)."""
        self.triples: list[ox.Triple] = []
        self.by_subject: dict[object, list[ox.Triple]] = defaultdict(list)
        self.used_of: dict[object, list[ox.Triple]] = defaultdict(list)
        self.add(quads, seen)

    def add(self, quads: Iterable[ox.Quad], seen: set[object] | None = None) -> None:
        """Take in more quads (as __init__ does)."""
        current: object = None
        in_article = False
        for q in quads:
            if q.graph_name != current:
                current = q.graph_name
                in_article = _is_article_graph(current)
                if in_article and seen is not None:
                    _first_time(current, seen)
            if not in_article:
                triple = q.triple
                self.triples.append(triple)
                if triple.predicate == _USED:
                    self.used_of[triple.object].append(triple)
                else:
                    self.by_subject[triple.subject].append(triple)

    def count(self, tally: _Tally) -> None:
        tally.quads += len(self.triples)
        tally.articles.update(
            t.subject for t in self.triples if t.predicate == _OX_TYPE and t.object == _OX_NEWS_ARTICLE
        )

    def extra(self, builds: Set[object], used: Iterable[ox.Triple]) -> list[ox.Triple]:
        """What an article part adds to its graph's triples: the statements about builds
        (the activities that generated it) and their agents, and those of the prov:used
        statements given (the ones whose object is one of the part's subjects) that a
        build made."""
        by_subject = self.by_subject
        agents = {t.object for b in builds for t in by_subject.get(b, []) if t.predicate == _ASSOCIATED}
        extra = [t for node in builds | agents for t in by_subject.get(node, [])]
        extra += [u for u in used if u.subject in builds]
        return extra

    def part(self) -> bytes:
        """The part of every statement outside article graphs."""
        return ox.serialize(self.triples, format=ox.RdfFormat.N_TRIPLES) or b""


def validation_parts(
    quads: QuadSource, tally: _Tally | None = None, others: QuadSource | None = None
) -> Iterator[bytes]:
    """The parts of a kg build, as N-Triples: each article graph with what _Shared.extra
    adds, then one part with every other graph (entities, provenance, dataset
    description). Reads the quads twice (once when others gives the quads outside article
    graphs, as the build's store does) and keeps one article graph in memory at a time;
    article graphs must be contiguous (as in kg's dumps), else _GraphsNotGrouped is raised
    (before anything is yielded, unless others was given)."""
    tally = tally if tally is not None else _Tally()
    seen: set[object] = set()
    shared = _Shared((others or quads)(), seen if others is None else None)
    shared.count(tally)

    def part(block: list[ox.Triple]) -> bytes:
        builds, subjects = set(), set()
        for t in block:
            predicate = t.predicate
            subjects.add(t.subject)
            if predicate == _GENERATED_BY and not isinstance(t.object, ox.Literal):
                builds.add(t.object)
            elif predicate == _OX_TYPE and t.object == _OX_NEWS_ARTICLE:
                tally.articles.add(t.subject)
        tally.quads += len(block)
        tally.parts += 1
        used = (u for n in subjects for u in shared.used_of.get(n, ()))
        return ox.serialize(block + shared.extra(builds, used), format=ox.RdfFormat.N_TRIPLES) or b""

    block: list[ox.Triple] = []
    current, in_article = None, False
    for q in quads():
        if q.graph_name != current:
            if block:
                yield part(block)
            block, current = [], q.graph_name
            in_article = _is_article_graph(current)
            if in_article and others is not None:
                _first_time(current, seen)
        if in_article:
            block.append(q.triple)
    if block:
        yield part(block)
    if shared.triples:
        tally.parts += 1
        yield shared.part()


_NT_GENERATED_BY = f" {_GENERATED_BY} ".encode()
_NT_NEWS_ARTICLE = f" {_OX_TYPE} {_OX_NEWS_ARTICLE} .\n".encode()
_NT_SUBJECT = re.compile(rb"\n(<[^>]*>|_:\S+) ")


def _term_of(text: bytes) -> ox.NamedNode | ox.BlankNode:
    """An IRI or blank node written in N-Triples."""
    if text.startswith(b"_:"):
        return ox.BlankNode(text[2:].decode())
    if b"\\" in text:  # an escaped IRI: read by the parser
        return cast(ox.NamedNode, nt_term(text.decode()))
    return ox.NamedNode(text[1:-1].decode())


def _found(lines: bytes, middle: bytes, subjects: bool) -> Iterator[bytes]:
    """The subjects (or else the objects) of the N-Triples lines that have middle (the
    predicate, with spaces around it, or the rest of the line) in them."""
    at = lines.find(middle)
    while at >= 0:
        if subjects:
            yield lines[lines.rfind(b"\n", 0, at) + 1 : at]
        else:
            yield lines[at + len(middle) : lines.index(b" .\n", at)]
        at = lines.find(middle, at + len(middle))


def _text_parts(
    graphs: Iterable[bytes],
    others: QuadSource,
    tally: _Tally | None = None,
    late: Future[list[ox.Quad]] | None = None,
) -> Iterator[bytes]:
    """The parts validation_parts would make, from article graphs given as N-Quads text (each the
    newline-ended lines of one whole graph, graphs of any other kind skipped) and the
    statements outside them (others, and late: more of them that come later and that none of
    the article parts depend on, such as the dataset description; the part of the other
    statements comes as soon as late is done, between two article graphs, else after the
    last, when late is waited for): the article's lines lose their graph name and the few
    terms its part's extra statements depend on are found by searching the text, in C,
    instead of parsing every statement into Python objects (the build's validation, from
    the article graphs it mapped, in order)."""
    tally = tally if tally is not None else _Tally()
    shared = _Shared(others())
    used_of = {str(node).encode(): used for node, used in shared.used_of.items()}

    shared_given = False

    def shared_part() -> Iterator[bytes]:
        if late is not None:
            shared.add(late.result())
        shared.count(tally)
        if shared.triples:
            tally.parts += 1
            yield shared.part()

    for block in graphs:
        if not shared_given and late is not None and late.done():  # no need to wait for the last article
            shared_given = True
            yield from shared_part()
        first = block[: block.index(b"\n")]
        graph = graph_of_quad_line(first)
        if not is_article_graph_nt(graph):
            continue
        triples = block.replace(b" " + graph + b" .\n", b" .\n")
        generated_by = _found(triples, _NT_GENERATED_BY, subjects=False)
        builds = {_term_of(b) for b in generated_by if not b.startswith(b'"')}  # not literals, as in validation_parts
        tally.articles.update(_term_of(a) for a in _found(triples, _NT_NEWS_ARTICLE, subjects=True))
        subjects = {first[: first.index(b" ")], *_NT_SUBJECT.findall(triples)}
        tally.quads += triples.count(b"\n")
        tally.parts += 1
        extra = shared.extra(builds, (u for n in subjects for u in used_of.get(n, ())))
        yield triples + (ox.serialize(extra, format=ox.RdfFormat.N_TRIPLES) or b"") if extra else triples
    if not shared_given:
        yield from shared_part()


#: A task's N-Triples are at least this long (unless the input runs out): the engine's fixed
#: cost per call (the ontology is parsed with every task) is then small beside its work.
TASK_BYTES = 1 << 20


def task_batches(
    parts: Iterable[bytes], size: int, least: int = TASK_BYTES, counts: deque[int] | None = None
) -> Iterator[bytes]:
    """N-Triples documents of at least size parts and least bytes each (the last may be
    smaller): 8 articles of a long news story make a task, 60 short ones do. counts, when
    given, gets the number of parts of each document yielded."""
    batch: list[bytes] = []
    length = 0
    for part in parts:
        batch.append(part)
        length += len(part)
        if len(batch) >= size and length >= least:
            if counts is not None:
                counts.append(len(batch))
            yield b"".join(batch)
            batch, length = [], 0
    if batch:
        if counts is not None:
            counts.append(len(batch))
        yield b"".join(batch)


@dataclass(frozen=True)
class _Rules:
    """What a validation worker needs: the shapes and ontology files as (base IRI, bytes),
    and the engine. The files travel, not their paths: a worker may be another machine."""

    shapes: tuple[tuple[str, bytes], ...]
    ontology: tuple[tuple[str, bytes], ...]
    engine: str


def _rules(shapes_dir: Path, ontology_dir: Path, engine: str) -> _Rules:
    def files(folder: Path) -> tuple[tuple[str, bytes], ...]:
        return tuple((p.absolute().as_uri(), p.read_bytes()) for p in sorted(folder.glob("*.ttl")))

    return _Rules(files(shapes_dir), files(ontology_dir), engine)


class _Validator:
    """A worker's validator: shapes and ontology parsed (and compiled, for turbo) once."""

    def __init__(self, rules: _Rules) -> None:
        self.shapes, self.ontology = (self._graph(files) for files in (rules.shapes, rules.ontology))
        self.engine = rules.engine
        self.turbo = TurboValidator(self.shapes, self.ontology) if rules.engine == "turbo" else None

    @staticmethod
    def _graph(files: tuple[tuple[str, bytes], ...]) -> Graph:
        graph = Graph()
        for base, data in files:  # checked by load_shapes/load_ontology in the calling process
            graph.parse(data=data, format="turtle", publicID=base)
        return graph

    def results(self, ntriples: bytes) -> list[ValidationResult]:
        logging.getLogger("rdflib.term").setLevel(logging.CRITICAL)
        text = ntriples.decode("utf-8")
        if self.turbo is not None:
            return self.turbo.results(text)
        graph = Graph()
        graph.parse(data=text, format="nt")
        return validate(graph, self.shapes, self.ontology, "pyshacl").results


def _validate_batch(rules: _Rules, ntriples: bytes) -> list[ValidationResult]:
    """An executor task: the results of one batch of parts, by a validator made once per process."""
    return per_process(("shacl", rules), lambda: _Validator(rules)).results(ntriples)


def validate_quads(
    quads: QuadSource,
    shapes_dir: Path,
    ontology_dir: Path,
    *,
    engine: str | None = None,
    jobs: int = 0,
    articles_per_task: int = ARTICLES_PER_TASK,
    task_bytes: int = TASK_BYTES,
    executor: Executor | None = None,
    others: QuadSource | None = None,
    validated: Callable[[int], None] | None = None,
) -> ValidationOutcome:
    """Validate a kg build article graph by article graph (see validation_parts), at least
    articles_per_task articles and task_bytes of N-Triples per task (see task_batches), on
    executor (default: jobs local processes, 0: all cores), with the same results as one
    whole-graph run. quads is called twice and must give the same quads each time (once,
    when others gives the quads outside its article graphs). validated, when given, is
    called with the number of parts validated so far (one per article graph, and one for
    the other graphs) as each task's results come back.
    Memory stays bounded: one article graph is assembled at a time and a few tasks per
    worker are in flight."""
    return _validate_parts(
        lambda tally: validation_parts(quads, tally, others),
        shapes_dir,
        ontology_dir,
        engine=engine,
        jobs=jobs,
        articles_per_task=articles_per_task,
        task_bytes=task_bytes,
        executor=executor,
        validated=validated,
    )


def validate_article_text(
    graphs: Iterable[bytes],
    others: QuadSource,
    shapes_dir: Path,
    ontology_dir: Path,
    *,
    engine: str | None = None,
    jobs: int = 0,
    executor: Executor | None = None,
    validated: Callable[[int], None] | None = None,
    late: Future[list[ox.Quad]] | None = None,
) -> ValidationOutcome:
    """validate_quads for a build whose article graphs are at hand as N-Quads text, each
    the lines of one whole graph (see _text_parts), with others (and late, when done: see
    _text_parts) giving every statement outside them: the same results, without parsing
    the article graphs in this process."""
    return _validate_parts(
        lambda tally: _text_parts(graphs, others, tally, late),
        shapes_dir,
        ontology_dir,
        engine=engine,
        jobs=jobs,
        executor=executor,
        validated=validated,
    )


def _validate_parts(
    parts: Callable[[_Tally], Iterable[bytes]],
    shapes_dir: Path,
    ontology_dir: Path,
    *,
    engine: str | None,
    jobs: int,
    articles_per_task: int = ARTICLES_PER_TASK,
    task_bytes: int = TASK_BYTES,
    executor: Executor | None,
    validated: Callable[[int], None] | None,
) -> ValidationOutcome:
    """Validate the parts (made by parts from a tally it fills) in tasks on executor."""
    engine = engine or default_engine()
    _engine_validate(engine)
    load_shapes(shapes_dir), load_ontology(ontology_dir)  # fail early, in this process
    rules = _rules(shapes_dir, ontology_dir, engine)
    tally = _Tally()
    counts: deque[int] = deque()  # parts in each task, in the order the results come back
    tasks = task_batches(parts(tally), articles_per_task, task_bytes, counts)
    results: list[ValidationResult] = []
    done = 0
    for found in (executor or LocalExecutor(jobs)).map(_validate_batch, tasks, rules):
        results += found
        done += counts.popleft()
        if validated is not None:
            validated(done)
    return ValidationOutcome(
        results=_sorted(results),
        triples=tally.quads,
        articles=len(tally.articles),
        engine=engine,
        partitions=tally.parts,
    )


def validate_build(
    quads: Sequence[ox.Quad],
    shapes_dir: Path,
    ontology_dir: Path,
    *,
    engine: str | None = None,
    jobs: int = 0,
    executor: Executor | None = None,
) -> ValidationOutcome:
    """validate_quads on quads held in memory (grouped by graph first)."""
    ordered = sorted(quads, key=lambda q: str(q.graph_name))
    return validate_quads(lambda: ordered, shapes_dir, ontology_dir, engine=engine, jobs=jobs, executor=executor)


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


def report_iri(text: str) -> ox.NamedNode:
    """An IRI of the report. rdflib reads some IRIs leniently ("http://x/a b" from a Turtle
    file); the report names those with the offending characters percent-encoded."""
    try:
        return ox.NamedNode(text)
    except ValueError:
        return ox.NamedNode(quote(text, safe=":/?#[]@!$&'()*+,;=%~"))


def nt_term(text: str) -> ox.NamedNode | ox.BlankNode | ox.Literal:
    """A term written in N-Triples syntax (as rdflib's n3() writes it); a literal of the
    text itself when it is not one pyoxigraph reads."""
    if text.startswith("<") and text.endswith(">"):
        return report_iri(text[1:-1])
    if text.startswith("_:"):
        return ox.BlankNode(text[2:])
    try:
        term = next(iter(ox.parse(f"<urn:s> <urn:p> {text} .", format=ox.RdfFormat.N_TRIPLES))).object
    except (SyntaxError, ValueError, StopIteration):
        return ox.Literal(text)
    return term if not isinstance(term, ox.Triple) else ox.Literal(text)


def _file_quads(files: Sequence[Path], extra: Graph) -> QuadSource:
    """The quads of TriG/N-Quads files (read by pyoxigraph, which fetches nothing and
    expands no entities), then extra's triples in the default graph; streamed, not loaded."""
    from kg.terms import to_ox

    def read() -> Iterator[ox.Quad]:
        for path in files:
            fmt = format_for_path(path.name)
            assert fmt is not None and fmt.oxigraph is not None
            try:
                yield from ox.parse(path=str(path), format=fmt.oxigraph)
            except SyntaxError as exc:
                raise ValidationInputError(f"{path}: {_parse_message(exc, path)}") from exc
        for s, p, o in extra:
            yield ox.Quad(to_ox(s), to_ox(p), to_ox(o), ox.DefaultGraph())  # type: ignore[arg-type]

    return read


def _has_article_graphs(files: Sequence[Path]) -> bool:
    """Whether the first named graph in the files is a kg article graph (a kg build)."""
    for path in files:
        fmt = format_for_path(path.name)
        assert fmt is not None and fmt.oxigraph is not None
        try:
            for quad in ox.parse(path=str(path), format=fmt.oxigraph):
                if _is_article_graph(quad.graph_name):
                    return True
        except SyntaxError as exc:
            raise ValidationInputError(f"{path}: {_parse_message(exc, path)}") from exc
    return False


def run_validation(
    paths: Sequence[Path],
    shapes_dir: Path,
    ontology_dir: Path,
    *,
    engine: str | None = None,
    jobs: int = 0,
    executor: Executor | None = None,
    others: QuadSource | None = None,
    validated: Callable[[int], None] | None = None,
) -> ValidationOutcome:
    """Validate files or folders. A kg build (TriG/N-Quads with article graphs, plus any
    other files such as void.ttl) is validated article by article in parallel on executor
    (default: jobs local processes), streamed from the files so memory does not grow with
    the corpus; anything else as one union graph, in this process. others, when the caller
    has them at hand (store_others), gives the build's statements outside article graphs
    (void.ttl's included), which saves a pass over the files. validated: as in
    validate_quads (called only for a kg build validated article by article)."""
    files = _files(paths)
    datasets = [p for p in files if (fmt := format_for_path(p.name)) is not None and fmt.datasets]
    other_files = [p for p in files if p not in datasets]
    if datasets and _has_article_graphs(datasets):
        extra = load_data(other_files) if other_files else Graph()
        source = _file_quads(datasets, extra)
        try:
            return validate_quads(
                source,
                shapes_dir,
                ontology_dir,
                engine=engine,
                jobs=jobs,
                executor=executor,
                others=others,
                validated=validated,
            )
        except _GraphsNotGrouped:  # graphs interleaved: group them in memory
            return validate_build(list(source()), shapes_dir, ontology_dir, engine=engine, jobs=jobs, executor=executor)
    return validate(load_data(paths), load_shapes(shapes_dir), load_ontology(ontology_dir), engine=engine)


def store_others(path: Path) -> QuadSource:
    """The statements of the Oxigraph store at path outside kg article graphs, for
    run_validation's others (read from the store's graph index, not from the dumps)."""

    def read() -> Iterator[ox.Quad]:
        store = ox.Store.read_only(str(path))
        try:
            for graph in sorted(store.named_graphs(), key=str):
                if not _is_article_graph(graph):
                    yield from store.quads_for_pattern(None, None, None, graph)
            yield from store.quads_for_pattern(None, None, None, ox.DefaultGraph())
        finally:
            del store

    return read
