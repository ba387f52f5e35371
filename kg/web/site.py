"""What every request handler needs: the settings, the read-only store and the build manifest."""

from __future__ import annotations

import json
import logging
import os
import threading
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import current_app, has_request_context, request

from kg.dumps import verify_checksums
from kg.iris import Minter
from kg.querypool import QueryPool, RemoteQueries
from kg.search import SearchIndex
from kg.settings import Settings
from kg.store import GraphStore, OxigraphStore, open_store
from kg.summaries import (
    PAGES_FILE,
    SUMMARIES_FILE,
    EntitySummary,
    HomeListing,
    SummaryPages,
    home_listing,
    read_home,
    read_summaries,
)
from kg.web.caching import MAX_AGE
from kg.web.response_cache import ResponseCache

EXTENSION_KEY = "kg"
BUDGETS_KEY = "kg.budgets"
log = logging.getLogger("kg.web")


@dataclass
class Site:
    """One published build. base is the base IRI the build was made with (from build.json).
    Pages read the store directly; /sparql goes through the query pool (hard time limit)."""

    settings: Settings
    store: GraphStore
    out_dir: Path
    base: str
    manifest: dict[str, Any] = field(default_factory=dict)
    queries: QueryPool | RemoteQueries = field(init=False)
    integrity: list[str] | None = field(default=None, init=False)  # None until verify() has run
    _search: SearchIndex | None = field(default=None, init=False, repr=False)
    _search_lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)
    _summaries: dict[str, EntitySummary] | None = field(default=None, init=False, repr=False)
    summary_pages: SummaryPages = field(init=False, repr=False)
    _home: HomeListing | None = field(default=None, init=False, repr=False)
    responses: ResponseCache = field(init=False, repr=False)

    def summary(self, iri: str) -> EntitySummary | None:
        """The summary the build kept of an entity many articles mention, else None (read
        with the store when the site is opened, so that both are of the same build)."""
        if self._summaries is None:
            self._summaries = read_summaries(self.out_dir / SUMMARIES_FILE)
        return self._summaries.get(iri)

    def home_listing(self) -> HomeListing:
        """The home page's lists: the build's (summaries.json), else asked of the store."""
        return self._home or home_listing(self.store, Minter(self.base))

    def search_index(self) -> SearchIndex:
        """The name index of this build, made on first use."""
        with self._search_lock:
            if self._search is None:
                self._search = SearchIndex.from_store(self.store)
            return self._search

    def __post_init__(self) -> None:
        settings = self.settings.replace(base_iri=self.base)
        workers, waiting = self.settings.query_workers, self.settings.query_queue
        if isinstance(self.store, OxigraphStore):
            self.queries = QueryPool(self.store.path, settings, workers, waiting)
        else:
            self.queries = RemoteQueries(self.store, settings, workers, waiting)
        weakref.finalize(self, self.queries.close)
        self._summaries = read_summaries(self.out_dir / SUMMARIES_FILE)
        self._home = read_home(self.out_dir / SUMMARIES_FILE)
        self.summary_pages = SummaryPages(self.out_dir / PAGES_FILE)
        weakref.finalize(self, self.summary_pages.close)
        # A build's embedded store never changes; a remote store may, so its answers expire.
        ttl = None if isinstance(self.store, OxigraphStore) else float(MAX_AGE)
        self.responses = ResponseCache(self.settings.response_cache_mb * 2**20, ttl)

    def verify(self) -> list[str]:
        """Hash every file SHA256SUMS lists (seconds per GB; kg serve does it in the background
        after a quick size check) and keep what disagrees for /health."""
        problems = verify_checksums(self.out_dir)
        self.integrity = problems
        if problems:
            log.error("%s does not match its SHA256SUMS: %s (rebuild with kg build)", self.out_dir, "; ".join(problems))
        return problems

    def verify_in_background(self) -> None:
        threading.Thread(target=self.verify, daemon=True, name="kg-verify").start()

    def index_in_background(self) -> None:
        """Make the search index now, so the first search does not wait for it (about 11 s
        at 100,000 articles); a search that comes first waits for this one."""
        threading.Thread(target=self._index_now, daemon=True, name="kg-search-index").start()

    def _index_now(self) -> None:
        try:
            self.search_index()
        except Exception as exc:  # e.g. a remote store that is down: the first search tries again
            log.warning("the search index could not be made yet: %s", exc)

    def iri(self, path: str) -> str:
        """The IRI a local path ('article/x') stands for."""
        return self.base + path.lstrip("/")

    def path_of(self, iri: str) -> str | None:
        """The local path of an IRI minted under the base, else None."""
        return iri[len(self.base) :] if iri.startswith(self.base) else None

    def graph(self, name: str) -> str:
        """A named graph of the build: 'entities', 'provenance', 'void', 'article/KEY'."""
        return self.base + "graph/" + name


def open_site(settings: Settings, out_dir: Path) -> Site:
    """The Site of the build in out_dir: its store opened read-only (or the remote store
    settings name), its manifest read."""
    from kg.build import MANIFEST_FILE

    store = open_store(settings, out_dir)
    manifest = read_manifest(out_dir / MANIFEST_FILE)
    base = str(manifest.get("base_iri") or settings.base_iri)
    if base != settings.base_iri:
        log.info("serving the base IRI the build was made with, %s (settings say %s)", base, settings.base_iri)
    return Site(settings, store, out_dir, base, manifest)


#: Where a request keeps the Site it is served from (LiveSite.for_request).
SITE_ENVIRON_KEY = "kg.site"


class LiveSite:
    """The Site of whatever build out_dir holds now. kg build publishes by swapping the
    directory (a new inode); the first request after that opens the new build, and requests
    already running finish on the old one, so a rebuild fails no request."""

    def __init__(self, settings: Settings, out_dir: Path) -> None:
        self.settings = settings
        self.out_dir = out_dir
        self._lock = threading.Lock()
        self._identity = self._stat()
        self.site = open_site(settings, out_dir)

    def _stat(self) -> tuple[int, int] | None:
        try:
            st = os.stat(self.out_dir)
        except FileNotFoundError:
            return None
        return st.st_ino, st.st_dev

    def for_request(self, environ: dict[str, Any]) -> Site:
        """current(), once per request: the request's later calls get the same build without
        a system call (a /sparql request asked four or five times; under wrk, py-spy found
        request threads in that stat, getting the GIL back, for 18% of the wall time, though
        requests/s hardly changed without it)."""
        site = environ.get(SITE_ENVIRON_KEY)
        if not isinstance(site, Site):
            site = environ[SITE_ENVIRON_KEY] = self.current()
        return site

    def current(self) -> Site:
        identity = self._stat()
        if identity is None or identity == self._identity:
            return self.site
        with self._lock:
            if identity != self._identity:
                try:
                    fresh = open_site(self.settings, self.out_dir)
                except (OSError, ValueError) as exc:  # half-published on a system without exchange
                    log.warning("a new build in %s could not be opened yet: %s", self.out_dir, exc)
                    return self.site
                old, self.site, self._identity = self.site, fresh, identity
                log.info("switched to the new build %s", fresh.manifest.get("build"))
                old.queries.close()
                threading.Thread(target=fresh.queries.start, daemon=True).start()
                fresh.verify_in_background()
                fresh.index_in_background()
        return self.site


def read_manifest(path: Path) -> dict[str, Any]:
    """build.json as a dict (empty when the file is missing)."""
    if not path.is_file():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    return data if isinstance(data, dict) else {}


def site_responses() -> ResponseCache:
    """The response cache of the build this request is served from."""
    return current_site().responses


def current_site() -> Site:
    """The Site of the application handling this request (the build out_dir held when the
    request came in: one build for the whole request); outside a request, the build now."""
    live = current_app.extensions[EXTENSION_KEY]
    assert isinstance(live, LiveSite)
    return live.for_request(request.environ) if has_request_context() else live.current()


def local_href(path: str) -> str:
    """A link to a local path that works on whatever host and mount point the app is reached."""
    return request.script_root + "/" + path.lstrip("/")
