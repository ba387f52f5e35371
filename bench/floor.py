"""The floor under a build (bench stage `floor`): what the engines kg hands its work to cost
on the same build, with none of kg's own code around them. Oxigraph loads the store,
pyoxigraph writes the four dumps and pyshacl-turbo validates kg's validation tasks, each timed in
CPU seconds (all threads of this process). Shared perfectly between the cores and added to
the NER alone, they give the fastest whole build these engines allow: if that is already
over a target, no change to kg's own code meets it."""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pyoxigraph as ox


def _cpu(fn: Callable[[], Any]) -> float:
    start = time.process_time()
    fn()
    return time.process_time() - start


CHUNK = 500_000  # statements parsed (not timed) before the engine is timed on them


def _chunks(path: Path, rdf_format: ox.RdfFormat) -> Iterator[list[ox.Quad]]:
    parsed = ox.parse(path=str(path), format=rdf_format)
    while chunk := list(itertools.islice(parsed, CHUNK)):
        yield chunk


def engine_costs(out: Path) -> list[tuple[str, float]]:
    """(what, CPU seconds) for each engine's share of the work after extraction on the
    build in out (its kg.trig), a chunk of statements at a time (parsed first, not timed),
    so memory stays small at any size. Lower bounds: the store is loaded in one bulk load
    (kg loads it in chunks while it maps, then compacts it; one load leaves it as compact),
    JSON-LD is pyoxigraph's expanded form (kg's is compacted with a context), and nothing is
    sorted, gzipped or hashed. pyshacl-turbo gets the very tasks kg's validation hands it
    (kg.validate.validation_parts in task_batches). (kg.nt and kg.ttl get every quad's
    triple: a kg build states nothing in two graphs, so that is its union graph.)"""
    from kg.validate import (
        ARTICLES_PER_TASK,
        TASK_BYTES,
        TurboValidator,
        load_ontology,
        load_shapes,
        task_batches,
        validation_parts,
    )

    trig = out / "kg.trig"
    scratch = Path(tempfile.mkdtemp(prefix="kg-bench-floor-"))
    try:
        nquads = scratch / "kg.nq"
        with nquads.open("wb") as file:
            ox.serialize(ox.parse(path=str(trig), format=ox.RdfFormat.TRIG), file, ox.RdfFormat.N_QUADS)

        def load() -> None:
            store = ox.Store(str(scratch / "store"))
            store.bulk_load(path=str(nquads), format=ox.RdfFormat.N_QUADS)
            store.flush()

        costs = [("Oxigraph bulk load of the quads", _cpu(load))]
        for name, rdf_format in (
            ("kg.nt", ox.RdfFormat.N_TRIPLES),
            ("kg.ttl", ox.RdfFormat.TURTLE),
            ("kg.jsonld", ox.RdfFormat.JSON_LD),
            ("kg.trig", ox.RdfFormat.TRIG),
        ):
            seconds = 0.0
            with (scratch / name).open("wb") as file:
                for chunk in _chunks(nquads, ox.RdfFormat.N_QUADS):
                    statements: list[Any] = chunk if rdf_format.supports_datasets else [q.triple for q in chunk]
                    seconds += _cpu(partial(ox.serialize, statements, file, rdf_format))
            costs.append((f"pyoxigraph writes {name}", seconds))
        turbo = TurboValidator(load_shapes(Path("shapes")), load_ontology(Path("ontology")))
        tasks = 0
        seconds = 0.0
        parts = validation_parts(lambda: ox.parse(path=str(nquads), format=ox.RdfFormat.N_QUADS))
        for task in task_batches(parts, ARTICLES_PER_TASK, TASK_BYTES):
            text = task.decode()
            if not tasks:
                turbo.report(text)  # warm up
            tasks += 1
            seconds += _cpu(partial(turbo.report, text))
        costs.append((f"pyshacl-turbo, kg's validation tasks ({tasks})", seconds))
        return costs
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def floor_table(out: Path, n: int, ner_seconds: float | None, build_seconds: float | None) -> str:
    """The engines' costs, their floor on this machine's cores, and (when the extraction and
    build stages ran) the whole build's floor and kg's build against the NER alone. The NER
    plus the engines' share of the cores bounds the whole build only when the NER filled
    every core itself (as many processes as cores: SpacyExtractor.PARALLEL_FROM articles on)."""
    from bench.run import _table

    cores = os.cpu_count() or 1
    costs = engine_costs(out)
    floor = sum(seconds for _, seconds in costs) / cores
    base = floor if ner_seconds is None else ner_seconds
    rows: list[tuple[str, float]] = []
    if ner_seconds is not None:
        rows.append(("spaCy NER alone (baseline; wall)", ner_seconds))
    rows += [(f"{what} (CPU)", seconds) for what, seconds in costs]
    rows.append((f"all of them on {cores} cores, at best" + (" (baseline)" if ner_seconds is None else ""), floor))
    if ner_seconds is not None:
        rows.append(("whole build at best: NER + all of them", ner_seconds + floor))
    if build_seconds is not None:
        rows.append(("kg build end to end (the build table's)", build_seconds))
    title = f"floor: the engines alone after extraction ({n} articles)"
    table = _table(title, [(w, s, 1000 * s / n, s / base) for w, s in rows], width=52)
    at_scale = floor * 100_000 / n / 60
    return f"{table}\nat this rate the engines after extraction take at best {at_scale:.1f} min for 100,000 articles"
