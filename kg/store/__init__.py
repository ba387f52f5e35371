"""Stores: where the built graph is loaded and queried."""

from __future__ import annotations

from pathlib import Path

from kg.settings import Settings
from kg.store.base import GraphStore
from kg.store.oxigraph import STORE_DIR, OxigraphStore
from kg.store.sparql import RemoteStoreError, SparqlStore

__all__ = ["STORE_DIR", "GraphStore", "OxigraphStore", "RemoteStoreError", "SparqlStore", "open_store", "sparql_store"]


def open_store(settings: Settings, out_dir: Path | None = None, *, timeout: float | None = None) -> GraphStore:
    """The store settings name, for reading: the embedded store of out_dir (read-only), or
    the remote SPARQL store (HTTP requests time out after timeout, default query_timeout)."""
    if settings.store == "sparql":
        return sparql_store(settings, timeout or settings.query_timeout)
    return OxigraphStore((out_dir or settings.out_dir) / STORE_DIR, read_only=True)


def sparql_store(settings: Settings, timeout: float) -> SparqlStore:
    """The remote store the settings name (sparql_endpoint, sparql_update_endpoint,
    sparql_gsp); HTTP requests time out after timeout seconds."""
    return SparqlStore(
        settings.sparql_endpoint,
        update_endpoint=settings.sparql_update_endpoint,
        gsp=settings.sparql_gsp,
        timeout=timeout,
    )
