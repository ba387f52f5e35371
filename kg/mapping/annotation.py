"""Mention evidence as W3C Web Annotations with text position and quote selectors."""

from __future__ import annotations

from rdflib import Literal, URIRef

from kg.iris import Minter
from kg.mapping import Triple
from kg.namespaces import OA, PROV, RDF, XSD

#: Characters of context kept before and after the quoted mention.
CONTEXT_CHARS = 32


def mention_triples(
    minter: Minter,
    key: str,
    body: str,
    start: int,
    end: int,
    entity: URIRef,
    *,
    build: URIRef,
    extractor: URIRef,
) -> list[Triple]:
    """One oa:Annotation saying body[start:end] of the article identifies entity."""
    article = minter.article(key)
    annotation = minter.mention(key, start, end)
    target = minter.mention_part(key, start, end, "target")
    position = minter.mention_part(key, start, end, "position")
    quote = minter.mention_part(key, start, end, "quote")
    return [
        (annotation, RDF.type, OA.Annotation),
        (annotation, OA.motivatedBy, OA.identifying),
        (annotation, OA.hasBody, entity),
        (annotation, OA.hasTarget, target),
        (annotation, PROV.wasGeneratedBy, build),
        (annotation, PROV.wasAttributedTo, extractor),
        (target, RDF.type, OA.SpecificResource),
        (target, OA.hasSource, article),
        (target, OA.hasSelector, position),
        (target, OA.hasSelector, quote),
        (position, RDF.type, OA.TextPositionSelector),
        (position, OA.start, Literal(start, datatype=XSD.integer)),
        (position, OA.end, Literal(end, datatype=XSD.integer)),
        (quote, RDF.type, OA.TextQuoteSelector),
        (quote, OA.exact, Literal(body[start:end])),
        (quote, OA.prefix, Literal(body[max(0, start - CONTEXT_CHARS) : start])),
        (quote, OA.suffix, Literal(body[end : end + CONTEXT_CHARS])),
    ]
