"""The external sort behind the dumps: runs on disk merged give the bytes one in-memory
sort gives, for the line sorter alone, for the dumps, and for a whole build."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pyoxigraph as ox
import pytest

import kg.dumps
import kg.sorting
from kg.build import build
from kg.dumps import CHECKSUM_FILE, DUMP_FILES, GZIPPED, VOID_FILE, dump_names, write_dumps
from kg.extract.entities import SpacyExtractor
from kg.settings import Settings
from kg.sorting import LineSorter
from tests.conftest import RAW, SEED_EPOCH


def _lines(n: int, seed: int = 7) -> list[bytes]:
    rng = random.Random(seed)
    # short lines over a small alphabet: many repeats and many lines that prefix others
    return [bytes(rng.choice(b"ab <>_:") for _ in range(rng.randint(0, 6))) for _ in range(n)]


@pytest.mark.parametrize("unique", [True, False])
@pytest.mark.parametrize(("run_lines", "fan_in"), [(10_000, 2), (7, 2), (7, 3), (1, 50)])
def test_line_sorter_matches_sorted(tmp_path: Path, unique: bool, run_lines: int, fan_in: int) -> None:
    lines = _lines(500)
    sorter = LineSorter(tmp_path, unique=unique, run_lines=run_lines, fan_in=fan_in)
    sorter.add(lines[:100])
    sorter.extend(lines[100:])
    assert sorter.added == len(lines)
    assert list(sorter.sorted()) == (sorted(set(lines)) if unique else sorted(lines))
    assert list(tmp_path.iterdir()) == [], "the run files are removed once merged"


def test_line_sorter_spills_runs_to_disk(tmp_path: Path) -> None:
    sorter = LineSorter(tmp_path, run_lines=10)
    sorter.extend(_lines(95))
    assert len(sorter.runs) == 9 and len(sorter.buffer) == 5
    assert all(run.is_file() for run in sorter.runs)
    sorter.close()
    assert list(tmp_path.iterdir()) == []


def test_line_sorter_empty(tmp_path: Path) -> None:
    assert list(LineSorter(tmp_path, unique=True, run_lines=3).sorted()) == []


def _dump_bytes(folder: Path) -> dict[str, bytes]:
    return {name: (folder / name).read_bytes() for name in dump_names()}


@pytest.mark.parametrize(("run_lines", "fan_in"), [(97, 2), (211, 3), (2_000, 128)])
def test_many_runs_give_the_dumps_of_one(built: Path, tmp_path: Path, run_lines: int, fan_in: int) -> None:
    """The seeds' quads (and a few in the default graph, and repeats) written with runs of a
    few lines, merged a few at a time, give the same dumps, statistics and counts as one
    in-memory run."""
    quads = list(ox.parse(path=str(built / "kg.trig"), format=ox.RdfFormat.TRIG))
    default = [ox.Quad(q.subject, q.predicate, q.object, ox.DefaultGraph()) for q in quads[:300]]
    given = [*quads[::-1], *default, *quads[:50]]
    assert len(given) > run_lines
    one, many = tmp_path / "one", tmp_path / "many"
    one.mkdir()
    many.mkdir()
    one_files, one_stats = write_dumps(given, one, run_lines=10 * len(given))
    many_files, many_stats = write_dumps(given, many, run_lines=run_lines, fan_in=fan_in)
    assert sorted(p.name for p in many.iterdir()) == sorted(dump_names()), "no run files are left"
    assert _dump_bytes(many) == _dump_bytes(one)
    assert many_files == one_files
    assert many_stats == one_stats
    assert {f.name: f.triples for f in one_files}["kg.trig"] == len(given)
    nt = (one / "kg.nt").read_bytes().splitlines()
    assert nt == sorted(set(nt)) and one_stats.triples == len(nt)


def test_build_with_tiny_runs_is_byte_identical(
    built: Path, tmp_path: Path, extractor: SpacyExtractor, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A whole build whose sort spills runs of 100 lines, merged three at a time (so in
    several passes), and whose kg.jsonld is written by another process (as large builds'
    are), publishes the bytes of the session's build and leaves no run files."""
    monkeypatch.setattr(kg.dumps, "JSONLD_APART_FROM", 0)
    monkeypatch.setattr(kg.sorting, "RUN_LINES", 100)
    monkeypatch.setattr(kg.sorting, "FAN_IN", 3)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", SEED_EPOCH)
    out = tmp_path / "out"
    result = build(Settings(raw_dir=RAW, out_dir=out), extractor=extractor)
    assert result.quads > 100 * 3 * 3
    for name in [*DUMP_FILES, *(f"{n}.gz" for n in GZIPPED), VOID_FILE, CHECKSUM_FILE]:
        assert (out / name).read_bytes() == (built / name).read_bytes(), name
    assert not [p for p in out.rglob("*") if p.name.startswith(("sort-", "run-"))]
    assert sorted(os.listdir(tmp_path)) == [".out.cache", ".out.lock", "out"]


@pytest.mark.parametrize("limit", [3, 50_000])
def test_jsonld_with_a_small_iri_cache_writes_the_same_bytes(
    built: Path, monkeypatch: pytest.MonkeyPatch, limit: int
) -> None:
    """kg.jsonld's IRI cache is bounded (emptied when full); the output does not change."""
    from kg.jsonld import _Compactor, jsonld_chunks
    from kg.namespaces import PREFIXES

    nt = str(built / "kg.nt")
    theirs = b"".join(jsonld_chunks(ox.parse(path=nt, format=ox.RdfFormat.N_TRIPLES), PREFIXES))
    monkeypatch.setattr(_Compactor, "LIMIT", limit)
    ours = b"".join(jsonld_chunks(ox.parse(path=nt, format=ox.RdfFormat.N_TRIPLES), PREFIXES))
    assert ours == theirs == (built / "kg.jsonld").read_bytes()
