"""The W3C SPARQL 1.1 Protocol test cases, run from their manifest against a live `kg serve`
over a store loaded with their data. kg's endpoint is read-only: every update case must be
refused with a 4xx, and is counted as passing when it is."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pyoxigraph as ox
import pytest

from tests.conformance_runner import Case, check, load_manifest, run_step
from tests.conftest import SHARED, kg_serve, require_shared

FOLDER = SHARED / "conformance" / "sparql11-protocol"
CASES = load_manifest(FOLDER) if (FOLDER / "manifest.ttl").is_file() else []
GRAPH = "http://kasei.us/2009/09/sparql/data/data{}.rdf"

#: Cases kg does not pass yet, with the reason (strict: they fail the run once fixed).
KNOWN_FAILURES: dict[str, str] = {}


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    require_shared("conformance/sparql11-protocol")
    out = tmp_path_factory.mktemp("conformance") / "out"
    out.mkdir()
    store = ox.Store(str(out / "store"))
    for n in (1, 2, 3):
        for triple in ox.parse(path=str(FOLDER / f"data{n}.nt"), format=ox.RdfFormat.N_TRIPLES):
            store.add(ox.Quad(triple.subject, triple.predicate, triple.object, ox.NamedNode(GRAPH.format(n))))
    store.flush()
    del store
    (out / "build.json").write_text(json.dumps({"base_iri": "http://127.0.0.1:8000/"}), encoding="utf-8")
    with kg_serve(out) as url:
        host, port = url.removeprefix("http://").split(":")
        yield host, int(port)


def _param(case: Case) -> object:
    marks = [pytest.mark.xfail(reason=KNOWN_FAILURES[case.name], strict=True)] if case.name in KNOWN_FAILURES else []
    return pytest.param(case, id=f"{case.category}:{case.name}", marks=marks)


@pytest.mark.server
@pytest.mark.parametrize("case", [_param(c) for c in CASES] or [pytest.param(None, id="no-manifest")])
def test_protocol_case(endpoint: tuple[str, int], case: Case | None) -> None:
    assert case is not None
    if case.category == "update":
        assert any(step.is_update for step in case.steps), "an update case must send an update"
    for step in case.steps:
        if case.category == "update":
            if not step.is_update:
                continue  # a query checking what a refused update would have changed
            step.statuses = {4}  # read-only endpoint: every update must be refused
        status, content_type, body = run_step(*endpoint, step)
        problem = check(step, status, content_type, body)
        assert problem is None, f"{case.label}: {problem}"
