"""HTTP caching and compression for generated responses: a weak ETag from the body,
Last-Modified from the build, 304 for a matching conditional request, gzip when the client
takes it. Dumps are files with their own ETag and Range support and are left alone."""

from __future__ import annotations

import gzip
from datetime import datetime

from flask import Request, Response

#: Bodies shorter than this are sent as they are (gzip would save little).
GZIP_MIN_BYTES = 1024
_COMPRESSIBLE = (
    "text/",
    "application/json",
    "application/ld+json",
    "application/n-triples",
    "application/n-quads",
    "application/trig",
    "application/rdf+xml",
    "application/sparql-results+",
    "application/xml",
)
_NOT_CACHED = ("/health",)


def _compressible(mimetype: str) -> bool:
    return mimetype.startswith(_COMPRESSIBLE)


def cache_and_compress(response: Response, request: Request, last_modified: datetime | None) -> Response:
    """Add validators, answer conditional requests with 304, and gzip large bodies."""
    if request.method not in ("GET", "HEAD") or response.status_code != 200 or response.direct_passthrough:
        return response
    if request.path in _NOT_CACHED:
        response.headers["Cache-Control"] = "no-store"
        return response
    if "ETag" not in response.headers:
        response.add_etag(weak=True)  # weak: the same for the gzip and identity encodings
        if last_modified is not None:
            response.last_modified = last_modified
        response.headers.setdefault("Cache-Control", "public, max-age=60, must-revalidate")
    response.make_conditional(request)
    if response.status_code == 304:
        return response
    response.vary.add("Accept-Encoding")
    accepts_gzip = "gzip" in request.headers.get("Accept-Encoding", "").lower()
    body = response.get_data()
    if accepts_gzip and len(body) >= GZIP_MIN_BYTES and _compressible(response.mimetype or ""):
        response.set_data(gzip.compress(body, compresslevel=6, mtime=0))
        response.headers["Content-Encoding"] = "gzip"
    return response
