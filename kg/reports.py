"""Validation reports in the formats each reader wants: text for people, Turtle (the
standard sh:ValidationReport), stable JSON, JUnit XML for CI dashboards, and GitHub Actions
annotations pointing at the raw file of each article."""

from __future__ import annotations

import functools
import io
import json
import re
from collections import defaultdict
from collections.abc import Iterator
from json.encoder import encode_basestring
from pathlib import Path
from typing import IO, Any
from xml.sax.saxutils import escape, quoteattr

import pyoxigraph as ox

from kg.namespaces import PREFIXES, curie
from kg.validate import SEVERITIES, ValidationOutcome, ValidationResult, nt_term, report_iri

FORMATS = ("text", "turtle", "json", "junit", "github")
#: Version of the JSON report layout (documented in the README); bump on incompatible change.
JSON_VERSION = 1


#: Prefixes for display: the graph's, plus the shapes' own namespace.
_DISPLAY_PREFIXES = {**PREFIXES, "kgsh": "https://newskg.dev/shapes#"}


def _short(iri: str | None) -> str:
    if iri is None:
        return ""
    return curie(iri, _DISPLAY_PREFIXES) or iri


def _summary(outcome: ValidationOutcome) -> str:
    counts = ", ".join(f"{outcome.count(s)} {s.lower()}{'s' if outcome.count(s) != 1 else ''}" for s in SEVERITIES)
    verdict = "conforms" if outcome.conforms else "does NOT conform"
    return f"kg validate: {outcome.triples} triples, {outcome.articles} articles: {verdict} ({counts})"


def format_text(outcome: ValidationOutcome) -> str:
    """A summary line, then results grouped by focus node with article headline and file."""
    lines = [_summary(outcome)]
    grouped: dict[str, list[ValidationResult]] = defaultdict(list)
    for result in outcome.results:
        grouped[result.focus].append(result)
    for focus, results in grouped.items():
        lines.append("")
        lines.append(focus if results[0].focus_is_iri else "(blank node)")
        first = results[0]
        if first.headline is not None or first.file is not None:
            lines.append(f"  article: {first.headline or '(no headline)'}")
            lines.append(f"  file: {first.file or '(no source file)'}")
        for r in results:
            where = f" [{_short(r.path)}]" if r.path else ""
            value = f" (value: {r.value})" if r.value and len(r.value) < 80 else ""
            lines.append(f"  {r.severity.upper()}{where}: {r.message}{value}")
    return "\n".join(lines) + "\n"


_SH = "http://www.w3.org/ns/shacl#"
_LOCAL_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
#: Results written to the Turtle report at a time.
_TURTLE_CHUNK = 2_000


@functools.lru_cache(maxsize=4096)
def _turtle_iri(text: str) -> str:
    """An IRI of the report in Turtle: a prefixed name when its namespace is one of PREFIXES
    and the rest a plain name, else <IRI> (made valid: report_iri)."""
    for prefix, namespace in PREFIXES.items():
        if text.startswith(namespace) and _LOCAL_NAME.fullmatch(text[len(namespace) :]):
            return f"{prefix}:{text[len(namespace) :]}"
    return str(report_iri(text))


@functools.lru_cache(maxsize=4096)
def _turtle_literal(text: str) -> str:
    return str(ox.Literal(text))


@functools.lru_cache(maxsize=65536)
def _turtle_term(n_triples: str) -> str:
    term = nt_term(n_triples)
    return _turtle_iri(term.value) if isinstance(term, ox.NamedNode) else str(term)


def _turtle_result(i: int, r: ValidationResult) -> str:
    focus = str(report_iri(r.focus)) if r.focus_is_iri else str(ox.BlankNode(r.focus))
    shape = _turtle_iri(r.shape) if "://" in r.shape else str(ox.BlankNode(r.shape))
    path = f" ;\n\tsh:resultPath {_turtle_iri(r.path)}" if r.path else ""
    value = f" ;\n\tsh:value {_turtle_term(r.value_term)}" if r.value_term else ""
    return (
        f"_:r{i} a sh:ValidationResult ;\n\tsh:focusNode {focus} ;\n"
        f"\tsh:resultSeverity {_turtle_iri(_SH + r.severity)} ;\n\tsh:resultMessage {_turtle_literal(r.message)} ;\n"
        f"\tsh:sourceConstraintComponent {_turtle_iri(r.constraint)} ;\n\tsh:sourceShape {shape}{path}{value} .\n"
    )


def write_turtle(outcome: ValidationOutcome, out: IO[bytes]) -> None:
    """The standard sh:ValidationReport as Turtle: the report node (_:report) with its
    sh:conforms and sh:result _:r0 ... _:rN, then each result's focus node, severity,
    message, constraint component, source shape, path and value, written as text a chunk of
    results at a time (making each result's triples as term objects for a serialiser took
    7.7 s for the 300,000 results of 100,000 articles)."""
    head = "".join(f"@prefix {prefix}: <{namespace}> .\n" for prefix, namespace in PREFIXES.items())
    head += f"_:report a sh:ValidationReport ;\n\tsh:conforms {str(outcome.conforms).lower()}"
    out.write(head.encode("utf-8"))
    results = outcome.results
    for start in range(0, len(results), _TURTLE_CHUNK):
        ids = range(start, min(start + _TURTLE_CHUNK, len(results)))
        out.write((" ;\n\tsh:result " if start == 0 else " , ").encode() + " , ".join(f"_:r{i}" for i in ids).encode())
    out.write(b" .\n")
    for start in range(0, len(results), _TURTLE_CHUNK):
        chunk = results[start : start + _TURTLE_CHUNK]
        out.write("".join(_turtle_result(start + i, r) for i, r in enumerate(chunk)).encode("utf-8"))


def format_turtle(outcome: ValidationOutcome) -> str:
    """The standard sh:ValidationReport."""
    buffer = io.BytesIO()
    write_turtle(outcome, buffer)
    return buffer.getvalue().decode("utf-8")


def _json_result(r: ValidationResult) -> dict[str, Any]:
    return {
        "severity": r.severity.lower(),
        "focus": r.focus,
        "path": r.path,
        "message": r.message,
        "value": r.value,
        "shape": r.shape if "://" in r.shape else None,
        "constraint": r.constraint,
        "article": r.headline,
        "file": r.file,
    }


def _json_chunks(outcome: ValidationOutcome) -> Iterator[str]:
    """json.dumps(document, indent=2) of the report, a result at a time."""
    head = {
        "version": JSON_VERSION,
        "conforms": outcome.conforms,
        "counts": {s.lower(): outcome.count(s) for s in SEVERITIES},
        "triples": outcome.triples,
        "articles": outcome.articles,
        "engine": outcome.engine,
        "results": [],
    }
    text = json.dumps(head, indent=2, ensure_ascii=False)
    if not outcome.results:
        yield text + "\n"
        return
    yield text.removesuffix("[]\n}") + "[\n"
    results = outcome.results
    for start in range(0, len(results), _JSON_CHUNK):
        chunk = results[start : start + _JSON_CHUNK]
        yield ("    " if start == 0 else ",\n    ") + ",\n    ".join(_json_item(r) for r in chunk)
    yield "\n  ]\n}\n"


#: Results put together as JSON text at a time.
_JSON_CHUNK = 2_000


def _json_item(r: ValidationResult) -> str:
    """json.dumps(_json_result(r), indent=2, ensure_ascii=False), indented by four more
    spaces, its strings encoded by json's C encoder (json.dumps with indent encodes in
    Python: 4.8 s for the 300,000 results of 100,000 articles)."""
    fields = ",\n".join(
        f'      "{key}": {encode_basestring(value) if isinstance(value, str) else json.dumps(value)}'
        for key, value in _json_result(r).items()
    )
    return "{\n" + fields + "\n    }"


def write_json(outcome: ValidationOutcome, out: IO[str]) -> None:
    """Stable JSON (see format_json), written a result at a time."""
    for chunk in _json_chunks(outcome):
        out.write(chunk)


def format_json(outcome: ValidationOutcome) -> str:
    """Stable JSON: {"version", "conforms", "counts", "triples", "articles", "results": [...]}."""
    return "".join(_json_chunks(outcome))


def _case_name(r: ValidationResult) -> str:
    return f"{_short(r.shape) if '://' in r.shape else _short(r.constraint)} {_short(r.path)}".strip()


def format_junit(outcome: ValidationOutcome, fail_on: str = "violation") -> str:
    """JUnit XML: one test case per shape x focus node with results (failing when a result
    is at least fail_on), plus one case for the graph as a whole."""
    threshold = SEVERITIES.index(fail_on.capitalize())
    cases: dict[tuple[str, str], list[ValidationResult]] = defaultdict(list)
    for r in outcome.results:
        cases[(_case_name(r), r.focus)].append(r)
    failures = 0
    body = []
    for (shape, focus), results in sorted(cases.items()):
        failing = [r for r in results if SEVERITIES.index(r.severity) <= threshold]
        name = f"{results[0].file or focus} {shape}"
        body.append(
            f"  <testcase classname={quoteattr('kg.validate.' + (results[0].file or 'graph'))} name={quoteattr(name)}>"
        )
        if failing:
            failures += 1
            text = "\n".join(f"{r.severity}: {r.message} (focus {r.focus}, path {_short(r.path)})" for r in failing)
            body.append(
                f"    <failure message={quoteattr(failing[0].message)} type={quoteattr(failing[0].severity)}>"
                f"{escape(text)}</failure>"
            )
        others = [r for r in results if r not in failing]
        if others:
            body.append(
                "    <system-out>" + escape("\n".join(f"{r.severity}: {r.message}" for r in others)) + "</system-out>"
            )
        body.append("  </testcase>")
    overall_failed = outcome.fails(fail_on)
    body.append(f'  <testcase classname="kg.validate" name={quoteattr("graph conforms (fail on " + fail_on + ")")}>')
    if overall_failed:
        body.append(f'    <failure message={quoteattr(_summary(outcome))} type="NotConforming"/>')
    body.append("  </testcase>")
    failures += overall_failed
    head = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<testsuites>\n<testsuite name="kg validate" '
        f'tests="{len(cases) + 1}" failures="{failures}" errors="0" skipped="0">'
    )
    return head + "\n" + "\n".join(body) + "\n</testsuite>\n</testsuites>\n"


def _gh_escape(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _gh_property(text: str) -> str:
    return _gh_escape(text).replace(":", "%3A").replace(",", "%2C")


def format_github(outcome: ValidationOutcome, raw_dir: Path = Path("raw")) -> str:
    """GitHub Actions workflow commands: ::error/::warning/::notice file=raw/<file>::message."""
    command = {"Violation": "error", "Warning": "warning", "Info": "notice"}
    lines = []
    for r in outcome.results:
        props = [f"title={_gh_property('kg validate: ' + (_short(r.path) or 'shape'))}"]
        if r.file:
            props.insert(0, f"file={_gh_property((raw_dir / r.file).as_posix())}")
        message = f"{r.message} ({r.focus})"
        lines.append(f"::{command.get(r.severity, 'error')} {','.join(props)}::{_gh_escape(message)}")
    lines.append(_summary(outcome))
    return "\n".join(lines) + "\n"


def render(outcome: ValidationOutcome, fmt: str, *, fail_on: str = "violation", raw_dir: Path = Path("raw")) -> str:
    """The report in one of FORMATS."""
    if fmt == "text":
        return format_text(outcome)
    if fmt == "turtle":
        return format_turtle(outcome)
    if fmt == "json":
        return format_json(outcome)
    if fmt == "junit":
        return format_junit(outcome, fail_on)
    if fmt == "github":
        return format_github(outcome, raw_dir)
    raise ValueError(f"unknown report format {fmt!r} (one of {', '.join(FORMATS)})")
