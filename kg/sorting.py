"""External sort of byte lines: lines are gathered a run at a time, each run is sorted and
written to a file, and the runs are merged lazily. Memory holds one run, whatever the total."""

from __future__ import annotations

import heapq
import itertools
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

#: Lines sorted in memory at a time (one run file each); about 60 MB of dense N-Quads lines.
RUN_LINES = 200_000
#: Run files merged at once; more runs are first merged into bigger ones, this many at a time.
FAN_IN = 128
_READ_BUFFER = 1 << 16


def _unique(lines: Iterable[bytes]) -> Iterator[bytes]:
    """Sorted lines without repeats (equal lines are adjacent)."""
    previous = None
    for line in lines:
        if line != previous:
            yield line
            previous = line


def read_lines(path: Path) -> Iterator[bytes]:
    """The lines of a file of newline-ended lines, without their newlines, streamed."""
    with path.open("rb", buffering=_READ_BUFFER) as handle:
        for line in handle:
            yield line[:-1]


class LineSorter:
    """Sorts byte lines (none may contain a newline) in byte order, on disk beyond
    run_lines lines. unique: equal lines come out once, as a set's sorted lines would.

    add() the lines, then iterate sorted() once; close() (or the end of sorted()) removes
    the run files. Nothing is written to disk when all lines fit in one run. run_lines and
    fan_in default to the module's RUN_LINES and FAN_IN at the time the sorter is made."""

    def __init__(
        self, folder: Path, *, unique: bool = False, run_lines: int | None = None, fan_in: int | None = None
    ) -> None:
        self.run_lines = RUN_LINES if run_lines is None else run_lines
        self.fan_in = FAN_IN if fan_in is None else fan_in
        if self.run_lines < 1 or self.fan_in < 2:
            raise ValueError("run_lines must be at least 1 and fan_in at least 2")
        self.folder, self.unique = folder, unique
        self.buffer: list[bytes] = []
        self.runs: list[Path] = []
        self.added = 0
        self._dir: Path | None = None
        self._made = 0  # run files made so far (their names)

    def add(self, lines: Iterable[bytes]) -> None:
        for line in lines:
            self.buffer.append(line)
            self.added += 1
            if len(self.buffer) >= self.run_lines:
                self._spill()

    def extend(self, lines: list[bytes]) -> None:
        """add() for a list of lines (faster: the buffer grows by slices)."""
        self.added += len(lines)
        at = 0
        while at < len(lines):
            room = self.run_lines - len(self.buffer)
            self.buffer += lines[at : at + room]
            at += room
            if len(self.buffer) >= self.run_lines:
                self._spill()

    def _new_run(self) -> Path:
        if self._dir is None:
            self.folder.mkdir(parents=True, exist_ok=True)
            self._dir = Path(tempfile.mkdtemp(prefix="sort-", dir=self.folder))
        self._made += 1
        return self._dir / f"run-{self._made:06d}"

    def _write_run(self, lines: Iterable[bytes]) -> Path:
        path, lines = self._new_run(), iter(lines)
        with path.open("wb") as handle:
            while chunk := list(itertools.islice(lines, 10_000)):
                handle.write(b"\n".join(chunk) + b"\n")
        return path

    def _spill(self) -> None:
        self.buffer.sort()
        self.runs.append(self._write_run(_unique(self.buffer) if self.unique else self.buffer))
        self.buffer = []

    def _merge(self, runs: list[Path]) -> Iterator[bytes]:
        merged = heapq.merge(*(read_lines(path) for path in runs))
        return _unique(merged) if self.unique else merged

    def sorted(self) -> Iterator[bytes]:
        """Every line added, in byte order (each once if unique)."""
        try:
            if not self.runs:
                self.buffer.sort()
                lines, self.buffer = self.buffer, []
                yield from _unique(lines) if self.unique else lines
                return
            if self.buffer:
                self._spill()
            while len(self.runs) > self.fan_in:  # bound the open files: merge into bigger runs
                group, rest = self.runs[: self.fan_in], self.runs[self.fan_in :]
                merged = self._write_run(self._merge(group))
                for path in group:
                    path.unlink()
                self.runs = [*rest, merged]
            yield from self._merge(self.runs)
        finally:
            self.close()

    def close(self) -> None:
        self.buffer = []
        self.runs = []
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None
