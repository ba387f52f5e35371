"""SPARQL in worker processes with a deadline that really stops the work.

Neither pyoxigraph nor rdflib can interrupt a running query, so a public endpoint cannot
bound a query from the thread that runs it. Each worker here is a process with the store
open read-only; the web thread sends it a query and waits at most the time budget. A worker
that overruns is killed (freeing its CPU and memory at once) and replaced, and the client
gets 503. Only a few queries run or wait at a time, so slow queries cannot occupy every
server thread and starve the pages, which read the store directly.
"""

from __future__ import annotations

import logging
import multiprocessing
import queue
import signal
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from kg.query import QueryError, QueryOutcome, check_policy, run_query
from kg.settings import Settings

log = logging.getLogger("kg.querypool")
_CONTEXT = multiprocessing.get_context("spawn")  # safe beside server threads, unlike fork


def _work(conn: Connection, store_path: str, settings: Settings) -> None:
    """A worker: open the store read-only, then answer (sparql, defaults, named, results
    format, RDF format) requests; a SELECT or ASK answer goes back written in the results
    format, a CONSTRUCT or DESCRIBE answer in the RDF format, when one is given. Ctrl-C is
    for the server (it stops its workers), not for each worker to print a traceback."""
    from kg.store.oxigraph import OxigraphStore

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    limit_memory(settings.query_memory_mb)
    store = OxigraphStore(Path(store_path), read_only=True)
    conn.send(("ready",))
    unlimited = settings.replace(query_timeout=float("inf"))  # the pool enforces the deadline
    while True:
        try:
            sparql, defaults, named, results_format, graph_format = conn.recv()
        except (EOFError, OSError):
            return
        try:
            outcome = run_query(store, sparql, unlimited, default_graphs=defaults, named_graphs=named)
            outcome.serialize_here(results_format, graph_format)
            conn.send(("ok", outcome))
        except QueryError as exc:
            conn.send(("error", exc.status, exc.message))
        except MemoryError:
            conn.send(("error", 503, out_of_memory(settings)))
        except Exception as exc:  # an engine failure must reach the client as an error, not kill the worker
            conn.send(("error", 500, f"query failed in the engine: {type(exc).__name__}"))


def limit_memory(megabytes: int) -> None:
    """Cap what this process may allocate at megabytes (RLIMIT_DATA: its heap and private
    mappings; the store's memory-mapped files do not count); 0 leaves it unlimited. The
    engine (Rust) aborts the process when an allocation fails, which the pool reports."""
    if megabytes <= 0:
        return
    try:
        import resource
    except ImportError:  # not a POSIX system: no cap
        return
    cap = megabytes * 2**20
    try:
        resource.setrlimit(resource.RLIMIT_DATA, (cap, cap))
    except (ValueError, OSError) as exc:  # e.g. a lower hard limit already: that one holds
        log.warning("could not limit a query worker's memory to %d MB: %s", megabytes, exc)


def out_of_memory(settings: Settings) -> str:
    return f"the query needed more than the {settings.query_memory_mb} MB of memory a query may use, and was stopped"


@dataclass
class _Worker:
    process: Any
    conn: Connection

    def stop(self) -> None:
        self.process.kill()
        self.process.join(5)
        self.conn.close()


class QueryPool:
    """workers query processes over the store at store_path; at most workers + waiting
    queries are admitted at once, the rest get 503 at once."""

    def __init__(self, store_path: Path, settings: Settings, workers: int, waiting: int) -> None:
        self.store_path = store_path
        self.settings = settings
        self.size = max(1, workers)
        self._admitted = threading.BoundedSemaphore(self.size + max(0, waiting))
        self._idle: queue.Queue[_Worker] = queue.LifoQueue()
        self._started = False
        self._closed = False
        self._lock = threading.Lock()
        self.killed = 0  # workers stopped for overrunning the deadline

    def _spawn(self) -> _Worker:
        """A started worker that has opened the store (it says "ready")."""
        parent, child = _CONTEXT.Pipe()
        process = _CONTEXT.Process(
            target=_work, args=(child, str(self.store_path), self.settings), daemon=True, name="kg-query"
        )
        process.start()
        child.close()
        if not parent.poll(60) or parent.recv() != ("ready",):
            process.kill()
            raise QueryError(503, "a query worker could not open the store")
        return _Worker(process, parent)

    def start(self) -> None:
        """Start the workers now (kg serve does; otherwise the first query does)."""
        with self._lock:
            if not self._started:
                for _ in range(self.size):
                    self._idle.put(self._spawn())
                self._started = True

    def run(
        self,
        sparql: str,
        *,
        default_graphs: Sequence[str] = (),
        named_graphs: Sequence[str] = (),
        results_format: str | None = None,
        graph_format: str | None = None,
    ) -> QueryOutcome:
        """Answer a query within settings.query_timeout seconds, or raise QueryError. With
        results_format, a SELECT or ASK answer comes back written in it (QueryOutcome.results),
        with graph_format (an RDF format's name) a CONSTRUCT or DESCRIBE answer
        (QueryOutcome.graph): the worker writes it, and bytes cross between the processes
        instead of every term (pickling and unpickling 100 rows of terms took 0.2 ms)."""
        check_policy(sparql, self.settings)  # cheap refusals never reach a worker
        if self._closed:
            raise QueryError(503, "the SPARQL endpoint is shutting down")
        timeout = self.settings.query_timeout
        if not self._admitted.acquire(blocking=False):
            raise QueryError(503, "the SPARQL endpoint is busy with other queries; try again in a few seconds")
        try:
            self.start()
            started = time.monotonic()
            try:
                worker = self._idle.get(timeout=timeout)
            except queue.Empty:
                raise QueryError(503, f"no query worker became free within {timeout:g} s; try again later") from None
            remaining = timeout - (time.monotonic() - started)
            try:
                worker.conn.send((sparql, list(default_graphs), list(named_graphs), results_format, graph_format))
                reply = worker.conn.recv() if worker.conn.poll(max(0.0, remaining)) else None
            except (EOFError, OSError):
                worker.process.join(2)
                ran_out = self.settings.query_memory_mb > 0 and worker.process.exitcode == -signal.SIGABRT
                self._replace(worker, reason="ran out of memory" if ran_out else "died")
                message = (
                    out_of_memory(self.settings) if ran_out else "the query worker stopped unexpectedly; try again"
                )
                raise QueryError(503, message) from None
            if reply is None:
                self._replace(worker, reason=f"overran {timeout:g} s")
                raise QueryError(503, f"query exceeded the {timeout:g} s time limit and was stopped")
            if self._closed:  # the pool was closed (a new build is served) while this query ran
                worker.stop()
            else:
                self._idle.put(worker)
        finally:
            self._admitted.release()
        if reply[0] == "ok":
            outcome: QueryOutcome = reply[1]
            outcome.elapsed = time.monotonic() - started
            return outcome
        raise QueryError(reply[1], reply[2])

    def _replace(self, worker: _Worker, reason: str) -> None:
        log.warning("query worker %s %s; replacing it", worker.process.pid, reason)
        worker.stop()
        self.killed += 1
        if not self._closed:  # the replacement starts in the background; this request is answered now
            threading.Thread(target=self._respawn, daemon=True).start()

    def _respawn(self) -> None:
        try:
            self._idle.put(self._spawn())
        except QueryError as exc:
            log.error("could not replace a query worker: %s", exc.message)

    def close(self) -> None:
        """Stop every worker (idle ones; busy ones are killed when their request ends)."""
        self._closed = True
        while True:
            try:
                self._idle.get_nowait().stop()
            except queue.Empty:
                return


class RemoteQueries:
    """/sparql over a remote SPARQL store: each query is one HTTP request from the server
    thread, which waits without holding the interpreter and gives up after query_timeout
    (the remote endpoint should enforce its own limit too, e.g. Oxigraph `--timeout-s`).
    The same admission bound as QueryPool applies."""

    def __init__(self, store: Any, settings: Settings, workers: int, waiting: int) -> None:
        self.store = store
        self.settings = settings
        self._admitted = threading.BoundedSemaphore(max(1, workers) + max(0, waiting))
        self.killed = 0

    def start(self) -> None:
        """Nothing to start: the remote store is already running."""

    def run(
        self,
        sparql: str,
        *,
        default_graphs: Sequence[str] = (),
        named_graphs: Sequence[str] = (),
        results_format: str | None = None,
        graph_format: str | None = None,
    ) -> QueryOutcome:
        """As QueryPool.run (the formats are only hints: the answer is in this process)."""
        if not self._admitted.acquire(blocking=False):
            raise QueryError(503, "the SPARQL endpoint is busy with other queries; try again in a few seconds")
        try:  # run_query checks the policy (read-only, SERVICE, length) before sending anything
            graphs = {"default_graphs": default_graphs, "named_graphs": named_graphs}
            return run_query(self.store, sparql, self.settings, **graphs)
        finally:
            self._admitted.release()

    def close(self) -> None:
        """Nothing held but idle HTTP connections."""
