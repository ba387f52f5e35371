"""Where a build's memory goes: `python -m bench.memory --raw DIR --out DIR` runs one
`kg build --force` in this process and prints, for each stage of the build, its wall time,
the resident memory when it started and ended and the peak while it ran (sampled every
50 ms, so the peaks of the Rust side, pyoxigraph's, count too). Extraction is cached beside
--out, so run it once to warm the cache, then again to measure what comes after."""

from __future__ import annotations

import argparse
import itertools
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil


@dataclass
class Stage:
    name: str
    seconds: float
    start_mb: float
    end_mb: float
    peak_mb: float


class Sampler:
    """Samples this process's RSS in a thread; each stage reads the peak since it began
    (stages may overlap: the build validates on a thread beside its dumps)."""

    def __init__(self, every: float = 0.05) -> None:
        self.process = psutil.Process()
        self.every = every
        self.overall = self.now()
        self.stages: list[Stage] = []
        self._peaks: dict[int, float] = {}  # the running stages' peaks so far
        self._keys = itertools.count()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def now(self) -> float:
        return float(self.process.memory_info().rss) / 2**20

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self.note(self.now())

    def note(self, rss: float) -> None:
        """Count rss (MB) towards the overall peak and every running stage's."""
        with self._lock:
            self.overall = max(self.overall, rss)
            for key, peak in self._peaks.items():
                self._peaks[key] = max(peak, rss)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        start, began = self.now(), time.perf_counter()
        with self._lock:
            key = next(self._keys)
            self._peaks[key] = start
        try:
            yield
        finally:
            end = self.now()
            with self._lock:
                peak = max(self._peaks.pop(key), end)
            self.stages.append(Stage(name, time.perf_counter() - began, start, end, peak))

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def _wrap(sampler: Sampler, owner: Any, attribute: str, name: str) -> Callable[[], None]:
    """Replace owner.attribute by the same callable run inside a stage; returns what puts
    the original back."""
    original: Callable[..., Any] = getattr(owner, attribute)

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        with sampler.stage(name):
            return original(*args, **kwargs)

    setattr(owner, attribute, wrapped)
    return lambda: setattr(owner, attribute, original)


def profile_build(raw: Path, out: Path, cache: Path | None = None) -> tuple[list[Stage], float, float]:
    """(stages, seconds, peak MB) of one forced build of raw into out (publishing it even
    with SHACL violations)."""
    import kg.build as kb
    from kg.dumps import DumpSorter
    from kg.settings import Settings
    from kg.store.loader import StoreLoader

    sampler = Sampler()
    restore = [
        _wrap(sampler, kb, "read_articles", "read articles"),
        _wrap(sampler, kb, "_extract", "extract"),
        _wrap(sampler, kb, "resolve_corpus", "resolve"),
        _wrap(sampler, kb, "sort_mapped", "map to sorted runs"),
        _wrap(sampler, DumpSorter, "write", "dumps"),
        _wrap(sampler, StoreLoader, "finish", "rest of store load and compaction"),
        _wrap(sampler, kb, "write_summaries", "entity summaries"),
        _wrap(sampler, kb, "_validate_staging", "validation"),
    ]
    try:
        began = time.perf_counter()
        settings = Settings(raw_dir=raw, out_dir=out, cache_dir=cache) if cache else Settings(raw_dir=raw, out_dir=out)
        kb.build(settings, allow_invalid=True, force=True)
        seconds = time.perf_counter() - began
    finally:
        sampler.stop()
        for undo in restore:
            undo()
    return sampler.stages, seconds, sampler.overall


def stage_table(stages: list[Stage]) -> str:
    rows = [
        f"| {'stage':<20} | {'s':>7} | {'start MB':>8} | {'end MB':>8} | {'peak MB':>8} |",
        f"|{'-' * 22}|{'-' * 9}|{'-' * 10}|{'-' * 10}|{'-' * 10}|",
    ]
    for s in stages:
        rows.append(f"| {s.name:<20} | {s.seconds:>7.1f} | {s.start_mb:>8.0f} | {s.end_mb:>8.0f} | {s.peak_mb:>8.0f} |")
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--raw", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--cache", type=Path, help="extraction cache folder (default: beside --out)")
    args = parser.parse_args()
    stages, seconds, peak = profile_build(args.raw, args.out, args.cache)
    print(f"build of {args.raw}: {seconds:.1f} s, peak RSS {peak:.0f} MB (sampled)")
    print(stage_table(stages))


if __name__ == "__main__":
    main()
