"""Answers kept in memory (pages, RDF twins, SPARQL answers to GET), so the hundredth
request for the same entity or query costs a dictionary lookup instead of the store's work
and the rendering.

A cache belongs to one Site (one published build): a new build gets a new, empty cache. The
key is everything the answer depends on and the response's Vary names (the whole URL: host,
mount point, path and query string; and Accept); the body is kept as it went out (identity)
and, on first demand, gzipped. Bounded in bytes, least recently used first out; with a
remote store, whose data can change under kg, an entry lives no longer than `ttl` seconds
(the max-age the responses already carry)."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import wraps
from typing import Any

from flask import Request, Response, g, request
from werkzeug.datastructures import Headers

from kg.web.caching import gzip_body

#: Bookkeeping counted against the budget besides bodies, key and headers, per entry.
ENTRY_OVERHEAD = 256
_ENTRY_KEY = "kg_cached_response"
_MISS_KEY = "kg_response_cache_miss"

Key = tuple[str, str]


@dataclass
class CachedResponse:
    """A 200 response as it went out, validators (ETag, Last-Modified) included."""

    key: Key
    status: int
    headers: Headers
    body: bytes
    stored: float
    _gzipped: bytes | None = field(default=None, repr=False)

    @property
    def size(self) -> int:
        """Bytes counted against the budget: bodies, and the key and headers (a URL may be
        a 100,000-character query), plus bookkeeping."""
        head = sum(len(k) + len(v) for k, v in self.headers.items()) + len(self.key[0]) + len(self.key[1])
        return len(self.body) + len(self._gzipped or b"") + head + ENTRY_OVERHEAD

    def response(self) -> Response:
        return Response(self.body, status=self.status, headers=Headers(self.headers))

    @property
    def gzipped(self) -> bytes | None:
        """The body gzipped, once a request has asked for it (ResponseCache.gzip)."""
        return self._gzipped


class ResponseCache:
    """Least-recently-used responses up to max_bytes; thread-safe (the server's threads share it)."""

    def __init__(self, max_bytes: int, ttl: float | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.max_bytes = max_bytes
        self.ttl = ttl
        self._clock = clock
        self._entries: OrderedDict[Key, CachedResponse] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    @property
    def enabled(self) -> bool:
        return self.max_bytes > 0

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def used(self) -> int:
        """Bytes counted against max_bytes now."""
        return self._bytes

    def stats(self) -> dict[str, int]:
        """How full the cache is and how often it answered (this process's, for /health)."""
        with self._lock:
            return {
                "answers": len(self._entries),
                "bytes": self._bytes,
                "max_bytes": self.max_bytes,
                "hits": self.hits,
                "misses": self.misses,
            }

    def get(self, key: Key) -> CachedResponse | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and self.ttl is not None and self._clock() - entry.stored > self.ttl:
                self._drop(key)
                entry = None
            if entry is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return entry

    def put(self, key: Key, response: Response) -> CachedResponse | None:
        """Keep a copy of a finished 200 response; None when it is not kept (too large,
        streamed, or the cache is off)."""
        if not self.enabled or response.status_code != 200 or response.direct_passthrough or response.is_streamed:
            return None
        body = response.get_data()
        entry = CachedResponse(key, response.status_code, Headers(response.headers), body, self._clock())
        if entry.size > self.max_bytes // 4:  # one answer may not push out most of the others
            return None
        with self._lock:
            if key in self._entries:
                self._drop(key)
            self._entries[key] = entry
            self._bytes += entry.size
            self._shrink()
        return entry

    def gzip(self, entry: CachedResponse, compress: Callable[[bytes], bytes]) -> bytes:
        """entry's body gzipped: made on first demand (outside the lock; two threads may both
        compress it, the first to finish is kept) and counted against the budget."""
        if entry.gzipped is not None:
            return entry.gzipped
        zipped = compress(entry.body)
        with self._lock:
            if entry.gzipped is not None:
                return entry.gzipped
            kept = self._entries.get(entry.key) is entry
            before = entry.size
            entry._gzipped = zipped
            if kept:
                self._bytes += entry.size - before
                self._shrink()
        return zipped

    def _shrink(self) -> None:
        while self._bytes > self.max_bytes and self._entries:
            key = next(iter(self._entries))
            self._drop(key)

    def _drop(self, key: Key) -> None:
        entry = self._entries.pop(key)
        self._bytes -= entry.size


def request_key(req: Request) -> Key:
    """What an answer depends on: the whole URL (scheme, host and mount point, which some
    answers spell out in absolute links; path; query string) and the Accept header."""
    return (req.url, req.headers.get("Accept", ""))


def cached_view(cache_of: Callable[[], ResponseCache]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorate a GET view: answer from cache_of()'s cache when it has the request, else run
    the view and let `remember` (called once the response is finished) keep the answer."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            cache = cache_of()
            if request.method not in ("GET", "HEAD") or not cache.enabled:
                return view(*args, **kwargs)
            key = request_key(request)
            entry = cache.get(key)
            if entry is not None:
                g.setdefault(_ENTRY_KEY, (cache, entry))
                return entry.response()
            g.setdefault(_MISS_KEY, (cache, key))
            return view(*args, **kwargs)

        return wrapper

    return decorate


def do_not_keep() -> None:
    """Keep this request's answer out of the cache (the next one may differ)."""
    g.pop(_MISS_KEY, None)


def remember(response: Response) -> None:
    """After the validators are set: keep this request's response if its view missed."""
    missed = g.pop(_MISS_KEY, None)
    if missed is None:
        return
    cache, key = missed
    entry = cache.put(key, response)
    if entry is not None:
        g.setdefault(_ENTRY_KEY, (cache, entry))


def compress(body: bytes) -> bytes:
    """gzip for this request's response: made once per cached entry, else as usual."""
    found = g.get(_ENTRY_KEY)
    if found is None:
        return gzip_body(body)
    cache, entry = found
    if body != entry.body:  # not the cached body after all
        return gzip_body(body)
    return cache.gzip(entry, gzip_body)
