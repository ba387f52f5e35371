"""Conversion between rdflib terms (mapping, validation) and pyoxigraph terms (store, dumps),
and literals written as N-Triples text the way pyoxigraph writes them."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator

import pyoxigraph as ox
from rdflib import BNode, Literal, URIRef
from rdflib.term import Node

Quad = tuple[Node, Node, Node, Node]
_XSD_DATETIME = URIRef("http://www.w3.org/2001/XMLSchema#dateTime")


def graph_of_quad_line(quad_line: bytes) -> bytes:
    """The graph name (<IRI>, as written) of an N-Quads line of a named graph: its last
    term, which has no space in it ("<s> <p> <o> <g> ." -> "<g>")."""
    return quad_line[quad_line.rindex(b" <") + 1 : -2]


def datetime_literal(value: dt.datetime) -> Literal:
    """An xsd:dateTime in UTC written the canonical way ("...Z"), as the store keeps it.
    rdflib would rewrite "Z" as "+00:00", so the dumps and the store would differ."""
    text = value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return Literal(text, datatype=_XSD_DATETIME, normalize=False)


#: How pyoxigraph's N-Triples writer escapes a literal's characters (checked against it for
#: every code point in tests/test_terms.py): these named escapes, \uXXXX for the other C0
#: controls, DEL and the noncharacters U+FFFE and U+FFFF; everything else as it is.
_NT_ESCAPES = {
    **{c: f"\\u{c:04X}" for c in (*range(0x20), 0x7F, 0xFFFE, 0xFFFF)},
    0x08: "\\b",
    0x09: "\\t",
    0x0A: "\\n",
    0x0C: "\\f",
    0x0D: "\\r",
    0x22: '\\"',
    0x5C: "\\\\",
}


def nt_string(text: str) -> str:
    """A plain (xsd:string) literal in N-Triples, byte for byte as pyoxigraph writes it."""
    return '"' + text.translate(_NT_ESCAPES) + '"'


def nt_typed(lexical: str, datatype: str) -> str:
    """A literal of datatype (not xsd:string) in N-Triples, as pyoxigraph writes it."""
    return f"{nt_string(lexical)}^^<{datatype}>"


def nt_iri(iri: str) -> str:
    """An IRI in N-Triples, as pyoxigraph writes it; for IRIs kg mints, which need no escaping.
    (An f-string: "<" + a URIRef would make another URIRef, through URIRef.__radd__.)"""
    return f"<{iri}>"


def nquads(statements: Iterable[tuple[str, str, str]], graph: str) -> str:
    """(subject, predicate, object) written as N-Triples terms, as N-Quads lines in graph (also written)."""
    return "".join([f"{s} {p} {o} {graph} .\n" for s, p, o in statements])


_NT_ESCAPE = re.compile(r"\\(?:u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8})|(.))")
_NT_ECHARS = {"t": "\t", "b": "\b", "n": "\n", "r": "\r", "f": "\f", '"': '"', "'": "'", "\\": "\\"}


def _unescaped(match: re.Match[str]) -> str:
    code = match.group(1) or match.group(2)
    if code:
        return chr(int(code, 16))
    try:
        return _NT_ECHARS[match.group(3)]
    except KeyError:
        raise ValueError(f"not an N-Triples escape: {match.group()!r}") from None


def nt_unescape(lexical: str) -> str:
    """The text of an N-Triples literal's lexical form (between its quotes): its escapes
    (ECHAR, UCHAR) read; nt_string's inverse. ValueError for an escape N-Triples lacks."""
    return _NT_ESCAPE.sub(_unescaped, lexical) if "\\" in lexical else lexical


def to_ox(term: Node) -> ox.NamedNode | ox.BlankNode | ox.Literal:
    """One rdflib term as a pyoxigraph term."""
    if isinstance(term, URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, BNode):
        return ox.BlankNode(str(term))
    if isinstance(term, Literal):
        if term.language:
            return ox.Literal(str(term), language=term.language)
        if term.datatype:
            return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)))
        return ox.Literal(str(term))
    raise TypeError(f"cannot convert {term!r}")


def from_ox(term: object) -> Node:
    """One pyoxigraph term as an rdflib term."""
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if isinstance(term, ox.Literal):
        if term.language:
            return Literal(term.value, lang=term.language)
        datatype = term.datatype.value
        if datatype == "http://www.w3.org/2001/XMLSchema#string":
            return Literal(term.value)
        return Literal(term.value, datatype=URIRef(datatype))
    raise TypeError(f"cannot convert {term!r}")


def quads_to_ox(quads: Iterable[Quad]) -> Iterator[ox.Quad]:
    for s, p, o, g in quads:
        yield ox.Quad(to_ox(s), to_ox(p), to_ox(o), to_ox(g))  # type: ignore[arg-type]
