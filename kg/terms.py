"""Conversion between rdflib terms (mapping, validation) and pyoxigraph terms (store, dumps)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator

import pyoxigraph as ox
from rdflib import BNode, Literal, URIRef
from rdflib.term import Node

Quad = tuple[Node, Node, Node, Node]
_XSD_DATETIME = URIRef("http://www.w3.org/2001/XMLSchema#dateTime")


def datetime_literal(value: dt.datetime) -> Literal:
    """An xsd:dateTime in UTC written the canonical way ("...Z"), as the store keeps it.
    rdflib would rewrite "Z" as "+00:00", so the dumps and the store would differ."""
    text = value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return Literal(text, datatype=_XSD_DATETIME, normalize=False)


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
