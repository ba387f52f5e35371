"""bench.run's table of the /sparql form's example queries: every example answers through a
real kg serve and in process (no timings asserted)."""

from __future__ import annotations

from pathlib import Path

import pytest

import bench.run
from kg.web.sparql import examples


def test_every_form_example_is_timed_both_ways(built: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bench.run, "EXAMPLE_SECONDS", 0.0)
    monkeypatch.setattr(bench.run, "EXAMPLE_RUNS", 1)
    table = bench.run.bench_examples(built).splitlines()
    rows = [line for line in table if line.startswith("| ") and not line.startswith("| example")]
    titles = [title for title, _ in examples("urn:x:entities")]
    assert [row.split(" | ")[0].removeprefix("| ").strip() for row in rows] == titles
    for row in rows:
        _, mine, ours, ratio, _ = (cell.strip() for cell in row.split("|")[1:])
        assert float(mine) >= 0 and float(ours) > 0 and float(ratio) > 0, row
