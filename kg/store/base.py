"""The small interface every store implements."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Protocol

import pyoxigraph as ox


class GraphStore(Protocol):
    """A quad store the build loads and the web app and CLI query."""

    def load(self, quads: Iterable[ox.Quad]) -> None:
        """Add quads (bulk)."""

    def query(
        self,
        sparql: str,
        *,
        default_graph: Sequence[ox.NamedNode] | None = None,
        named_graphs: Sequence[ox.NamedNode] | None = None,
        base_iri: str | None = None,
        dataset_in_query: bool = False,
    ) -> Any:
        """Run a read-only SPARQL query; the default graph is the union of all graphs
        unless default_graph names graphs or the query has FROM/FROM NAMED
        (dataset_in_query); relative IRIs resolve against base_iri."""

    def match(
        self,
        subject: ox.NamedNode | ox.BlankNode | None = None,
        predicate: ox.NamedNode | None = None,
        obj: ox.NamedNode | ox.BlankNode | ox.Literal | None = None,
        graph: ox.NamedNode | None = None,
    ) -> Iterable[ox.Quad]:
        """Quads matching the pattern (None matches anything; every graph unless given)."""

    def match_many(
        self, subjects: Iterable[ox.NamedNode], predicates: Sequence[ox.NamedNode] | None = None
    ) -> list[ox.Quad]:
        """Quads whose subject is among the given ones and whose predicate is too (any
        predicate when predicates is None), grouped by subject."""

    def named_graphs(self) -> list[ox.NamedNode]:
        """The named graphs of the store."""

    def close(self) -> None:
        """Release the store."""
