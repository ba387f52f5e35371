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
