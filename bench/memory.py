"""Where a build's memory goes: `python -m bench.memory --raw DIR --out DIR` runs one
`kg build --force` in this process and prints, for each stage of the build, its wall time,
the resident memory when it started and ended and the peak while it ran (sampled every
50 ms, so the peaks of the Rust side, pyoxigraph's, count too). Extraction is cached beside
--out, so run it once to warm the cache, then again to measure what comes after."""

from __future__ import annotations

import argparse
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
    """Samples this process's RSS in a thread; stages read the peak since they began."""

    def __init__(self, every: float = 0.05) -> None:
        self.process = psutil.Process()
        self.every = every
        self.peak = self.now()
        self.overall = self.peak
        self.stages: list[Stage] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def now(self) -> float:
        return float(self.process.memory_info().rss) / 2**20

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            rss = self.now()
            self.peak = max(self.peak, rss)
            self.overall = max(self.overall, rss)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        start, began = self.now(), time.perf_counter()
        self.peak = start
        try:
            yield
        finally:
            end = self.now()
            self.stages.append(Stage(name, time.perf_counter() - began, start, end, max(self.peak, end)))

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def _wrap(sampler: Sampler, owner: Any, attribute: str, name: str) -> None:
    """Replace owner.attribute by the same callable run inside a stage; a generator
    function's stage lasts until it is exhausted."""
    original: Callable[..., Any] = getattr(owner, attribute)

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        with sampler.stage(name):
            return original(*args, **kwargs)

    setattr(owner, attribute, wrapped)


def profile_build(raw: Path, out: Path, cache: Path | None = None) -> tuple[list[Stage], float, float]:
    """(stages, seconds, peak MB) of one forced build of raw into out."""
    import kg.build as kb
    import kg.dumps as kd
    from kg.settings import Settings
    from kg.store.oxigraph import OxigraphStore

    sampler = Sampler()
    stages = {  # kg.build's names, old and new (those it has are wrapped)
        "read_articles": "read articles",
        "_extract": "extract (cached)",
        "resolve_corpus": "resolve",
        "nquads_lines": "map to lines",
        "write_dump_lines": "dumps",
        "load_store": "store bulk load",
        "_validate_staging": "validation",
    }
    for attribute, name in stages.items():
        if hasattr(kb, attribute):
            _wrap(sampler, kb, attribute, name)
    if hasattr(kd, "DumpSorter"):
        _wrap(sampler, kd.DumpSorter, "add_quads", "map to sorted runs")
        _wrap(sampler, kd.DumpSorter, "write", "dumps")
    if not hasattr(kb, "load_store"):
        _wrap(sampler, OxigraphStore, "load_file", "store bulk load")
    began = time.perf_counter()
    settings = Settings(raw_dir=raw, out_dir=out, **({"cache_dir": cache} if cache else {}))
    kb.build(settings, allow_invalid=True, force=True)
    seconds = time.perf_counter() - began
    sampler.stop()
    return sampler.stages, seconds, sampler.overall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--raw", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--cache", type=Path, help="extraction cache folder (default: beside --out)")
    args = parser.parse_args()
    stages, seconds, peak = profile_build(args.raw, args.out, args.cache)
    print(f"build of {args.raw}: {seconds:.1f} s, peak RSS {peak:.0f} MB (sampled)")
    print(f"| {'stage':<20} | {'s':>7} | {'start MB':>8} | {'end MB':>8} | {'peak MB':>8} |")
    print(f"|{'-' * 22}|{'-' * 9}|{'-' * 10}|{'-' * 10}|{'-' * 10}|")
    for s in stages:
        print(f"| {s.name:<20} | {s.seconds:>7.1f} | {s.start_mb:>8.0f} | {s.end_mb:>8.0f} | {s.peak_mb:>8.0f} |")


if __name__ == "__main__":
    main()
