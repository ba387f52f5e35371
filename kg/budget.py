"""Per-client SPARQL budgets, after the Wikidata Query Service: each client may run a few
queries at once and spend so many seconds of query time per minute; beyond that it is told
to come back later (HTTP 429 with Retry-After) instead of crowding out everyone else."""

from __future__ import annotations

import math
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable

WINDOW = 60.0  # seconds over which query time is counted


class OverBudget(Exception):
    """The client must wait retry_after seconds; message says why."""

    def __init__(self, retry_after: int, message: str) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.message = message


class ClientBudgets:
    """concurrent queries and seconds of query time per WINDOW, per client key."""

    def __init__(self, concurrent: int, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.concurrent = concurrent
        self.seconds = seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._running: dict[str, int] = defaultdict(int)
        self._spent: dict[str, deque[tuple[float, float]]] = defaultdict(deque)  # (ended at, seconds)
        # the sum of each client's _spent seconds, kept as queries end and leave the window:
        # a busy client has thousands of queries in a minute, too many to add up per query
        self._total: dict[str, float] = defaultdict(float)

    def _spent_now(self, client: str, now: float) -> float:
        spent = self._spent.get(client)
        while spent and spent[0][0] <= now - WINDOW:
            self._total[client] -= spent.popleft()[1]
        if not spent:
            self._spent.pop(client, None)
            self._total.pop(client, None)
            return 0.0
        return max(0.0, self._total[client])

    def admit(self, client: str) -> None:
        """Count a query as started, or raise OverBudget."""
        with self._lock:
            now = self._clock()
            if self._running[client] >= self.concurrent:
                raise OverBudget(1, f"too many queries at once from your client (the limit is {self.concurrent})")
            spent = self._spent_now(client, now)
            if spent >= self.seconds:
                oldest = self._spent[client][0][0]
                wait = max(1, math.ceil(oldest + WINDOW - now))
                raise OverBudget(
                    wait,
                    f"your client used {spent:.0f} s of query time in the last {WINDOW:.0f} s "
                    f"(the budget is {self.seconds:g} s); retry in {wait} s",
                )
            self._running[client] += 1

    def release(self, client: str, seconds: float) -> None:
        """Count a query as finished after seconds of work."""
        with self._lock:
            self._running[client] -= 1
            if self._running[client] <= 0:
                del self._running[client]
            now = self._clock()
            self._spent[client].append((now, seconds))
            self._total[client] += seconds
            if len(self._spent) > 10_000:  # forget clients with nothing left in the window
                for key in [k for k, v in self._spent.items() if v[-1][0] <= now - WINDOW]:
                    del self._spent[key]
                    self._total.pop(key, None)
