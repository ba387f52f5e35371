"""Stores: where the built graph is loaded and queried."""

from kg.store.base import GraphStore
from kg.store.oxigraph import OxigraphStore, STORE_DIR

__all__ = ["STORE_DIR", "GraphStore", "OxigraphStore"]
