"""describe(): a resource with the sub-resources reachable from it, over a real store."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest

from kg.iris import Minter
from kg.store.oxigraph import OxigraphStore
from kg.web import describe as describe_module
from kg.web.describe import Evidence, describe, evidence_for

EX = "http://example.org/"
P, Q = ox.NamedNode(EX + "p"), ox.NamedNode(EX + "q")


def _store(tmp_path: Path, quads: list[ox.Quad]) -> OxigraphStore:
    store = OxigraphStore(tmp_path / "store", read_only=False)
    store.load(quads)
    return store


def _chain_store(tmp_path: Path, width: int) -> tuple[OxigraphStore, set[str]]:
    """doc with `width` parts that link in to it (doc/i p doc), each with a part of its own
    that links in to it (doc/i/x q doc/i), and one outward link (doc p doc/out); beside
    them, links in from resources the walk must not take (in another graph, not under doc/, a
    blank node)."""
    doc = EX + "doc"
    graph, other = ox.NamedNode(EX + "g"), ox.NamedNode(EX + "other")
    quads = [ox.Quad(ox.NamedNode(doc), P, ox.NamedNode(doc + "/out"), graph)]
    quads.append(ox.Quad(ox.NamedNode(doc + "/out"), Q, ox.Literal("leaf"), graph))
    for i in range(width):
        part = ox.NamedNode(f"{doc}/{i}")
        quads += [ox.Quad(part, P, ox.NamedNode(doc), graph), ox.Quad(ox.NamedNode(f"{doc}/{i}/x"), Q, part, graph)]
    quads.append(ox.Quad(ox.NamedNode(doc + "/elsewhere"), P, ox.NamedNode(doc), other))  # not in doc's graph
    quads.append(ox.Quad(ox.NamedNode(EX + "stranger"), P, ox.NamedNode(doc), graph))  # not under doc/
    quads.append(ox.Quad(ox.BlankNode("b"), P, ox.NamedNode(doc), graph))  # not an IRI
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


OA = "http://www.w3.org/ns/oa#"
XSD_INTEGER = "http://www.w3.org/2001/XMLSchema#integer"


def _mention(minter: Minter, key: str, start: int, text: str, entity: str, *, quote: bool = True) -> list[ox.Quad]:
    """An annotation as kg writes it (minted IRIs), in the article's graph; quote=False
    leaves its quote selector without oa:exact."""
    graph = ox.NamedNode(minter.base + f"graph/article/{key}")
    end = start + len(text)

    def iri(part: str | None = None) -> ox.NamedNode:
        return ox.NamedNode(
            str(minter.mention_part(key, start, end, part) if part else minter.mention(key, start, end))
        )

    def q(s: ox.NamedNode, p: str, o: ox.NamedNode | ox.Literal) -> ox.Quad:
        return ox.Quad(s, ox.NamedNode(OA + p), o, graph)

    quads = [
        q(iri(), "hasBody", ox.NamedNode(entity)),
        q(iri(), "hasTarget", iri("target")),
        q(iri("target"), "hasSource", ox.NamedNode(minter.base + f"article/{key}")),
        q(iri("target"), "hasSelector", iri("position")),
        q(iri("target"), "hasSelector", iri("quote")),
        q(iri("position"), "start", ox.Literal(str(start), datatype=ox.NamedNode(XSD_INTEGER))),
        q(iri("position"), "end", ox.Literal(str(end), datatype=ox.NamedNode(XSD_INTEGER))),
        q(iri("quote"), "prefix", ox.Literal(f"before {start} ")),
        q(iri("quote"), "suffix", ox.Literal(" after")),
    ]
    return quads + ([q(iri("quote"), "exact", ox.Literal(text))] if quote else [])


def test_evidence_from_minted_iris_is_the_evidence_found_by_following_links(tmp_path: Path) -> None:
    """Three quotes an article, first in text order, whatever the IRI order (as text, mention
    100-103 sorts before 20-23 and 7-10 after 300-303); a quote selector without oa:exact
    and a blank-node annotation handled as the slow path handles them; 250 articles: two
    queries of each kind."""
    minter = Minter(EX)
    entity = EX + "person/ada"
    quads: list[ox.Quad] = []
    graphs: dict[str, str] = {}
    for n in range(250):
        key = f"a{n:03d}"
        graphs[EX + f"article/{key}"] = EX + f"graph/article/{key}"
        for start in (100, 20, 7, 300):
            quads += _mention(minter, key, start, "Ada", entity, quote=not (n == 3 and start == 7))
    blank = ox.BlankNode("loose")
    quads.append(
        ox.Quad(blank, ox.NamedNode(OA + "hasBody"), ox.NamedNode(entity), ox.NamedNode(graphs[EX + "article/a001"]))
    )
    store = _store(tmp_path, quads)
    fast = evidence_for(store, entity, graphs, 3, minter)
    assert fast == evidence_for(store, entity, graphs, 3)
    count, shown = fast[EX + "article/a000"]
    assert count == 4 and [(e.start, e.end) for e in shown] == [(7, 10), (20, 23), (100, 103)]
    assert shown[0] == Evidence(
        str(minter.mention("a000", 7, 10)), entity, EX + "article/a000", 7, 10, "Ada", "before 7 ", " after"
    )
    assert fast[EX + "article/a001"][0] == 4, "the blank-node annotation is not counted"
    assert fast[EX + "article/a003"][1][0].exact == "", "no oa:exact: nothing to quote"
