"""External sort of byte lines: lines are gathered a run at a time, each run is sorted and
written to a file, and the runs are merged lazily. Memory holds one run, whatever the total."""

from __future__ import annotations

import bisect
import heapq
import itertools
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

#: Lines sorted in memory at a time (one run file each); about 60 MB of dense N-Quads lines.
RUN_LINES = 200_000
#: Run files merged at once; more runs are first merged into bigger ones, this many at a time.
FAN_IN = 128
#: Bytes of a run file read (and split into lines) at a time when runs are merged.
BLOCK_BYTES = 1 << 20


def _unique(lines: Iterable[bytes]) -> Iterator[bytes]:
    """Sorted lines without repeats (equal lines are adjacent)."""
    previous = None
    for line in lines:
        if line != previous:
            yield line
            previous = line


def read_lines(path: Path) -> Iterator[bytes]:
    """The lines of a file of newline-ended lines, without their newlines, streamed."""
    for block in read_blocks(path):
        yield from block


def read_blocks(path: Path, size: int = BLOCK_BYTES) -> Iterator[list[bytes]]:
    """The lines of a file of newline-ended lines, without their newlines, in lists of
    about size bytes of lines (split in C, not read one by one)."""
    with path.open("rb") as handle:
        pending: list[bytes] = []  # the start of a line not yet ended (several reads of a long one)
        while data := handle.read(size):
            cut = data.rfind(b"\n")
            if cut < 0:
                pending.append(data)
                continue
            text = b"".join([*pending, data[:cut]]) if pending else data[:cut]
            pending = [data[cut + 1 :]]
            yield text.split(b"\n")
        if last := b"".join(pending):  # a last line without its newline
            yield [last]


def merge_blocks(runs: Sequence[Iterable[list[bytes]]], unique: bool = False) -> Iterator[list[bytes]]:
    """Sorted runs, each given as lists of lines in order, merged into lists of lines in
    order. Each step takes from the run whose next line is least every line before the
    next line of any other run, found by bisection: runs that cover different ranges of
    lines (a build's cover different articles) merge a slice at a time, not a line at a
    time. unique: no run repeats a line, and a line in several runs comes out once."""
    sources = [iter(run) for run in runs]
    blocks: list[list[bytes]] = [[] for _ in sources]
    at = [0] * len(sources)
    heap: list[tuple[bytes, int]] = []

    def refill(k: int) -> None:
        for block in sources[k]:
            if block:
                blocks[k], at[k] = block, 0
                heapq.heappush(heap, (block[0], k))
                return
        blocks[k] = []

    for k in range(len(sources)):
        refill(k)
    last: bytes | None = None
    while heap:
        _head, k = heapq.heappop(heap)
        block, start = blocks[k], at[k]
        end = len(block)
        if heap:
            end = max(bisect.bisect_left(block, heap[0][0], start), start + 1)
        out = block[start:end] if start or end < len(block) else block
        if unique and out[0] == last:
            out = out[1:]
        if out:
            last = out[-1]
            yield out
        if end < len(block):
            at[k] = end
            heapq.heappush(heap, (block[end], k))
        else:
            refill(k)


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

    def _merge(self, runs: list[Path]) -> Iterator[list[bytes]]:
        return merge_blocks([read_blocks(path) for path in runs], self.unique)

    def sorted(self) -> Iterator[bytes]:
        """Every line added, in byte order (each once if unique)."""
        for block in self.sorted_blocks():
            yield from block

    def sorted_blocks(self) -> Iterator[list[bytes]]:
        """sorted()'s lines, in lists of lines (of any length, none empty)."""
        try:
            if not self.runs:
                self.buffer.sort()
                lines, self.buffer = self.buffer, []
                if lines:
                    yield list(_unique(lines)) if self.unique else lines
                return
            if self.buffer:
                self._spill()
            while len(self.runs) > self.fan_in:  # bound the open files: merge into bigger runs
                group, rest = self.runs[: self.fan_in], self.runs[self.fan_in :]
                merged = self._write_run(itertools.chain.from_iterable(self._merge(group)))
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
