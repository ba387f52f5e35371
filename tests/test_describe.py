"""describe(): a resource with the sub-resources reachable from it, over a real store."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest

from kg.store.oxigraph import OxigraphStore
from kg.web import describe as describe_module
from kg.web.describe import describe

EX = "http://example.org/"
P, Q = ox.NamedNode(EX + "p"), ox.NamedNode(EX + "q")


def _store(tmp_path: Path, quads: list[ox.Quad]) -> OxigraphStore:
    store = OxigraphStore(tmp_path / "store", read_only=False)
    store.load(quads)
    return store


def _chain_store(tmp_path: Path, width: int) -> tuple[OxigraphStore, set[str]]:
    """doc with `width` parts that link in to it (doc/i p doc), each with a part of its own
    that links in to it (doc/i/x q doc/i), and one outward link (doc p doc/out); beside
    them, in another graph, links in from resources the walk must not take."""
    doc = EX + "doc"
    graph, other = ox.NamedNode(EX + "g"), ox.NamedNode(EX + "other")
    quads = [ox.Quad(ox.NamedNode(doc), P, ox.NamedNode(doc + "/out"), graph)]
    quads.append(ox.Quad(ox.NamedNode(doc + "/out"), Q, ox.Literal("leaf"), graph))
    for i in range(width):
        part = ox.NamedNode(f"{doc}/{i}")
        quads += [ox.Quad(part, P, ox.NamedNode(doc), graph), ox.Quad(ox.NamedNode(f"{doc}/{i}/x"), Q, part, graph)]
    quads.append(ox.Quad(ox.NamedNode(doc + "/elsewhere"), P, ox.NamedNode(doc), other))  # not in doc's graph
    quads.append(ox.Quad(ox.NamedNode(EX + "stranger"), P, ox.NamedNode(doc), graph))  # not under doc/
    expected = {doc + "/out"} | {f"{doc}/{i}" for i in range(width)} | {f"{doc}/{i}/x" for i in range(width)}
    return _store(tmp_path, quads), expected


def test_parts_reached_through_links_in_over_several_queries(tmp_path: Path) -> None:
    """450 parts link in to the resource and 450 more to those: more (graph, resource) pairs
    than one links-in query asks about."""
    store, expected = _chain_store(tmp_path, 450)
    description = describe(store, EX + "doc")
    assert description is not None
    assert set(description.parts) == expected
    assert description.parts[EX + "doc/7/x"] == [
        ox.Quad(ox.NamedNode(EX + "doc/7/x"), Q, ox.NamedNode(EX + "doc/7"), ox.NamedNode(EX + "g"))
    ]
    assert description.parts[EX + "doc/out"][0].object == ox.Literal("leaf")


def test_parts_stop_at_the_cap_nearest_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store, _ = _chain_store(tmp_path, 30)
    monkeypatch.setattr(describe_module, "MAX_PARTS", 31)
    description = describe(store, EX + "doc")
    assert description is not None
    assert len(description.parts) == 31
    assert not any(iri.endswith("/x") for iri in description.parts), "a step further only when there is room"
