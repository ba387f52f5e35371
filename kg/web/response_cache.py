"""Answers kept in memory (pages, RDF twins, SPARQL answers to GET), so the hundredth
request for the same entity or query costs a dictionary lookup instead of the store's work
and the rendering; and, once an answer has gone out through Flask, the next ones go out from
the WSGI layer (KeptAnswers) without Flask's request handling at all.

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

from flask import Response, g, request
from werkzeug.datastructures import Headers
from werkzeug.http import http_date

from kg.web.caching import accepts_gzip, gzip_body

#: Bookkeeping counted against the budget besides bodies, key and headers, per entry.
ENTRY_OVERHEAD = 256
_ENTRY_KEY = "kg_cached_response"
_MISS_KEY = "kg_response_cache_miss"
#: Set in the WSGI environ by cached_view: the entry a request was answered from or put in.
ENTRY_ENVIRON_KEY = "kg.kept_entry"
#: Requests that ask the cache something it does not answer alone (validators, ranges) take
#: Flask's way, which answers them from the same entry (304, Range ignored as before).
_CONDITIONAL = (
    "HTTP_IF_NONE_MATCH",
    "HTTP_IF_MODIFIED_SINCE",
    "HTTP_IF_MATCH",
    "HTTP_IF_UNMODIFIED_SINCE",
    "HTTP_IF_RANGE",
    "HTTP_RANGE",
)

Key = tuple[str, str, str, str, str, str]
WsgiHead = list[tuple[str, str]]


@dataclass
class CachedResponse:
    """A 200 response as it went out, validators (ETag, Last-Modified) included."""

    key: Key
    status: int
    headers: Headers
    body: bytes
    stored: float
    _gzipped: bytes | None = field(default=None, repr=False)
    #: How the answer went out through Flask, per encoding asked (False: identity, True: gzip):
    #: its status line, its headers but Date, and whether the body was the gzip.
    sent: dict[bool, tuple[str, WsgiHead, bool]] = field(default_factory=dict, repr=False)

    @property
    def size(self) -> int:
        """Bytes counted against the budget: bodies, and the key and headers (a URL may be
        a 100,000-character query), plus bookkeeping."""
        head = sum(len(k) + len(v) for k, v in self.headers.items()) + sum(len(part) for part in self.key)
        noted = sum(len(status) + sum(len(k) + len(v) for k, v in sent) for status, sent, _ in self.sent.values())
        return len(self.body) + len(self._gzipped or b"") + head + noted + ENTRY_OVERHEAD

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

    def get(self, key: Key, count: bool = True) -> CachedResponse | None:
        """The entry kept for key (moved to the back of the queue), else None; counted as a
        hit or a miss unless count is False."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and self.ttl is not None and self._clock() - entry.stored > self.ttl:
                self._drop(key)
                entry = None
            if entry is None:
                self.misses += count
                return None
            self._entries.move_to_end(key)
            self.hits += count
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

    def note_sent(self, entry: CachedResponse, gzip_asked: bool, sent: tuple[str, WsgiHead, bool]) -> None:
        """Keep how entry went out to a request that did (or did not) ask for gzip, counted
        against the budget (KeptAnswers sends it that way from then on)."""
        with self._lock:
            if gzip_asked in entry.sent:
                return
            before = entry.size
            entry.sent[gzip_asked] = sent
            if self._entries.get(entry.key) is entry:
                self._bytes += entry.size - before
                self._shrink()

    def _shrink(self) -> None:
        while self._bytes > self.max_bytes and self._entries:
            key = next(iter(self._entries))
            self._drop(key)

    def _drop(self, key: Key) -> None:
        entry = self._entries.pop(key)
        self._bytes -= entry.size


def request_key(environ: dict[str, Any]) -> Key:
    """What an answer depends on: the whole URL (scheme, host and mount point, which some
    answers spell out in absolute links; path; query string) and the Accept header, as the
    WSGI environ has them (so that KeptAnswers finds them before Flask parses anything)."""
    host = environ.get("HTTP_HOST") or f"{environ.get('SERVER_NAME', '')}:{environ.get('SERVER_PORT', '')}"
    return (
        environ.get("wsgi.url_scheme", "http"),
        host,
        environ.get("SCRIPT_NAME", ""),
        environ.get("PATH_INFO", ""),
        environ.get("QUERY_STRING", ""),
        environ.get("HTTP_ACCEPT", ""),
    )


def cached_view(cache_of: Callable[[], ResponseCache]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorate a GET view: answer from cache_of()'s cache when it has the request, else run
    the view and let `remember` (called once the response is finished) keep the answer."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            cache = cache_of()
            if request.method not in ("GET", "HEAD") or not cache.enabled:
                return view(*args, **kwargs)
            key = request_key(request.environ)
            entry = cache.get(key)
            if entry is not None:
                g.setdefault(_ENTRY_KEY, (cache, entry))
                request.environ[ENTRY_ENVIRON_KEY] = entry
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
        request.environ[ENTRY_ENVIRON_KEY] = entry


def compress(body: bytes) -> bytes:
    """gzip for this request's response: made once per cached entry, else as usual."""
    found = g.get(_ENTRY_KEY)
    if found is None:
        return gzip_body(body)
    cache, entry = found
    if body != entry.body:  # not the cached body after all
        return gzip_body(body)
    return cache.gzip(entry, gzip_body)


_date_cache: tuple[int, str] = (0, "")


def _now_http_date() -> str:
    """The Date header for now, made once a second (formatting it costs more than the rest
    of an answer from memory)."""
    global _date_cache
    second = int(time.time())
    if _date_cache[0] != second:
        _date_cache = (second, http_date(second))
    return _date_cache[1]


StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Any]


class KeptAnswers:
    """WSGI middleware: a GET or HEAD whose answer is kept, in the encoding it asks for, and
    that has gone out through Flask once already, goes out again from here: the same status
    and headers (a fresh Date) and the same bytes, without routing, request objects or
    hooks. Everything else, conditional and range requests included, goes to the app, which
    records how it sent a kept answer for the next time."""

    def __init__(
        self,
        app: WsgiApp,
        cache_of: Callable[[dict[str, Any]], ResponseCache],
        access_log: Callable[[str], None] | None = None,
    ) -> None:
        """cache_of gives the response cache for a request's WSGI environ."""
        self.app = app
        self.cache_of = cache_of
        self.access_log = access_log

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Any:
        method = environ.get("REQUEST_METHOD")
        if method not in ("GET", "HEAD") or any(name in environ for name in _CONDITIONAL):
            return self.app(environ, start_response)
        cache = self.cache_of(environ)
        if not cache.enabled:
            return self.app(environ, start_response)
        gzip_asked = accepts_gzip(environ.get("HTTP_ACCEPT_ENCODING", ""))
        entry = cache.get(request_key(environ), count=False)
        sent = entry.sent.get(gzip_asked) if entry is not None else None
        if entry is None or sent is None:
            return self._through_app(environ, start_response, cache, gzip_asked, method == "GET")
        cache.get(entry.key)  # counted as a hit, moved to the back
        status, head, zipped = sent
        body = entry.gzipped if zipped else entry.body
        if body is None:  # the gzip was dropped: cannot happen while the entry lives, but be sure
            return self.app(environ, start_response)
        start_response(status, [*head, ("Date", _now_http_date())])
        if self.access_log is not None:
            path = environ.get("PATH_INFO", "").encode("latin-1").decode("utf-8", "replace")  # as Flask's request.path
            query = environ.get("QUERY_STRING")
            self.access_log(f"{method} {path}{'?' + query if query else ''} {status[:3]} kept")
        return [] if method == "HEAD" else [body]

    def _through_app(
        self, environ: dict[str, Any], start_response: StartResponse, cache: ResponseCache, gzip_asked: bool, get: bool
    ) -> Any:
        """Let the app answer, noting its status and headers if the answer is a kept one."""
        seen: list[tuple[str, WsgiHead]] = []

        def noting(status: str, headers: WsgiHead, exc_info: Any = None) -> Any:
            seen.append((status, list(headers)))
            return start_response(status, headers, exc_info) if exc_info else start_response(status, headers)

        result = self.app(environ, noting)
        entry = environ.get(ENTRY_ENVIRON_KEY)
        if get and seen and isinstance(entry, CachedResponse) and seen[-1][0].startswith("200"):
            status, headers = seen[-1]
            zipped = any(name.lower() == "content-encoding" for name, _ in headers)
            if not zipped or entry.gzipped is not None:
                head = [(name, value) for name, value in headers if name.lower() != "date"]
                cache.note_sent(entry, gzip_asked, (status, head, zipped))
        return result
