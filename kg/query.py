"""SPARQL over the store with the endpoint's policy: read-only, no SERVICE unless allowed,
a maximum query length, a result row limit and a time budget."""

from __future__ import annotations

import csv
import io
import json
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from json.encoder import encode_basestring  # the C encoder json.dumps(ensure_ascii=False) uses
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import pyoxigraph as ox

from kg.formats import BY_NAME, RdfFormat, serialize_graph
from kg.settings import Settings
from kg.store.base import GraphStore
from kg.store.sparql import RemoteStoreError

#: SPARQL results media types, by short name.
RESULT_TYPES = {
    "json": "application/sparql-results+json",
    "xml": "application/sparql-results+xml",
    "csv": "text/csv",
    "tsv": "text/tab-separated-values",
}

_COMMENT_STRING_IRI = re.compile(
    r'"""(?:[^"\\]|\\.|"(?!""))*"""|\'\'\'(?:[^\'\\]|\\.|\'(?!\'\'))*\'\'\''
    r'|"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'|<[^<>"{}|^`\\\s]*>|#[^\n]*',
)
_KEYWORD = r"(?<![\w:?$]){}(?![\w:-])"
#: A word as the keyword checks read one: a run of word characters not after ':', '?' or '$'
#: (a prefixed name's local part, a variable) and not before ':' or '-' (a prefix).
_WORD = re.compile(_KEYWORD.format(r"\w+"))
_UPDATE_WORDS = frozenset({"INSERT", "DELETE", "LOAD", "CLEAR", "DROP", "CREATE", "ADD", "MOVE", "COPY"})
#: What makes two runs of one query over unchanged data answer differently.
_VOLATILE_WORDS = frozenset({"NOW", "RAND", "UUID", "STRUUID", "BNODE", "SERVICE"})
_KEYWORDS = _UPDATE_WORDS | _VOLATILE_WORDS | {"FROM"}
_SERVICE_TARGET = re.compile(_KEYWORD.format("SERVICE") + r"(?:\s+SILENT)?\s*(<[^<>\s]*>|\S+)", re.IGNORECASE)


def service_targets(sparql: str) -> list[str]:
    """What each SERVICE in the query calls: an IRI as written, or the token in its place
    (a variable or prefixed name). Comments and strings are ignored."""

    def blank(match: re.Match[str]) -> str:
        text = match.group(0)
        return text if text.startswith("<") else " " * len(text)

    code = _COMMENT_STRING_IRI.sub(blank, sparql)  # IRIs kept, the rest blanked
    return [m.group(1) for m in _SERVICE_TARGET.finditer(code)]


class QueryError(Exception):
    """A query the endpoint will not or cannot answer; status is the HTTP status to send."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class QueryOutcome:
    """The answer to a query: kind is 'select', 'ask' or 'graph'. serialized: the answer
    already written (serialize_here) as serialized_as, a results format for a SELECT or ASK
    or an RDF format for a CONSTRUCT or DESCRIBE; its rows or triples are then not kept."""

    kind: str
    variables: list[str]
    rows: list[list[Any]]
    boolean: bool | None
    triples: list[ox.Triple]
    truncated: bool
    elapsed: float
    serialized: bytes | None = None
    serialized_as: str | None = None

    def serialize_here(self, kind: str | None, graph_format: str | None = None) -> None:
        """Write a SELECT or ASK answer as results format kind, or a CONSTRUCT or DESCRIBE
        answer as the RDF format named graph_format, now, and let go of its rows or triples
        (a query worker does, so only bytes go back to the web process, not term objects:
        pickling and unpickling 2,622 triples took 24 ms, writing them as Turtle 1.5)."""
        if kind is not None and self.kind in ("select", "ask"):
            self.serialized, self.serialized_as = serialize_results(self, kind), kind
            self.rows = []
        elif graph_format is not None and self.kind == "graph":
            self.serialized, self.serialized_as = self.graph(BY_NAME[graph_format]), graph_format
            self.triples = []

    def results(self, kind: str) -> bytes:
        """The SELECT or ASK answer as results format kind."""
        if self.serialized is not None and self.serialized_as == kind:
            return self.serialized
        if self.serialized is not None:
            raise ValueError(f"this answer was written as {self.serialized_as}, not {kind}")
        return serialize_results(self, kind)

    def graph(self, fmt: RdfFormat) -> bytes:
        """The CONSTRUCT or DESCRIBE answer in RDF format fmt (duplicate triples once)."""
        if self.serialized is not None and self.serialized_as == fmt.name:
            return self.serialized
        if self.serialized is not None:
            raise ValueError(f"this answer was written as {self.serialized_as}, not {fmt.name}")
        return serialize_graph(self.triples, fmt)


def strip_literals(sparql: str) -> str:
    """The query with comments, string literals and IRIs blanked, for keyword checks."""
    return _COMMENT_STRING_IRI.sub(" ", sparql)


def keywords(code: str) -> list[str]:
    """The keywords the checks look for (update operations, FROM, SERVICE, NOW(), RAND(),
    ...) among the words of code (strip_literals' output), upper-cased, in order. One pass
    over the words: a case-insensitive alternation of the keywords took 33 microseconds for a
    short query, about a twentieth of a fast query's whole run."""
    return [word for word in (m.group().upper() for m in _WORD.finditer(code)) if word in _KEYWORDS]


def same_answer_every_time(sparql: str) -> bool:
    """Whether the query answers the same on every run over data that does not change: no
    NOW(), RAND(), UUID(), STRUUID() or BNODE(), and no SERVICE (another endpoint's data)."""
    return _VOLATILE_WORDS.isdisjoint(keywords(strip_literals(sparql)))


def check_policy(sparql: str, settings: Settings) -> None:
    """Refuse what a public read-only endpoint must not run, before the engine sees it."""
    _checked_keywords(sparql, settings)


def _checked_keywords(sparql: str, settings: Settings) -> list[str]:
    """check_policy, returning the query's keywords (keywords()) for more checks."""
    if len(sparql) > settings.max_query_length:
        raise QueryError(413, f"query is {len(sparql)} characters; the limit is {settings.max_query_length}")
    found = keywords(strip_literals(sparql))
    update = next((word for word in found if word in _UPDATE_WORDS), None)
    if update:
        raise QueryError(403, f"this endpoint is read-only: SPARQL Update ({update}) is refused")
    if "SERVICE" in found:
        allowed = set(settings.service_allowlist.split())
        if not allowed:
            raise QueryError(403, "SERVICE (federated query) is disabled on this endpoint")
        for target in service_targets(sparql):
            if target.startswith("<") and target[1:-1] in allowed:
                continue
            raise QueryError(
                403, f"SERVICE {target} is not allowed: this endpoint calls only {', '.join(sorted(allowed))}"
            )
    return found


def run_query(
    store: GraphStore,
    sparql: str,
    settings: Settings,
    *,
    default_graphs: Sequence[str] = (),
    named_graphs: Sequence[str] = (),
) -> QueryOutcome:
    """Check the policy, run the query, and collect at most result_limit rows."""
    found = _checked_keywords(sparql, settings)
    started = time.monotonic()
    deadline = started + settings.query_timeout
    try:
        result = store.query(
            sparql,
            default_graph=[ox.NamedNode(g) for g in default_graphs] or None,
            named_graphs=[ox.NamedNode(g) for g in named_graphs] or None,
            base_iri=settings.base_iri + "sparql",  # the service-defined base: the endpoint
            dataset_in_query="FROM" in found,
        )
    except SyntaxError as exc:
        raise QueryError(400, f"malformed query: {exc}") from exc
    except RemoteStoreError as exc:
        if exc.timed_out:
            raise QueryError(504, f"the remote store did not answer within {settings.query_timeout:g} s") from exc
        raise QueryError(502, f"the remote store failed: {exc}") from exc
    except (ValueError, OSError) as exc:
        raise QueryError(400, f"query failed: {exc}") from exc
    limit = settings.result_limit

    def take(items: Iterable[Any]) -> tuple[list[Any], bool]:
        taken: list[Any] = []
        try:
            for item in items:
                if len(taken) >= limit:
                    return taken, True
                if time.monotonic() > deadline:
                    raise QueryError(503, f"query exceeded the {settings.query_timeout:g} s time limit")
                taken.append(item)
        except (ValueError, OSError, RuntimeError) as exc:
            raise QueryError(400, f"query evaluation failed: {exc}") from exc
        return taken, False

    if isinstance(result, ox.QueryBoolean):
        return QueryOutcome("ask", [], [], bool(result), [], False, time.monotonic() - started)
    if isinstance(result, ox.QuerySolutions):
        variables = [v.value for v in result.variables]
        solutions, truncated = take(result)
        rows = [list(solution) for solution in solutions]  # in variables' order, None unbound (7x faster than by name)
        return QueryOutcome("select", variables, rows, None, [], truncated, time.monotonic() - started)
    triples, truncated = take(result)
    return QueryOutcome("graph", [], [], None, triples, truncated, time.monotonic() - started)


# --- SPARQL results serialisations -------------------------------------------------------


_XSD_STRING = ox.NamedNode("http://www.w3.org/2001/XMLSchema#string")


def _term_json(term: Any) -> str:
    """A bound value as SPARQL JSON results text, as json.dumps writes the object. The
    types are told apart by identity (pyoxigraph's term classes are final), literals first."""
    kind = type(term)
    if kind is ox.Literal:
        language = term.language
        value = '{"type": "literal", "value": ' + encode_basestring(term.value)
        if language:
            return value + ', "xml:lang": ' + encode_basestring(language) + "}"
        datatype = term.datatype
        if datatype != _XSD_STRING:
            return value + ', "datatype": ' + encode_basestring(datatype.value) + "}"
        return value + "}"
    if kind is ox.NamedNode:
        return '{"type": "uri", "value": ' + encode_basestring(term.value) + "}"
    if kind is ox.BlankNode:
        return '{"type": "bnode", "value": ' + encode_basestring(term.value) + "}"
    return '{"type": "literal", "value": ' + encode_basestring(str(term)) + "}"  # e.g. a quoted triple


def _json_results(outcome: QueryOutcome) -> bytes:
    """SPARQL JSON results, byte for byte what json.dumps(ensure_ascii=False) writes for
    the document, put together as text (strings encoded by json's own C encoder): 3x
    faster for 100 rows of one variable, 1.7x for 1,000 rows of three (0.35 -> 0.12 ms and
    6.5 -> 3.9 ms), which a fresh /sparql answer spends in its query worker."""
    head = json.dumps({"vars": outcome.variables}, ensure_ascii=False)
    if outcome.kind == "ask":
        return f'{{"head": {head}, "boolean": {"true" if outcome.boolean else "false"}}}'.encode()
    names = [encode_basestring(v) + ": " for v in outcome.variables]
    if len(names) == 1:
        name = names[0]
        items = ["{}" if t is None else "{" + name + _term_json(t) + "}" for (t,) in outcome.rows]
    else:
        items = [
            "{" + ", ".join([name + _term_json(t) for name, t in zip(names, row, strict=True) if t is not None]) + "}"
            for row in outcome.rows
        ]
    return f'{{"head": {head}, "results": {{"bindings": [{", ".join(items)}]}}}}'.encode()


def _term_xml(term: Any) -> str:
    if isinstance(term, ox.NamedNode):
        return f"<uri>{escape(term.value)}</uri>"
    if isinstance(term, ox.BlankNode):
        return f"<bnode>{escape(term.value)}</bnode>"
    if term.language:
        return f"<literal xml:lang={quoteattr(term.language)}>{escape(term.value)}</literal>"
    if term.datatype != _XSD_STRING:
        return f"<literal datatype={quoteattr(term.datatype.value)}>{escape(term.value)}</literal>"
    return f"<literal>{escape(term.value)}</literal>"


def _term_csv(term: Any) -> str:
    if term is None:
        return ""
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    return str(term.value)


def _term_tsv(term: Any) -> str:
    return "" if term is None else str(term)


def serialize_results(outcome: QueryOutcome, kind: str) -> bytes:
    """SELECT/ASK results as 'json', 'xml', 'csv' or 'tsv'."""
    if kind == "json":
        return _json_results(outcome)
    if kind == "xml":
        parts = ['<?xml version="1.0"?>\n<sparql xmlns="http://www.w3.org/2005/sparql-results#">\n<head>']
        parts += [f"<variable name={quoteattr(v)}/>" for v in outcome.variables]
        parts.append("</head>\n")
        if outcome.kind == "ask":
            parts.append(f"<boolean>{'true' if outcome.boolean else 'false'}</boolean>\n")
        else:
            parts.append("<results>\n")
            for row in outcome.rows:
                parts.append("<result>")
                for v, t in zip(outcome.variables, row, strict=True):
                    if t is not None:
                        parts.append(f"<binding name={quoteattr(v)}>{_term_xml(t)}</binding>")
                parts.append("</result>\n")
            parts.append("</results>\n")
        parts.append("</sparql>\n")
        return "".join(parts).encode("utf-8")
    if kind in ("csv", "tsv"):
        if outcome.kind == "ask":
            header = "_askResult\r\n" if kind == "csv" else "?_askResult\n"
            return (header + ("true" if outcome.boolean else "false") + "\n").encode()
        if kind == "csv":
            buffer = io.StringIO()
            writer = csv.writer(buffer, lineterminator="\r\n")
            writer.writerow(outcome.variables)
            writer.writerows([[_term_csv(t) for t in row] for row in outcome.rows])
            return buffer.getvalue().encode("utf-8")
        lines = ["\t".join("?" + v for v in outcome.variables)]
        lines += ["\t".join(_term_tsv(t) for t in row) for row in outcome.rows]
        return ("\n".join(lines) + "\n").encode("utf-8")
    raise ValueError(f"unknown results format {kind!r}")
