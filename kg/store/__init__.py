"""Stores: where the built graph is loaded and queried."""

from kg.store.base import GraphStore
from kg.store.oxigraph import STORE_DIR, OxigraphStore

__all__ = ["STORE_DIR", "GraphStore", "OxigraphStore"]
