"""bench.floor: the engines' own costs on a real build (no timings asserted, only that each
engine really did its part and the table adds them up)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bench.floor import engine_costs, floor_table
from tests.conftest import ROOT


@pytest.fixture()
def in_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # the shapes and ontology folders, as bench.run finds them


@pytest.mark.usefixtures("in_root")
def test_engine_costs_time_every_engine_on_the_build(built: Path) -> None:
    costs = dict(engine_costs(built))
    assert list(costs) == [
        "Oxigraph bulk load of the quads",
        "pyoxigraph writes kg.nt",
        "pyoxigraph writes kg.ttl",
        "pyoxigraph writes kg.jsonld",
        "pyoxigraph writes kg.trig",
        "pyshacl-turbo, kg's validation tasks (1)",
    ]
    assert all(seconds > 0 for seconds in costs.values())


@pytest.mark.usefixtures("in_root")
def test_floor_table_puts_the_ner_and_the_build_beside_the_engines(built: Path) -> None:
    table = floor_table(built, 2, ner_seconds=10.0, build_seconds=30.0)
    rows = {line.split("|")[1].strip(): line.split("|")[2:5] for line in table.splitlines() if line.startswith("| ")}
    assert float(rows["spaCy NER alone (baseline; wall)"][2]) == 1.0
    assert float(rows["kg build end to end (the build table's)"][2]) == 3.0
    floor = float(rows[f"all of them on {os.cpu_count() or 1} cores, at best"][0])
    assert float(rows["whole build at best: NER + all of them"][0]) == pytest.approx(10.0 + floor, abs=0.002)
    assert "min for 100,000 articles" in table


def test_framework_floor_serves_a_constant_over_real_http() -> None:
    """bench.framework_floor: granian serving a bare Flask app on 127.0.0.1 answers any path
    with its constant (what the throughput stage measures beside kg and Oxigraph)."""
    import urllib.request

    from bench.framework_floor import BODY, serve_floor
    from bench.soak import _running

    with _running(*serve_floor(workers=1, threads=2)) as (_, url):
        request = urllib.request.Request(url + "/person/someone", headers={"Accept": "text/turtle"})
        with urllib.request.urlopen(request, timeout=10) as response:
            assert (response.status, response.headers.get_content_type(), response.read()) == (200, "text/plain", BODY)
