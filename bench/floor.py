"""The floor under a build (bench stage `floor`): what the engines kg hands its work to cost
on the same build, with none of kg's own code around them. Oxigraph loads the store,
pyoxigraph writes the four dumps and pyshacl-turbo checks the article graphs, each timed in
CPU seconds (all threads of this process). Shared perfectly between the cores and added to
the NER alone, they give the fastest whole build these engines allow: if that is already
over a target, no change to kg's own code meets it."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import pyoxigraph as ox


def _cpu(fn: Callable[[], Any]) -> float:
    start = time.process_time()
    fn()
    return time.process_time() - start


def _load(path: Path, nquads: bytes) -> None:
    store = ox.Store(str(path))
    store.bulk_load(nquads, format=ox.RdfFormat.N_QUADS)
    store.flush()


def engine_costs(out: Path) -> list[tuple[str, float]]:
    """(what, CPU seconds) for each engine's share of the work after extraction on the
    build in out (its kg.trig). Lower bounds: the store is loaded in one bulk load (kg loads
    it in chunks while it maps, then compacts it; one load leaves it as compact), JSON-LD is
    pyoxigraph's expanded form (kg's is compacted with a context), and each article graph is
    validated without the few statements about its entities that kg adds to it."""
    from kg.validate import (
        ARTICLES_PER_TASK,
        TASK_BYTES,
        TurboValidator,
        is_article_graph_nt,
        load_ontology,
        load_shapes,
        task_batches,
    )

    quads = list(ox.parse(path=str(out / "kg.trig"), format=ox.RdfFormat.TRIG))
    nquads = ox.serialize(quads, format=ox.RdfFormat.N_QUADS) or b""
    triples = list(dict.fromkeys(quad.triple for quad in quads))  # the union graph
    by_graph: defaultdict[str, list[ox.Triple]] = defaultdict(list)
    for quad in quads:
        if is_article_graph_nt(str(quad.graph_name).encode()):
            by_graph[str(quad.graph_name)].append(quad.triple)
    parts = [ox.serialize(graph, format=ox.RdfFormat.N_TRIPLES) or b"" for graph in by_graph.values()]
    tasks = [task.decode() for task in task_batches(parts, ARTICLES_PER_TASK, TASK_BYTES)]
    turbo = TurboValidator(load_shapes(Path("shapes")), load_ontology(Path("ontology")))
    scratch = Path(tempfile.mkdtemp(prefix="kg-bench-floor-"))
    try:

        def write(name: str, statements: list[Any], rdf_format: ox.RdfFormat) -> Callable[[], None]:
            def run() -> None:
                with (scratch / name).open("wb") as file:
                    ox.serialize(statements, file, rdf_format)

            return run

        costs = [("Oxigraph bulk load of the quads", _cpu(partial(_load, scratch / "store", nquads)))]
        del nquads
        for name, statements, rdf_format in (
            ("kg.nt", triples, ox.RdfFormat.N_TRIPLES),
            ("kg.ttl", triples, ox.RdfFormat.TURTLE),
            ("kg.jsonld", quads, ox.RdfFormat.JSON_LD),
            ("kg.trig", quads, ox.RdfFormat.TRIG),
        ):
            costs.append((f"pyoxigraph writes {name}", _cpu(write(name, statements, rdf_format))))
        turbo.report(tasks[0])  # warm up
        costs.append((f"pyshacl-turbo, {len(parts)} article graphs", _cpu(lambda: [turbo.report(t) for t in tasks])))
        return costs
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def floor_table(out: Path, n: int, ner_seconds: float | None, build_seconds: float | None) -> str:
    """The engines' costs, their floor on this machine's cores, and (when the extraction and
    build stages ran) the whole build's floor and kg's build against the NER alone."""
    cores = os.cpu_count() or 1
    costs = engine_costs(out)
    floor = sum(seconds for _, seconds in costs) / cores
    base = ner_seconds or floor
    rows: list[tuple[str, float]] = []
    if ner_seconds is not None:
        rows.append(("spaCy NER alone (baseline; wall)", ner_seconds))
    rows += [(f"{what} (CPU)", seconds) for what, seconds in costs]
    rows.append((f"all of them on {cores} cores, at best" + ("" if ner_seconds else " (baseline)"), floor))
    if ner_seconds is not None:
        rows.append(("whole build at best: NER + all of them", ner_seconds + floor))
    if build_seconds is not None:
        rows.append(("kg build end to end (the build table's)", build_seconds))
    lines = [
        f"\nfloor: the engines alone after extraction ({n} articles)",
        f"| {'what':<52} | {'s':>8} | {'per article ms':>14} | {'ratio':>6} |",
        f"|{'-' * 54}|{'-' * 10}|{'-' * 16}|{'-' * 8}|",
    ]
    lines += [f"| {w:<52} | {s:>8.3f} | {1000 * s / n:>14.2f} | {s / base:>6.2f} |" for w, s in rows]
    at_scale = floor * 100_000 / n / 60
    lines.append(f"at this rate the engines after extraction take at best {at_scale:.1f} min for 100,000 articles")
    return "\n".join(lines)
