"""Resource descriptions read from the store: a concise bounded description (outgoing
triples, blank nodes and the resource's own sub-resources expanded), labels of linked
resources, and incoming links, paged."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import pyoxigraph as ox

from kg.namespaces import DCTERMS, RDFS, SCHEMA
from kg.store.oxigraph import OxigraphStore

LABEL_PREDICATES = tuple(ox.NamedNode(str(p)) for p in (SCHEMA.name, SCHEMA.headline, RDFS.label, DCTERMS.title))
MENTIONS = ox.NamedNode(str(SCHEMA.mentions))


@dataclass
class Description:
    """What the web app shows for one IRI."""

    iri: str
    triples: list[ox.Triple]
    labels: dict[str, str]
    incoming: list[ox.Triple]
    incoming_total: int


def describe(store: OxigraphStore, iri: str, max_depth: int = 3) -> list[ox.Triple]:
    """Outgoing triples of iri, expanded through blank nodes and through IRIs that live
    under iri's own path (an article's images and mention evidence)."""
    root = ox.NamedNode(iri)
    seen: set[ox.Triple] = set()
    ordered: list[ox.Triple] = []
    frontier: list[tuple[ox.NamedNode | ox.BlankNode, int]] = [(root, 0)]
    visited: set[str] = set()
    while frontier:
        node, depth = frontier.pop(0)
        if str(node) in visited:
            continue
        visited.add(str(node))
        for quad in store.quads_for(node):  # type: ignore[arg-type]
            triple = ox.Triple(quad.subject, quad.predicate, quad.object)
            if triple in seen:
                continue
            seen.add(triple)
            ordered.append(triple)
            obj = quad.object
            owned = isinstance(obj, ox.NamedNode) and obj.value.startswith(iri + "/")
            if depth < max_depth and (isinstance(obj, ox.BlankNode) or owned):
                frontier.append((obj, depth + 1))  # type: ignore[arg-type]
    return ordered


def labels(store: OxigraphStore, nodes: Iterable[object]) -> dict[str, str]:
    """A display label for each IRI that has one."""
    found: dict[str, str] = {}
    for node in nodes:
        if not isinstance(node, ox.NamedNode) or node.value in found:
            continue
        for predicate in LABEL_PREDICATES:
            quads = store.quads_matching(node, predicate)
            label = next((q.object.value for q in quads if isinstance(q.object, ox.Literal)), None)
            if label:
                found[node.value] = label
                break
    return found


def incoming(store: OxigraphStore, iri: str, limit: int = 100, offset: int = 0) -> tuple[list[ox.Triple], int]:
    """Triples pointing at iri (e.g. the articles that mention an entity), one page of
    them and the total count."""
    triples: list[ox.Triple] = []
    total = 0
    seen: set[ox.Triple] = set()
    for quad in store.objects_to(ox.NamedNode(iri)):
        triple = ox.Triple(quad.subject, quad.predicate, quad.object)
        if triple in seen or quad.predicate.value.startswith("http://www.w3.org/ns/oa#"):
            continue
        seen.add(triple)
        if offset <= total < offset + limit:
            triples.append(triple)
        total += 1
    return triples, total


def resource(store: OxigraphStore, iri: str, incoming_limit: int = 100) -> Description | None:
    """The description of iri, or None when the store says nothing about it."""
    triples = describe(store, iri)
    if not triples:
        return None
    back, total = incoming(store, iri, limit=incoming_limit)
    nodes = [t.object for t in triples] + [t.subject for t in triples] + [t.subject for t in back]
    return Description(iri=iri, triples=triples, labels=labels(store, nodes), incoming=back, incoming_total=total)
