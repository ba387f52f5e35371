"""Per-client SPARQL budgets: a few queries at once and so many seconds per minute, then
429 with Retry-After (the Wikidata Query Service model)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from kg.budget import WINDOW, ClientBudgets, OverBudget
from kg.settings import Settings
from kg.web.app import create_app
from tests.conftest import Clock


def test_concurrent_queries_per_client() -> None:
    budgets = ClientBudgets(concurrent=2, seconds=60, clock=Clock())
    budgets.admit("a")
    budgets.admit("a")
    with pytest.raises(OverBudget) as exc:
        budgets.admit("a")
    assert exc.value.retry_after == 1 and "the limit is 2" in exc.value.message
    budgets.admit("b")  # another client is not affected
    budgets.release("a", 0.1)
    budgets.admit("a")


def test_query_time_per_minute_refills() -> None:
    clock = Clock()
    budgets = ClientBudgets(concurrent=5, seconds=10, clock=clock)
    budgets.admit("a")
    budgets.release("a", 6.0)
    clock.now += 5
    budgets.admit("a")
    budgets.release("a", 5.0)  # 11 s in the window
    clock.now += 1
    with pytest.raises(OverBudget) as exc:
        budgets.admit("a")
    assert exc.value.retry_after == int(WINDOW) - 6  # until the first 6 s leave the window
    assert "used 11 s of query time" in exc.value.message
    clock.now += exc.value.retry_after
    budgets.admit("a")


def test_a_busy_client_is_counted_by_a_running_total() -> None:
    """A client with 20,000 queries in the window (a crawler behind one address) is admitted
    from a running total (adding them up for every query cost more than the query), and the
    total follows the window exactly."""
    clock = Clock()
    budgets = ClientBudgets(concurrent=5, seconds=1000, clock=clock)
    for _ in range(20_000):
        budgets.admit("busy")
        budgets.release("busy", 0.001)
        clock.now += 0.0025  # 50 s of queries, all still in the window
    assert budgets._spent_now("busy", clock.now) == pytest.approx(20.0)
    assert budgets._total["busy"] == pytest.approx(sum(seconds for _, seconds in budgets._spent["busy"]))
    clock.now += 30  # the first 20 s of queries leave the window
    assert budgets._spent_now("busy", clock.now) == pytest.approx(20.0 - 8.0, abs=0.002)
    clock.now += WINDOW
    assert budgets._spent_now("busy", clock.now) == 0.0
    assert "busy" not in budgets._spent and "busy" not in budgets._total


def test_over_budget_is_429_with_retry_after(settings: Settings) -> None:
    client: Any = create_app(settings.replace(client_query_seconds=0.001)).test_client()
    ask = {"query": "ASK { ?s ?p ?o }"}
    assert client.get("/sparql", query_string=ask).status_code == 200
    refused = client.get("/sparql", query_string={"query": "ASK { ?s ?p ?p }"})  # the same ASK would be kept
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1
    assert "of query time in the last 60 s" in refused.get_data(as_text=True)
    assert client.get("/dataset", headers={"Accept": "application/ld+json"}).status_code == 200  # pages are free
    assert json.loads(client.get("/health").get_data())["status"] == "ok"
