"""HTTP caching and compression for generated responses: a weak ETag from the body,
Last-Modified from the build, 304 for a matching conditional request, gzip when the client
takes it. Dumps are files with their own ETag and Range support and are left alone."""

from __future__ import annotations

import gzip
from collections.abc import Callable
from datetime import datetime
from functools import lru_cache
from pathlib import Path

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
#: Seconds a client or proxy may reuse a generated response without asking again.
MAX_AGE = 60


def _compressible(mimetype: str) -> bool:
    return mimetype.startswith(_COMPRESSIBLE)


def accepts_gzip(accept_encoding: str) -> bool:
    """Whether a request's Accept-Encoding takes gzip."""
    return "gzip" in accept_encoding.lower()


def gzip_body(body: bytes) -> bytes:
    """gzip as kg sends it (level 6, no timestamp: the same bytes every time)."""
    return gzip.compress(body, compresslevel=6, mtime=0)


def cache_and_compress(
    response: Response,
    request: Request,
    last_modified: datetime | None,
    *,
    keep: Callable[[Response], None] | None = None,
    compress: Callable[[bytes], bytes] = gzip_body,
) -> Response:
    """Add validators, answer conditional requests with 304, and gzip large bodies. keep is
    given the finished 200 response (validators set) before that; compress does the gzip."""
    if request.method not in ("GET", "HEAD") or response.status_code != 200 or response.direct_passthrough:
        return response
    if request.path in _NOT_CACHED:
        response.headers["Cache-Control"] = "no-store"
        return response
    if "ETag" not in response.headers:
        response.add_etag(weak=True)  # weak: the same for the gzip and identity encodings
        if last_modified is not None:
            response.last_modified = last_modified
        response.headers.setdefault("Cache-Control", f"public, max-age={MAX_AGE}, must-revalidate")
    if keep is not None:
        keep(response)
    response.make_conditional(request)
    if response.status_code == 304:
        return response
    response.vary.add("Accept-Encoding")
    body = response.get_data()
    encoded = "Content-Encoding" in response.headers  # a static file gzipped by compress_static
    if (
        accepts_gzip(request.headers.get("Accept-Encoding", ""))
        and not encoded
        and len(body) >= GZIP_MIN_BYTES
        and _compressible(response.mimetype or "")
    ):
        response.set_data(compress(body))
        response.headers["Content-Encoding"] = "gzip"
    return response


@lru_cache(maxsize=64)
def _gzipped_file(path: str, mtime_ns: int, size: int) -> bytes:
    """A static file's gzip, made once per version of the file (the key has its mtime)."""
    return gzip.compress(Path(path).read_bytes(), compresslevel=9, mtime=0)


def compress_static(response: Response, request: Request, path: Path) -> Response:
    """gzip a static file (the vendored editor's 536 KB script goes out as ~150 KB) for a
    client that takes it; Range requests and small or binary files are left as they are.
    The ETag becomes weak, as it now stands for more than one byte sequence."""
    if (
        response.status_code != 200
        or "Range" in request.headers
        or "gzip" not in request.headers.get("Accept-Encoding", "").lower()
        or not _compressible(response.mimetype or "")
        and response.mimetype not in ("application/javascript", "text/javascript")
    ):
        return response
    try:
        stat = path.stat()
    except OSError:
        return response
    if stat.st_size < GZIP_MIN_BYTES:
        return response
    body = _gzipped_file(str(path), stat.st_mtime_ns, stat.st_size)
    response.direct_passthrough = False
    response.set_data(body)
    response.headers["Content-Encoding"] = "gzip"
    response.headers.pop("Accept-Ranges", None)
    response.vary.add("Accept-Encoding")
    etag, _ = response.get_etag()
    if etag:
        response.set_etag(etag, weak=True)
    return response
