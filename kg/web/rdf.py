"""RDF responses: quads in the negotiated format, named graphs kept where the format can."""

from __future__ import annotations

from collections.abc import Iterable

import pyoxigraph as ox
from flask import Response

from kg.formats import RdfFormat, serialize_quads


def rdf_response(quads: Iterable[ox.Quad], fmt: RdfFormat, status: int = 200) -> Response:
    """A response with the quads in fmt and its media type."""
    return Response(serialize_quads(quads, fmt), status=status, mimetype=fmt.media_type)
