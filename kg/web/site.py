"""What every request handler needs: the settings, the read-only store and the build manifest."""

from __future__ import annotations

import json
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import current_app, request

from kg.querypool import QueryPool
from kg.settings import Settings
from kg.store.oxigraph import OxigraphStore

EXTENSION_KEY = "kg"


@dataclass
class Site:
    """One published build. base is the base IRI the build was made with (from build.json).
    Pages read the store directly; /sparql goes through the query pool (hard time limit)."""

    settings: Settings
    store: OxigraphStore
    out_dir: Path
    base: str
    manifest: dict[str, Any] = field(default_factory=dict)
    queries: QueryPool = field(init=False)

    def __post_init__(self) -> None:
        settings = self.settings.replace(base_iri=self.base)
        self.queries = QueryPool(self.store.path, settings, self.settings.query_workers, self.settings.query_queue)
        weakref.finalize(self, self.queries.close)

    def iri(self, path: str) -> str:
        """The IRI a local path ('article/x') stands for."""
        return self.base + path.lstrip("/")

    def path_of(self, iri: str) -> str | None:
        """The local path of an IRI minted under the base, else None."""
        return iri[len(self.base) :] if iri.startswith(self.base) else None

    def graph(self, name: str) -> str:
        """A named graph of the build: 'entities', 'provenance', 'void', 'article/KEY'."""
        return self.base + "graph/" + name


def read_manifest(path: Path) -> dict[str, Any]:
    """build.json as a dict (empty when the file is missing)."""
    if not path.is_file():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    return data if isinstance(data, dict) else {}


def current_site() -> Site:
    """The Site of the application handling this request."""
    site = current_app.extensions[EXTENSION_KEY]
    assert isinstance(site, Site)
    return site


def local_href(path: str) -> str:
    """A link to a local path that works on whatever host and mount point the app is reached."""
    return request.script_root + "/" + path.lstrip("/")
