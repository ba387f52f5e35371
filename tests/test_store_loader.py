"""The background store load of the build (kg.store.loader), against a real Oxigraph store."""

from __future__ import annotations

import threading
from pathlib import Path

import pyoxigraph as ox
import pytest

from kg.store.loader import StoreLoader, StoreLoadError
from kg.store.oxigraph import OxigraphStore

LINES = [
    b'<http://x/a> <http://x/p> "one" <http://x/g1> .',
    b"<http://x/a> <http://x/q> <http://x/b> <http://x/g1> .",
    b'<http://x/b> <http://x/p> "two"@en <http://x/g2> .',
    b'<http://x/c> <http://x/p> "3"^^<http://www.w3.org/2001/XMLSchema#integer> .',
]


def test_lines_given_in_small_chunks_all_reach_the_store(tmp_path: Path) -> None:
    loader = StoreLoader(OxigraphStore(tmp_path / "store", read_only=False), chunk_lines=2, depth=1)
    for line in LINES:
        loader.add_lines([line])
    loader.add_lines([])
    store = loader.finish()
    try:
        assert set(store.match()) == set(ox.parse(b"\n".join(LINES) + b"\n", format=ox.RdfFormat.N_QUADS))
        assert loader.lines == len(LINES)
    finally:
        store.close()
    reopened = OxigraphStore(tmp_path / "store", read_only=True)
    assert len(reopened) == len(LINES), "finish() flushed the bulk loads to disk"
    reopened.close()


def test_a_line_the_store_cannot_read_fails_the_load_with_its_reason(tmp_path: Path) -> None:
    loader = StoreLoader(OxigraphStore(tmp_path / "store", read_only=False), chunk_lines=1)
    loader.add_lines([b"<http://x/a> <http://x/p> 'not a literal' ."])
    with pytest.raises(StoreLoadError, match="loading the store failed: .*"):
        loader.finish()
    loader.abandon()  # what the build does after a failure: stops, closes the store


def test_after_a_failure_more_lines_are_refused_at_once(tmp_path: Path) -> None:
    loader = StoreLoader(OxigraphStore(tmp_path / "store", read_only=False), chunk_lines=1, depth=1)
    loader.add_lines([b"<http://x/a> <http://x/p> 'bad' ."])
    with pytest.raises(StoreLoadError):
        for _ in range(1000):  # the thread fails on the first chunk; the caller hears of it soon
            loader.add_lines(LINES[:1])
    loader.abandon()


def _fed(tmp_path: Path, **options: int) -> StoreLoader:
    """A loader of a new store, given LINES one at a time, one line a chunk."""
    loader = StoreLoader(OxigraphStore(tmp_path / "store", read_only=False), chunk_lines=1, **options)
    for line in LINES:
        loader.add_lines([line])
    return loader


def test_abandon_stops_and_closes_a_load_under_way(tmp_path: Path) -> None:
    loader = _fed(tmp_path, depth=2)
    loader.abandon()
    with pytest.raises(StoreLoadError, match="abandoned"):
        loader.add_lines(LINES[:1])


def _loading_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("kg-store-load") and t.is_alive()]


def _compacting_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "kg-store-compact"]


def test_several_loading_threads_load_every_chunk_once(tmp_path: Path) -> None:
    lines = [f"<http://x/s{i}> <http://x/p> <http://x/o{i % 7}> <http://x/g{i % 3}> .".encode() for i in range(500)]
    lines += [f'<http://x/d{i}> <http://x/p> "{i}" .'.encode() for i in range(50)]  # the default graph
    loader = StoreLoader(OxigraphStore(tmp_path / "store", read_only=False), chunk_lines=7, depth=1, threads=3)
    for start in range(0, len(lines), 5):
        loader.add_lines(lines[start : start + 5])
    store = loader.finish()
    try:
        assert set(store.match()) == set(ox.parse(b"\n".join(lines) + b"\n", format=ox.RdfFormat.N_QUADS))
        assert len(store) == len(lines)
    finally:
        store.close()
    assert not _loading_threads()


def test_abandon_stops_every_loading_thread(tmp_path: Path) -> None:
    loader = _fed(tmp_path, depth=1, threads=2)
    loader.abandon()
    assert not _loading_threads()


def test_compact_when_loaded_compacts_after_the_last_load_and_finish_waits_for_it(tmp_path: Path) -> None:
    """The build ends the lines as soon as it has mapped them: the store is compacted in the
    background once they are loaded; finish() waits for that and returns the whole store,
    to which later statements can still be added."""
    lines = [f"<http://x/s{i}> <http://x/p> <http://x/o{i}> <http://x/g{i % 5}> .".encode() for i in range(300)]
    loader = StoreLoader(OxigraphStore(tmp_path / "store", read_only=False), chunk_lines=20, depth=1, threads=2)
    for start in range(0, len(lines), 7):
        loader.add_lines(lines[start : start + 7])
    compacted = threading.Event()
    optimize = loader.store.optimize

    def observed_optimize() -> None:
        assert not _loading_threads(), "compacted before every chunk was loaded"
        optimize()
        compacted.set()

    loader.store.optimize = observed_optimize  # type: ignore[method-assign]
    loader.compact_when_loaded()
    with pytest.raises(StoreLoadError, match=r"no more lines after compact_when_loaded\(\)"):
        loader.add_lines(LINES[:1])
    store = loader.finish()
    try:
        assert compacted.is_set()
        late = ox.Quad(ox.NamedNode("http://x/void"), ox.NamedNode("http://x/p"), ox.Literal("late"))
        store.load([late], optimize=False)
        assert set(store.match()) == set(ox.parse(b"\n".join(lines) + b"\n", format=ox.RdfFormat.N_QUADS)) | {late}
    finally:
        store.close()
    assert not _compacting_threads()


def test_a_failed_load_is_not_compacted_and_finish_says_why(tmp_path: Path) -> None:
    loader = StoreLoader(OxigraphStore(tmp_path / "store", read_only=False), chunk_lines=1)
    loader.add_lines([b"<http://x/a> <http://x/p> 'not a literal' ."])
    loader.store.optimize = lambda: pytest.fail("a failed load was compacted")  # type: ignore[method-assign]
    loader.compact_when_loaded()
    with pytest.raises(StoreLoadError, match="loading the store failed: .*"):
        loader.finish()
    loader.abandon()


def test_abandon_after_compact_when_loaded_waits_for_the_compaction_and_closes(tmp_path: Path) -> None:
    loader = _fed(tmp_path, threads=2)
    loader.compact_when_loaded()
    loader.abandon()
    assert not _loading_threads() and not _compacting_threads()
    reopened = OxigraphStore(tmp_path / "store", read_only=True)  # closed: it opens again
    reopened.close()
