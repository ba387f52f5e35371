"""The remote SPARQL store (`--store sparql`) against a real Oxigraph server (`oxigraph
serve` from the PyPI package `oxigraph`, a dev extra) on 127.0.0.1: the build loads each
named graph with the Graph Store Protocol, rebuilds replace graphs and drop those of deleted
raw files, and `kg serve` answers pages and /sparql from it exactly as from the embedded
store."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import Graph
from rdflib.compare import isomorphic
from SPARQLWrapper import JSON, SPARQLWrapper

from kg.build import BuildError, build
from kg.extract.entities import SpacyExtractor
from kg.settings import Settings
from kg.store import SparqlStore
from tests.conftest import RAW, ROOT, SEED_EPOCH, kg_serve

pytestmark = pytest.mark.server
BASE = Settings().base_iri


def _oxigraph() -> str:
    found = shutil.which("oxigraph", path=str(Path(sys.executable).parent)) or shutil.which("oxigraph")
    if found is None:
        pytest.skip("needs the `oxigraph` server (pip install oxigraph; a dev extra, so make test has it)")
    return found


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture()
def oxigraph_server(tmp_path: Path) -> Iterator[str]:
    """A fresh `oxigraph serve --union-default-graph` on a free port; yields its base URL."""
    port = _free_port()
    log = (tmp_path / "oxigraph.log").open("wb")
    proc = subprocess.Popen(
        [_oxigraph(), "serve", "--location", str(tmp_path / "oxdata"), "--bind", f"127.0.0.1:{port}"]
        + ["--union-default-graph"],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(url + "/query?query=ASK%7B%7D", timeout=1):
                break
        except (urllib.error.URLError, ConnectionError):
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                pytest.fail(f"oxigraph serve did not start: {(tmp_path / 'oxigraph.log').read_text()}")
            time.sleep(0.1)
    try:
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


def _remote(url: str, **changes: object) -> Settings:
    values = {"store": "sparql", "sparql_endpoint": url + "/query", "sparql_gsp": url + "/store"}
    return Settings(**{**values, **changes})  # type: ignore[arg-type]


def _build(settings: Settings, extractor: SpacyExtractor, **options: bool) -> object:
    os.environ["SOURCE_DATE_EPOCH"] = SEED_EPOCH
    try:
        return build(settings, extractor=extractor, **options)
    finally:
        os.environ.pop("SOURCE_DATE_EPOCH", None)


def _stored(url: str) -> set[ox.Quad]:
    return set(SparqlStore(url + "/query").match())


def _dumped(out: Path) -> set[ox.Quad]:
    quads = set(ox.parse(path=str(out / "kg.trig"), format=ox.RdfFormat.TRIG))
    void = ox.NamedNode(BASE + "graph/void")
    return quads | {
        ox.Quad(t.subject, t.predicate, t.object, void)
        for t in ox.parse(path=str(out / "void.ttl"), format=ox.RdfFormat.TURTLE)
    }


def test_build_loads_exactly_the_dumped_quads(oxigraph_server: str, tmp_path: Path, extractor: SpacyExtractor) -> None:
    out = tmp_path / "out"
    result = _build(_remote(oxigraph_server, raw_dir=RAW, out_dir=out), extractor)
    assert not (out / "store").exists(), "a remote build keeps no embedded store"
    assert _stored(oxigraph_server) == _dumped(out)
    assert result.dropped == []  # type: ignore[attr-defined]


def test_rebuild_replaces_graphs_and_drops_deleted_files_only(
    oxigraph_server: str, tmp_path: Path, extractor: SpacyExtractor
) -> None:
    raw, out = tmp_path / "raw", tmp_path / "out"
    shutil.copytree(RAW, raw)
    foreign = "http://example.org/not-kg"
    request = urllib.request.Request(
        f"{oxigraph_server}/store?{urllib.parse.urlencode({'graph': foreign})}",
        data=b"<http://example.org/a> <http://example.org/b> <http://example.org/c> .\n",
        method="PUT",
        headers={"Content-Type": "application/n-triples"},
    )
    urllib.request.urlopen(request, timeout=10).close()
    settings = _remote(oxigraph_server, raw_dir=raw, out_dir=out)
    _build(settings, extractor)
    first = _stored(oxigraph_server)
    _build(settings, extractor, force=True)
    assert _stored(oxigraph_server) == first, "a rebuild of the same raw/ is idempotent"

    (raw / "003_aa63f568c318a167.txt").unlink()
    result = _build(settings, extractor)
    gone = BASE + "graph/article/003_aa63f568c318a167"
    assert result.dropped == [gone]  # type: ignore[attr-defined]
    stored = _stored(oxigraph_server)
    graphs = {q.graph_name.value for q in stored if isinstance(q.graph_name, ox.NamedNode)}
    assert gone not in graphs
    assert foreign in graphs, "graphs outside the build's graph/ space are never touched"
    assert {q for q in stored if q.graph_name != ox.NamedNode(foreign)} == _dumped(out)


def test_update_endpoint_loads_without_gsp(oxigraph_server: str, tmp_path: Path, extractor: SpacyExtractor) -> None:
    out = tmp_path / "out"
    settings = _remote(
        oxigraph_server, raw_dir=RAW, out_dir=out, sparql_gsp="", sparql_update_endpoint=oxigraph_server + "/update"
    )
    _build(settings, extractor)
    assert _stored(oxigraph_server) == _dumped(out)


def test_unreachable_store_fails_the_build_and_keeps_out(
    tmp_path: Path, built: Path, extractor: SpacyExtractor
) -> None:
    out = tmp_path / "out"
    shutil.copytree(built, out)
    before = (out / "kg.nt").read_bytes()
    dead = f"http://127.0.0.1:{_free_port()}"
    with pytest.raises(
        BuildError, match=rf"loading the remote store failed: PUT {dead}/store\?graph=.*out/ left unchanged"
    ):
        _build(_remote(dead, raw_dir=RAW, out_dir=out), extractor)
    assert (out / "kg.nt").read_bytes() == before


def test_cli_needs_an_endpoint_for_the_sparql_store(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "kg.cli", "build", "--store", "sparql", "--out", str(tmp_path / "out")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 2
    assert "store sparql needs sparql_endpoint (flag --endpoint)" in run.stderr


def test_serve_over_the_remote_store_matches_the_embedded_one(
    oxigraph_server: str, tmp_path: Path, built: Path, extractor: SpacyExtractor
) -> None:
    """Same pages and same SPARQL answers (SPARQLWrapper) from either store."""
    out = tmp_path / "out"
    _build(_remote(oxigraph_server, raw_dir=RAW, out_dir=out), extractor)
    env = {"KG_STORE": "sparql", "KG_SPARQL_ENDPOINT": oxigraph_server + "/query"}
    query = (
        "SELECT ?name (COUNT(?a) AS ?n) WHERE { ?a schema:mentions ?e . ?e schema:name ?name } "
        "GROUP BY ?name ORDER BY DESC(?n) ?name"
    )
    named = "?a schema:mentions ?e . ?e schema:name ?name"
    construct = f"CONSTRUCT {{ {named} }} WHERE {{ {named} }}"
    pages = ["/person/rand-paul", "/article/000_45883e71d61e1347", "/search.json?q=mos", "/person/rand-paul.ttl"]
    answers = {}
    for name, folder, extra in (("remote", out, env), ("embedded", built, {})):
        with kg_serve(folder, extra) as url:
            bodies = []
            for page in pages:
                with urllib.request.urlopen(url + page, timeout=30) as response:
                    assert response.status == 200
                    bodies.append(response.read())
            refused = urllib.request.Request(
                url + "/sparql", data=b"DROP ALL", headers={"Content-Type": "application/sparql-update"}
            )
            with pytest.raises(urllib.error.HTTPError) as update:
                urllib.request.urlopen(refused, timeout=30)
            assert update.value.code == 403, "read-only over either store"
            client = SPARQLWrapper(url + "/sparql")
            client.setQuery(query)
            client.setReturnFormat(JSON)
            rows = client.query().convert()["results"]["bindings"]  # type: ignore[index]
            graph = Graph()  # a CONSTRUCT: written by the query worker (embedded) or the web process (remote)
            constructed = urllib.request.Request(
                url + "/sparql?" + urllib.parse.urlencode({"query": construct}), headers={"Accept": "text/turtle"}
            )
            with urllib.request.urlopen(constructed, timeout=30) as response:
                graph.parse(data=response.read(), format="turtle")
            answers[name] = (bodies, [(r["name"]["value"], r["n"]["value"]) for r in rows], graph)
    assert answers["remote"][1] == answers["embedded"][1] and len(answers["remote"][1]) > 10
    assert answers["remote"][0] == answers["embedded"][0]
    assert isomorphic(answers["remote"][2], answers["embedded"][2]) and len(answers["remote"][2]) > 20


def test_remote_store_down_is_a_502_not_a_crash(built: Path) -> None:
    dead = f"http://127.0.0.1:{_free_port()}/query"
    with kg_serve(built, {"KG_STORE": "sparql", "KG_SPARQL_ENDPOINT": dead}, ready="/dumps/") as url:
        try:
            urllib.request.urlopen(url + "/sparql?query=" + urllib.parse.quote("ASK { ?s ?p ?o }"), timeout=30)
            raise AssertionError("expected an error status")
        except urllib.error.HTTPError as exc:
            assert exc.code == 502
            assert "the remote store failed" in exc.read().decode()
        with pytest.raises(urllib.error.HTTPError) as health:
            urllib.request.urlopen(url + "/health", timeout=30)
        assert health.value.code == 503 and json.loads(health.value.read())["status"] == "error"
        with pytest.raises(urllib.error.HTTPError) as page:
            urllib.request.urlopen(url + "/person/rand-paul", timeout=30)
        assert page.value.code == 502 and "did not answer" in page.value.read().decode()
