"""The embedded default store: Oxigraph on disk under out/store."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from kg.namespaces import PREFIXES

STORE_DIR = "store"


class OxigraphStore:
    """pyoxigraph Store on disk; opened read-only by the server and the CLI."""

    def __init__(self, path: Path, *, read_only: bool = True) -> None:
        self.path = path
        if read_only:
            if not path.is_dir():
                raise FileNotFoundError(f"{path}: no store here; run `kg build` first")
            self._store = ox.Store.read_only(str(path))
        else:
            self._store = ox.Store(str(path))

    #: Quads handed to Oxigraph's bulk loader at once: given a whole file it gathers about
    #: a million quads per core before writing (1.5 GB for a 2.3 M-quad build).
    LOAD_CHUNK = 50_000

    def load(self, quads: Iterable[ox.Quad], *, optimize: bool = True) -> None:
        """Bulk-load quads, LOAD_CHUNK at a time; then compact the store (optimize)."""
        quads = iter(quads)
        while chunk := list(itertools.islice(quads, self.LOAD_CHUNK)):
            self._store.bulk_extend(chunk)
        self._store.flush()
        if optimize:
            self.optimize()

    def load_nquads(self, text: bytes) -> None:
        """Bulk-load N-Quads text, read leniently: the build's own lines (see kg.dumps._parsed)."""
        self._store.bulk_load(text, format=ox.RdfFormat.N_QUADS, lenient=True)

    def flush(self) -> None:
        """Write what bulk loads left in memory to disk."""
        self._store.flush()

    def optimize(self) -> None:
        """Compact the store (one core; Oxigraph releases the GIL meanwhile, so other
        threads of this process run on)."""
        self._store.optimize()

    def query(
        self,
        sparql: str,
        *,
        default_graph: Sequence[ox.NamedNode] | None = None,
        named_graphs: Sequence[ox.NamedNode] | None = None,
        base_iri: str | None = None,
        dataset_in_query: bool = False,
    ) -> Any:
        kwargs: dict[str, Any] = {"prefixes": PREFIXES, "base_iri": base_iri}
        if default_graph:  # the protocol's default-graph-uri overrides FROM (SPARQL 1.1 Protocol 2.1.4)
            kwargs["default_graph"] = list(default_graph)
        elif not dataset_in_query:  # pyoxigraph's union flag would override the query's FROM
            kwargs["use_default_graph_as_union"] = True
        if named_graphs:
            kwargs["named_graphs"] = list(named_graphs)
        return self._store.query(sparql, **kwargs)

    def match(
        self,
        subject: ox.NamedNode | ox.BlankNode | None = None,
        predicate: ox.NamedNode | None = None,
        obj: ox.NamedNode | ox.BlankNode | ox.Literal | None = None,
        graph: ox.NamedNode | None = None,
    ) -> Iterator[ox.Quad]:
        """Quads matching the pattern (None matches anything; every graph unless given)."""
        return self._store.quads_for_pattern(subject, predicate, obj, graph)

    def match_many(
        self, subjects: Iterable[ox.NamedNode], predicates: Sequence[ox.NamedNode] | None = None
    ) -> list[ox.Quad]:
        """Quads whose subject (and predicate, unless None) are among the given ones (index lookups)."""
        wanted: Sequence[ox.NamedNode | None] = [None] if predicates is None else predicates
        return [q for s in sorted(set(subjects), key=str) for p in wanted for q in self.match(s, p)]

    def named_graphs(self) -> list[ox.NamedNode]:
        return [g for g in self._store.named_graphs() if isinstance(g, ox.NamedNode)]

    def __len__(self) -> int:
        return len(self._store)

    def close(self) -> None:
        del self._store
