"""Progress of long work: a bar with rate and ETA on a terminal, a plain line every few
seconds otherwise (CI logs), nothing when nobody asked."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO

#: done, total -> None; the core calls it, the CLI decides how to show it.
ProgressCallback = Callable[[int, int], None]


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    if seconds >= 60:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds}s"


class Progress:
    """Report `done of total items` of one stage on stream."""

    def __init__(
        self,
        label: str,
        unit: str = "articles",
        stream: TextIO | None = None,
        interval: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.label = label
        self.unit = unit
        self.stream = stream or sys.stderr
        self.interval = interval
        self.clock = clock
        self.started = clock()
        self.last = -float("inf")
        self.terminal = bool(getattr(self.stream, "isatty", lambda: False)())

    def line(self, done: int, total: int) -> str:
        elapsed = max(self.clock() - self.started, 1e-9)
        rate = done / elapsed
        eta = f", ETA {_duration((total - done) / rate)}" if 0 < done < total and rate > 0 else ""
        return f"{self.label}: {done}/{total} {self.unit} ({rate:.1f}/s{eta})"

    def __call__(self, done: int, total: int) -> None:
        now = self.clock()
        finished = done >= total
        if self.terminal:
            width = 24
            filled = int(width * done / total) if total else width
            bar = "#" * filled + "." * (width - filled)
            self.stream.write(f"\r[{bar}] {self.line(done, total)}" + ("\n" if finished else ""))
            self.stream.flush()
        elif finished or now - self.last >= self.interval:
            self.stream.write(self.line(done, total) + "\n")
            self.stream.flush()
            self.last = now


#: A stage of long work begins: the core calls it with what it now does.
StageCallback = Callable[[str], None]


class Stages:
    """Report each stage of long work as a plain line with the time since the start, so a
    long build after its extraction bar does not look stuck."""

    def __init__(self, label: str, stream: TextIO | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.label = label
        self.stream = stream or sys.stderr
        self.clock = clock
        self.started = clock()

    def __call__(self, stage: str) -> None:
        # on a terminal, over a progress bar still drawn on the line (the validation's runs
        # on beside the later stages): the bar is drawn again below at its next step
        clear = "\r\x1b[K" if getattr(self.stream, "isatty", lambda: False)() else ""
        self.stream.write(f"{clear}{self.label}: [{_duration(self.clock() - self.started)}] {stage}\n")
        self.stream.flush()
