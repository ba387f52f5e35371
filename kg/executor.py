"""Where parallel work runs. An Executor maps a top-level function over items on worker
processes and yields the results in item order: LocalExecutor, the default, is a process
pool on this machine; DaskExecutor sends the tasks to a Dask distributed cluster."""

from __future__ import annotations

import itertools
import multiprocessing
import os
import threading
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable, Hashable, Iterable, Iterator
from typing import Any, TypeVar

from kg.settings import Settings

C = TypeVar("C")
T = TypeVar("T")
R = TypeVar("R")

#: Seconds to reach a Dask scheduler, then to wait for its first worker.
CONNECT_TIMEOUT = 10.0
WORKER_TIMEOUT = 60.0
#: Tasks in flight per worker: enough to keep each busy, few enough to bound memory.
IN_FLIGHT_PER_WORKER = 4


class ExecutorError(RuntimeError):
    """The work could not be run: no scheduler at the address, a worker died, dask missing."""


class Executor(ABC):
    """Runs fn(context, item) for each item and yields the results in item order, as they
    come; a few tasks per worker are in flight at a time, so items may be a long generator.
    fn must be a top-level function; context and items must pickle. context goes to each
    worker once, not with every task; state built from it (a loaded model) belongs in
    per_process, so that a worker builds it once."""

    #: Processes that run tasks at once.
    workers: int = 1
    #: Whether tasks always leave this process (small jobs are still worth sending).
    remote: bool = False

    @abstractmethod
    def map(self, fn: Callable[[C, T], R], items: Iterable[T], context: C) -> Iterator[R]: ...

    @abstractmethod
    def close(self) -> None:
        """Release the workers or the connection."""

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _ordered(
    submit: Callable[[T], Any],
    result: Callable[[Any], R],
    cancel: Callable[[Any], object],
    items: Iterable[T],
    window: int,
) -> Iterator[R]:
    """Submit items with at most window in flight; yield results in order; cancel the rest
    when the consumer stops early or a task fails."""
    pending: deque[Any] = deque()
    try:
        for item in items:
            pending.append(submit(item))
            if len(pending) >= window:
                yield result(pending.popleft())
        while pending:
            yield result(pending.popleft())
    finally:
        for future in pending:
            cancel(future)


def _terminate_workers(pool: Any) -> None:
    """Kill a process pool's workers: a task in a worker runs to its end otherwise (on a
    killed build, one validation task of a big corpus kept a core busy for half an hour).
    ProcessPoolExecutor has no public way to do this before Python 3.14."""
    processes = getattr(pool, "_processes", None) or {}
    for process in list(processes.values()):
        if process.is_alive():
            process.terminate()


_STATE: dict[Hashable, Any] = {}
_STATE_LOCK = threading.Lock()
_STATE_KEPT = 8


def per_process(key: Hashable, factory: Callable[[], T]) -> T:
    """factory(), made once per process for each key (a worker's spaCy model, its compiled
    shapes); the few most recent keys are kept."""
    with _STATE_LOCK:
        if key not in _STATE:
            value = factory()
            while len(_STATE) >= _STATE_KEPT:
                del _STATE[next(iter(_STATE))]
            _STATE[key] = value
        return _STATE[key]


# --- this machine ----------------------------------------------------------------------------

_CONTEXT: list[Any] = []


def _set_context(context: object) -> None:
    _CONTEXT[:] = [context]


def _call_with_context(fn: Callable[[Any, T], R], item: T) -> R:
    return fn(_CONTEXT[0], item)


class LocalExecutor(Executor):
    """A pool of jobs processes on this machine (0: one per core), started with spawn when
    a map has two tasks or more; with jobs 1, or a single task, the work runs here."""

    def __init__(self, jobs: int = 0) -> None:
        self.workers = jobs or os.cpu_count() or 1

    def map(self, fn: Callable[[C, T], R], items: Iterable[T], context: C) -> Iterator[R]:
        from concurrent.futures import Future, ProcessPoolExecutor
        from concurrent.futures.process import BrokenProcessPool

        iterator = iter(items)
        first = list(itertools.islice(iterator, 2))
        if self.workers == 1 or len(first) < 2:
            for item in itertools.chain(first, iterator):
                yield fn(context, item)
            return
        spawn = multiprocessing.get_context("spawn")
        pool = ProcessPoolExecutor(self.workers, mp_context=spawn, initializer=_set_context, initargs=(context,))

        def submit(item: T) -> Future[R]:
            return pool.submit(_call_with_context, fn, item)

        window = IN_FLIGHT_PER_WORKER * self.workers
        finished = False
        try:
            yield from _ordered(submit, Future.result, Future.cancel, itertools.chain(first, iterator), window)
            finished = True
        except BrokenProcessPool as exc:
            raise ExecutorError(f"a worker process died: {exc}") from exc
        finally:
            if not finished:  # interrupted (Ctrl-C, SIGTERM, a failed task): stop the work now
                _terminate_workers(pool)
            pool.shutdown(wait=finished, cancel_futures=True)

    def close(self) -> None:
        """Nothing to release: each map has its own pool."""


# --- a Dask cluster --------------------------------------------------------------------------

_TASK_LOCK = threading.Lock()


def _call_exclusive(fn: Callable[[C, T], R], context: C, item: T) -> R:
    """One task at a time per worker process, whatever its threads: the work holds the GIL
    anyway, and a spaCy pipeline is not made to be shared by threads."""
    with _TASK_LOCK:
        return fn(context, item)


class DaskExecutor(Executor):
    """Tasks on the workers of a Dask distributed scheduler (tcp://HOST:PORT). Workers need
    the same kg, spaCy model and package versions as this process."""

    remote = True

    def __init__(self, address: str, *, timeout: float | None = None) -> None:
        if not address:
            raise ExecutorError("the dask executor needs a scheduler address (setting scheduler, flag --scheduler)")
        try:
            from distributed import Client
        except ImportError as exc:
            raise ExecutorError("the dask executor needs Dask distributed: pip install 'newskg[dask]'") from exc
        self.address = address
        timeout = CONNECT_TIMEOUT if timeout is None else timeout
        try:
            self.client = Client(address, timeout=timeout, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as exc:
            raise ExecutorError(f"cannot reach the Dask scheduler at {address}: {exc}") from exc
        try:
            self.client.wait_for_workers(1, timeout=WORKER_TIMEOUT)
        except (OSError, TimeoutError) as exc:
            self.client.close()
            raise ExecutorError(f"the Dask scheduler at {address} has no workers ({exc})") from exc
        self.workers = max(1, len(self.client.nthreads()))

    def map(self, fn: Callable[[C, T], R], items: Iterable[T], context: C) -> Iterator[R]:
        from concurrent.futures import CancelledError

        from distributed import Future, KilledWorker
        from distributed.comm.core import CommClosedError

        client = self.client
        shared = client.scatter(context, broadcast=True, hash=False)

        def submit(item: T) -> Future:
            return client.submit(_call_exclusive, fn, shared, item, pure=False)

        def result(future: Future) -> R:
            try:
                return future.result()
            except (KilledWorker, CommClosedError, CancelledError) as exc:
                raise ExecutorError(f"Dask scheduler at {self.address}: the task was lost ({exc!r})") from exc
            except ImportError as exc:
                raise ExecutorError(f"a worker of {self.address} cannot import {exc.name} (install newskg)") from exc

        try:
            yield from _ordered(submit, result, Future.cancel, items, IN_FLIGHT_PER_WORKER * self.workers)
        finally:
            shared.release()

    def close(self) -> None:
        self.client.close()


def executor_for(settings: Settings, jobs: int = 0) -> Executor:
    """The executor the settings ask for: local (jobs processes, 0: all cores) or dask."""
    if settings.executor == "dask":
        return DaskExecutor(settings.scheduler)
    return LocalExecutor(jobs)
