"""Plain-text renderings for the command line: result tables and graph serialisations."""

from __future__ import annotations

from collections.abc import Sequence

import pyoxigraph as ox

from kg.formats import BY_NAME, serialize_triples
from kg.namespaces import curie
from kg.query import QueryOutcome


def _cell(term: object) -> str:
    if term is None:
        return ""
    if isinstance(term, ox.NamedNode):
        return curie(term.value) or term.value
    if isinstance(term, ox.Literal):
        return term.value.replace("\n", " ")
    return str(term)


def text_table(outcome: QueryOutcome, max_width: int = 60) -> str:
    """SELECT/ASK results as an aligned text table with a row count."""
    if outcome.kind == "ask":
        return "true" if outcome.boolean else "false"
    cells = [[_cell(t)[:max_width] for t in row] for row in outcome.rows]
    widths = [max([len(v), *(len(r[i]) for r in cells)]) for i, v in enumerate(outcome.variables)]
    line = "  ".join("-" * w for w in widths)
    out = ["  ".join(v.ljust(w) for v, w in zip(outcome.variables, widths, strict=True)), line]
    out += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    out.append(f"({len(cells)} row{'s' if len(cells) != 1 else ''})")
    return "\n".join(out)


def write_graph(triples: Sequence[ox.Triple], fmt: str) -> str:
    """Triples as turtle, ntriples or jsonld text."""
    return serialize_triples(triples, BY_NAME[fmt]).decode("utf-8")
