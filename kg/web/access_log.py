"""The access log: a line per request (method, path and query, status, and how long it took
or `kept` for an answer from memory), through `logging` (logger `kg.web`) or, in `kg serve`,
written to standard error in batches by a thread, since a line through `logging` costs more
than an answer from memory."""

from __future__ import annotations

import atexit
import logging
import multiprocessing.util
import threading
import time
from collections import deque
from typing import TextIO

#: How often kg serve writes the lines of the requests answered since the last time.
FLUSH_SECONDS = 0.2
#: The most bytes one write carries: POSIX writes this size to a pipe whole (PIPE_BUF).
ATOMIC_BYTES = 4096


class AccessLog:
    """Request lines for logger: each through logger.info until write_to(stream), then kept
    in a queue (one append per request) and written to stream in batches, formatted as kg
    serve's log format (`time name message`), each with the time of its request."""

    def __init__(self, logger: logging.Logger) -> None:
        self.logger = logger
        self._stream: TextIO | None = None
        self._pending: deque[tuple[float, str]] = deque()
        self._write_lock = threading.Lock()
        self._second: tuple[int, str] = (-1, "")

    def __call__(self, message: str) -> None:
        if not self.logger.isEnabledFor(logging.INFO):
            return
        if not message.isprintable():  # a path may hold a decoded newline: one request, one line
            message = message.encode("unicode_escape").decode("ascii")
        if self._stream is None:
            self.logger.info("%s", message)
        else:
            self._pending.append((time.time(), message))

    def write_to(self, stream: TextIO, every: float = FLUSH_SECONDS) -> None:
        """From now on, write the lines to stream in batches every `every` seconds (and what
        is left when the process exits)."""
        self._stream = stream
        threading.Thread(target=self._keep_writing, args=(every,), daemon=True, name="kg-access-log").start()
        atexit.register(self.flush)
        # a worker process of granian ends through multiprocessing, which skips atexit and
        # runs its own finalizers instead
        multiprocessing.util.Finalize(None, self.flush, exitpriority=100)

    def _keep_writing(self, every: float) -> None:
        while True:
            time.sleep(every)
            try:
                self.flush()
            except (OSError, ValueError) as exc:  # stderr closed or full: back to logging's way
                self._stream = None
                self._pending.clear()
                self.logger.warning("the access log could not be written (%s); logging each line instead", exc)
                return

    def flush(self) -> None:
        """Write the lines waiting, oldest first, in writes of whole lines of at most
        ATOMIC_BYTES each (so that the lines of two worker processes writing to one pipe
        never mix within a line)."""
        if self._stream is None:
            return
        with self._write_lock:
            chunk: list[str] = []
            size = 0
            while self._pending:
                when, message = self._pending.popleft()
                line = f"{self._timestamp(when)} {self.logger.name} {message}\n"
                if chunk and size + len(line.encode()) > ATOMIC_BYTES:
                    self._write("".join(chunk))
                    chunk, size = [], 0
                chunk.append(line)
                size += len(line.encode())
            if chunk:
                self._write("".join(chunk))

    def _write(self, text: str) -> None:
        assert self._stream is not None
        self._stream.write(text)
        self._stream.flush()

    def _timestamp(self, when: float) -> str:
        """`logging`'s default asctime (local time, milliseconds), the date part made once a second."""
        second = int(when)
        if self._second[0] != second:
            self._second = (second, time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(second)))
        return f"{self._second[1]},{int((when - second) * 1000):03d}"
