"""Serialising triples for responses, and turning RDF terms into display values."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pyoxigraph as ox

from kg.formats import BY_MEDIA_TYPE
from kg.jsonld import dumps_jsonld
from kg.namespaces import PREFIXES


def serialize(triples: Sequence[ox.Triple], media_type: str) -> bytes:
    """Triples in an RDF media type (JSON-LD compacted with kg's prefixes)."""
    if media_type == "application/ld+json":
        return dumps_jsonld(triples, PREFIXES)
    fmt = BY_MEDIA_TYPE[media_type]
    prefixes = PREFIXES if fmt.name in ("turtle", "trig", "rdfxml") else None
    return ox.serialize(list(triples), format=fmt.oxigraph, prefixes=prefixes) or b""


def curie(iri: str) -> str:
    """'http://schema.org/name' -> 'schema:name' (or the IRI when no prefix fits)."""
    for prefix, namespace in PREFIXES.items():
        if iri.startswith(namespace) and len(iri) > len(namespace):
            return f"{prefix}:{iri[len(namespace) :]}"
    return iri


@dataclass(frozen=True)
class Value:
    """A term as shown on a page: text, an optional link, and a note (datatype/language)."""

    text: str
    href: str | None = None
    note: str | None = None


def display(term: object, labels: dict[str, str], base: str) -> Value:
    """A display value for a term; IRIs under base link by path so the site works on any host."""
    if isinstance(term, ox.NamedNode):
        iri = term.value
        href: str | None = "/" + iri[len(base) :] if iri.startswith(base) else iri
        if href is not None and not href.startswith(("/", "http://", "https://")):
            href = None  # javascript:, data: and other schemes never become links
        return Value(labels.get(iri) or curie(iri), href, None if iri in labels else None)
    if isinstance(term, ox.Literal):
        note = term.language or (
            curie(term.datatype.value) if term.datatype.value != "http://www.w3.org/2001/XMLSchema#string" else None
        )
        return Value(term.value, None, note)
    return Value(str(term))
