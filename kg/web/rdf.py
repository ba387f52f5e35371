"""RDF responses: quads in the negotiated format, named graphs kept where the format can."""

from __future__ import annotations

from collections.abc import Iterable

import pyoxigraph as ox
from flask import Response

from kg.formats import RdfFormat, serialize_triples
from kg.namespaces import PREFIXES


def serialize(quads: Iterable[ox.Quad], fmt: RdfFormat) -> bytes:
    """Quads as fmt: TriG/N-Quads keep graphs, other formats get the union (no duplicates)."""
    if fmt.datasets:
        prefixes = PREFIXES if fmt.name == "trig" else None
        return ox.serialize(list(dict.fromkeys(quads)), format=fmt.oxigraph, prefixes=prefixes) or b""
    return serialize_triples(list(dict.fromkeys(ox.Triple(q.subject, q.predicate, q.object) for q in quads)), fmt)


def rdf_response(quads: Iterable[ox.Quad], fmt: RdfFormat, status: int = 200) -> Response:
    """A response with the quads in fmt and its media type."""
    return Response(serialize(quads, fmt), status=status, mimetype=fmt.media_type)
