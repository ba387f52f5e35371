"""The SPARQL time limit really stops the work: queries run in worker processes that are
killed at the deadline; admission is bounded so slow queries cannot starve the pages."""

from __future__ import annotations

import os
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest

from kg.query import QueryError, run_query, serialize_results
from kg.querypool import QueryPool
from kg.settings import Settings
from kg.store.oxigraph import OxigraphStore
from tests.conftest import kg_serve

#: Queries no engine finishes in a second over the seed build (about 2,300 triples).
HOSTILE = {
    "cartesian product": "SELECT (COUNT(*) AS ?n) { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }",
    "catastrophic regex": (
        "SELECT (COUNT(*) AS ?n) { ?a ?b ?c . ?d ?e ?f . "
        'FILTER (REGEX(CONCAT(STR(?c), STR(?f)), "^(a|aa)+(b|bb)+(c|cc)+$")) }'
    ),
    "deep property path": "SELECT (COUNT(*) AS ?n) { ?a (<urn:x:p>|!<urn:x:p>)* ?b . ?c ?d ?e }",
}


@pytest.fixture()
def pool(settings: Settings) -> Iterator[QueryPool]:
    quick = settings.replace(query_timeout=1.0)
    pool = QueryPool(settings.out_dir / "store", quick, workers=1, waiting=0)
    pool.start()
    yield pool
    pool.close()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a killed child may linger as a zombie until reaped; treat that as stopped
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


def test_pool_answers_like_the_store(pool: QueryPool, settings: Settings) -> None:
    query = "SELECT ?h WHERE { ?a <http://schema.org/headline> ?h } ORDER BY ?h"
    direct = run_query(OxigraphStore(settings.out_dir / "store"), query, settings)
    pooled = pool.run(query)
    assert (pooled.kind, pooled.variables, pooled.rows) == (direct.kind, direct.variables, direct.rows)
    assert len(pooled.rows) == 2


@pytest.mark.parametrize("results_format", ["json", "xml", "csv", "tsv"])
def test_the_worker_writes_the_results_format_asked_for(
    pool: QueryPool, settings: Settings, results_format: str
) -> None:
    """With a results format, a SELECT or ASK answer comes back as the bytes the web process
    would have written (and no rows); a CONSTRUCT's triples come back as before."""
    store = OxigraphStore(settings.out_dir / "store")
    for query in ("SELECT ?a ?h WHERE { ?a <http://schema.org/headline> ?h } ORDER BY ?h", "ASK { ?s ?p ?o }"):
        direct = run_query(store, query, settings)
        pooled = pool.run(query, results_format=results_format)
        assert pooled.rows == [] and pooled.serialized_as == results_format
        assert pooled.results(results_format) == serialize_results(direct, results_format)
        with pytest.raises(ValueError, match=f"written as {results_format}"):
            pooled.results("json" if results_format != "json" else "xml")
    construct = "CONSTRUCT { ?a <urn:x:h> ?h } WHERE { ?a <http://schema.org/headline> ?h }"
    pooled = pool.run(construct, results_format=results_format)
    assert pooled.serialized is None and len(pooled.triples) == 2


@pytest.mark.parametrize("graph_format", ["turtle", "ntriples", "jsonld", "rdfxml", "trig", "nquads"])
def test_the_worker_writes_the_rdf_format_asked_for(pool: QueryPool, settings: Settings, graph_format: str) -> None:
    """With an RDF format, a CONSTRUCT or DESCRIBE answer comes back as the bytes the web
    process would have written (duplicates once; no triples); a SELECT's rows come back as before."""
    from kg.formats import BY_NAME
    from kg.web.rdf import rdf_response

    store = OxigraphStore(settings.out_dir / "store")
    fmt = BY_NAME[graph_format]
    twice = "CONSTRUCT { ?a <urn:x:h> ?h . <urn:x:s> <urn:x:p> <urn:x:o> } WHERE { ?a <http://schema.org/headline> ?h }"
    for query in (twice, "DESCRIBE ?a WHERE { ?a <http://schema.org/headline> ?h }"):
        direct = run_query(store, query, settings)
        pooled = pool.run(query, graph_format=graph_format)
        assert pooled.triples == [] and pooled.serialized_as == graph_format
        expected = rdf_response((ox.Quad(t.subject, t.predicate, t.object) for t in direct.triples), fmt).get_data()
        assert pooled.graph(fmt) == expected == direct.graph(fmt)
        with pytest.raises(ValueError, match=f"written as {graph_format}"):
            pooled.graph(BY_NAME["ntriples" if graph_format != "ntriples" else "turtle"])
    assert (
        len(
            list(
                ox.parse(
                    pool.run(twice, graph_format="ntriples").graph(BY_NAME["ntriples"]), format=ox.RdfFormat.N_TRIPLES
                )
            )
        )
        == 3
    )
    select = pool.run("SELECT ?h WHERE { ?a <http://schema.org/headline> ?h }", graph_format=graph_format)
    assert select.serialized is None and len(select.rows) == 2


def test_errors_come_back_with_their_status(pool: QueryPool) -> None:
    with pytest.raises(QueryError) as bad:
        pool.run("SELECT * WHERE { ?s ?p }")
    assert bad.value.status == 400 and "malformed query" in bad.value.message
    with pytest.raises(QueryError) as update:
        pool.run("INSERT DATA { <urn:a> <urn:b> <urn:c> }")
    assert update.value.status == 403
    assert pool.run("ASK { ?s ?p ?o }").boolean is True  # the worker is still there


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_time_limit_kills_the_worker_and_the_next_query_works(pool: QueryPool, name: str) -> None:
    worker = pool._idle.queue[0]
    started = time.monotonic()
    with pytest.raises(QueryError) as exc:
        pool.run(HOSTILE[name])
    waited = time.monotonic() - started
    assert exc.value.status == 503
    assert exc.value.message == "query exceeded the 1 s time limit and was stopped"
    assert waited < 5, f"the client waited {waited:.1f} s"
    assert not _alive(worker.process.pid), "the engine is still running the query"
    assert pool.killed == 1
    assert pool.run("ASK { ?s ?p ?o }").boolean is True  # a fresh worker took its place


#: A query that needs far more memory than 300 MB on the seed build: a 5.5-million-row
#: cartesian product whose values are all concatenated into one string.
GREEDY = "SELECT (STRLEN(GROUP_CONCAT(STR(?c))) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f }"


def test_memory_limit_stops_the_worker_and_the_next_query_works(settings: Settings) -> None:
    capped = settings.replace(query_timeout=30.0, query_memory_mb=300)
    pool = QueryPool(settings.out_dir / "store", capped, workers=1, waiting=0)
    try:
        pool.start()
        worker = pool._idle.queue[0]
        started = time.monotonic()
        with pytest.raises(QueryError) as exc:
            pool.run(GREEDY)
        assert exc.value.status == 503
        assert exc.value.message == "the query needed more than the 300 MB of memory a query may use, and was stopped"
        assert time.monotonic() - started < 25  # stopped by the memory cap, not by the time limit
        assert not _alive(worker.process.pid)
        assert pool.killed == 1
        assert pool.run("ASK { ?s ?p ?o }").boolean is True  # a fresh worker took its place
    finally:
        pool.close()


def test_memory_limit_setting() -> None:
    from kg.settings import SettingsError, load_settings

    assert Settings().query_memory_mb == 1024
    assert load_settings(environ={"KG_QUERY_MEMORY_MB": "0"}).query_memory_mb == 0  # no limit
    with pytest.raises(SettingsError, match="query_memory_mb.*0 \\(no limit\\) or at least 256, not 100"):
        load_settings(environ={"KG_QUERY_MEMORY_MB": "100"})


def test_admission_is_bounded(pool: QueryPool) -> None:
    """One worker, no waiting room: while a slow query runs, the next is refused at once."""
    slow = threading.Thread(target=lambda: pytest.raises(QueryError, pool.run, HOSTILE["cartesian product"]))
    slow.start()
    time.sleep(0.3)
    started = time.monotonic()
    with pytest.raises(QueryError) as busy:
        pool.run("ASK { ?s ?p ?o }")
    assert busy.value.status == 503 and "busy" in busy.value.message
    assert time.monotonic() - started < 0.5
    slow.join()


def test_slow_queries_over_http_do_not_starve_pages(built: Path) -> None:
    """A real kg serve with a 1 s limit: three hostile queries at once each get 503 (by
    time limit or admission), and entity pages keep answering meanwhile."""
    env = {"KG_QUERY_TIMEOUT": "1", "KG_QUERY_WORKERS": "1", "KG_QUERY_QUEUE": "1", "KG_CLIENT_QUERIES": "3"}
    with kg_serve(built, env) as url:
        statuses: list[int] = []

        def hostile(query: str) -> None:
            request = urllib.request.Request(
                url + "/sparql?" + urllib.parse.urlencode({"query": query}),
                headers={"Accept": "application/sparql-results+json"},
            )
            try:
                urllib.request.urlopen(request, timeout=30)
                statuses.append(200)
            except urllib.error.HTTPError as exc:
                statuses.append(exc.code)

        threads = [threading.Thread(target=hostile, args=(q,)) for q in HOSTILE.values()]
        for thread in threads:
            thread.start()
        time.sleep(0.2)
        for _ in range(5):
            with urllib.request.urlopen(url + "/", timeout=30) as response:
                assert response.status == 200
        assert any(thread.is_alive() for thread in threads), "pages waited for the slow queries"
        for thread in threads:
            thread.join()
        assert statuses == [503, 503, 503]
        with urllib.request.urlopen(url + "/sparql?query=ASK%7B%3Fs%20%3Fp%20%3Fo%7D", timeout=30) as response:
            assert response.status == 200
