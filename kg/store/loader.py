"""Bulk-loading the embedded store on background threads while the build goes on.

Oxigraph's bulk loader releases the GIL, so the store is loaded beside the build's Python
(mapping, the dumps): the build hands it N-Quads lines as it makes them, a chunk at a time,
through a short queue that LOAD_THREADS threads take chunks from. Each chunk is one bulk
load on one core; several at once keep RocksDB's compaction and the loads overlapping (the
100,000-article store alone: 127 s and 182 s of CPU with one thread, 107 s and 160 s with
two; the build's mapping beside it 113 s with one, 89-92 s with two, 87 s with three)."""

from __future__ import annotations

import queue
import threading

from kg.store.oxigraph import OxigraphStore

#: Threads that bulk-load chunks at once.
LOAD_THREADS = 3


class StoreLoadError(Exception):
    """The background load failed; the message says why."""


class StoreLoader:
    """Loads N-Quads lines into a store opened for writing, chunk_lines lines a bulk load,
    on `threads` threads of its own; add_lines() blocks only while `depth` chunks a thread
    wait. compact_when_loaded() ends the lines and has the store compacted once they are
    loaded, in the background; finish() returns the loaded store (flushed; compacted when
    asked); abandon() stops and closes it. Oxigraph labels blank nodes afresh in each bulk
    load, so a blank node is one node only within a chunk; kg's builds have none (every
    resource gets an IRI)."""

    def __init__(
        self,
        store: OxigraphStore,
        *,
        chunk_lines: int = OxigraphStore.LOAD_CHUNK,
        depth: int = 4,
        threads: int = LOAD_THREADS,
    ) -> None:
        self.store = store
        self.chunk_lines = chunk_lines
        self.lines = 0  # lines handed over so far
        self._pending: list[bytes] = []
        self._pending_lines = 0
        self._queue: queue.Queue[bytes | None] = queue.Queue(depth * threads)
        self._error: BaseException | None = None
        self._compaction: threading.Thread | None = None
        self._threads = [
            threading.Thread(target=self._run, name=f"kg-store-load-{i}", daemon=True) for i in range(threads)
        ]
        for thread in self._threads:
            thread.start()

    def _run(self) -> None:
        while (chunk := self._queue.get()) is not None:
            if self._error is None:  # after an error the queue is still drained, so add_lines never blocks for good
                try:
                    self.store.load_nquads(chunk)
                except BaseException as exc:  # noqa: BLE001 (re-raised by the caller's thread)
                    self._error = exc

    def _raise_error(self) -> None:
        if self._error is not None:
            raise StoreLoadError(f"loading the store failed: {self._error}") from self._error

    def add_lines(self, lines: list[bytes]) -> None:
        """N-Quads (or N-Triples, for the default graph) lines, without their newlines."""
        self._raise_error()
        if self._compaction is not None:
            raise StoreLoadError("no more lines after compact_when_loaded()")
        if not lines:
            return
        self._pending.append(b"\n".join(lines) + b"\n")
        self._pending_lines += len(lines)
        self.lines += len(lines)
        if self._pending_lines >= self.chunk_lines:
            self._send()

    def _send(self) -> None:
        if self._pending:
            self._queue.put(b"".join(self._pending))
            self._pending, self._pending_lines = [], 0

    def _stop(self) -> None:
        for _ in self._threads:
            self._queue.put(None)  # one end mark for each thread
        for thread in self._threads:
            thread.join()

    def compact_when_loaded(self) -> None:
        """Take no more lines; once every line is loaded, compact the store (optimize), on a
        thread of its own beside whatever the caller does next. finish() waits for both."""
        self._send()
        for _ in self._threads:
            self._queue.put(None)  # one end mark for each thread
        self._compaction = threading.Thread(target=self._compact, name="kg-store-compact", daemon=True)
        self._compaction.start()

    def _compact(self) -> None:
        for thread in self._threads:
            thread.join()
        if self._error is None:
            try:
                self.store.flush()
                self.store.optimize()
            except BaseException as exc:  # noqa: BLE001 (re-raised by finish)
                self._error = exc

    def finish(self) -> OxigraphStore:
        """Wait for everything handed over to be loaded (and compacted, after
        compact_when_loaded); the store, flushed."""
        if self._compaction is not None:
            self._compaction.join()
        else:
            self._send()
            self._stop()
        self._raise_error()
        self.store.flush()
        return self.store

    def abandon(self) -> None:
        """Stop loading (what is queued is skipped) and close the store."""
        self._pending = []
        if self._error is None:
            self._error = StoreLoadError("abandoned")
        if self._compaction is not None:
            self._compaction.join()  # (a compaction begun runs to its end)
        elif any(thread.is_alive() for thread in self._threads):
            self._stop()
        self.store.close()
