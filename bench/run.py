"""Benchmarks: `python -m bench.run [--articles N]` prints one table per stage with a ratio
against a baseline measured in the same run on the same data."""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from bench.generate import generate


def _timed(fn: Callable[[], Any], repeat: int = 1) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _table(title: str, rows: list[tuple[str, float, float, float]], unit: str = "s", width: int = 44) -> str:
    out = [
        f"\n{title}",
        f"| {'what':<{width}} | {unit:>8} | {'per article ms':>14} | {'ratio':>6} |",
        f"|{'-' * (width + 2)}|{'-' * 10}|{'-' * 16}|{'-' * 8}|",
    ]
    for name, seconds, per_article, ratio in rows:
        out.append(f"| {name:<{width}} | {seconds:>8.3f} | {per_article:>14.2f} | {ratio:>6.2f} |")
    return "\n".join(out)


def bench_extraction(raw: Path, n: int) -> tuple[str, float]:
    """NER + clean-up + resolution vs spaCy's nlp.pipe alone on the same bodies (the NER
    component kg runs; the model's whole pipeline for reference). Also the NER's seconds."""
    import spacy

    from kg.build import read_articles
    from kg.extract.authority import load_authority
    from kg.extract.entities import SpacyExtractor
    from kg.extract.resolve import resolve_corpus
    from kg.settings import Settings
    from kg.spill import TextSpill

    settings = Settings(raw_dir=raw)
    with TextSpill() as spill:
        articles, _ = read_articles(settings, spill)
        bodies = spill[:]
    extractor = SpacyExtractor()
    nlp = extractor.nlp
    list(nlp.pipe(bodies[:5]))  # warm up
    # the baseline runs spaCy the way kg does: same batch size, same number of processes
    processes = (os.cpu_count() or 1) if len(bodies) >= SpacyExtractor.PARALLEL_FROM else 1
    t_model, _ = _timed(lambda: [d.ents for d in nlp.pipe(bodies, batch_size=16, n_process=processes)])
    whole = spacy.load(extractor.model)  # for reference: tagger, parser, lemmatizer too (kg ran them before)
    list(whole.pipe(bodies[:5]))
    t_whole, _ = _timed(lambda: [d.ents for d in whole.pipe(bodies, batch_size=16, n_process=processes)])
    authority = load_authority(Path("authority.csv"))

    def pipeline() -> Any:
        mentions = extractor.extract_many(bodies)
        return resolve_corpus({a.key: m for a, m in zip(articles, mentions, strict=True)}, authority=authority)

    t_pipe, _ = _timed(pipeline)
    table = _table(
        f"extraction ({n} articles)",
        [
            (f"spaCy NER alone, {processes} proc(s) (baseline)", t_model, 1000 * t_model / n, 1.0),
            ("spaCy whole pipeline (for reference)", t_whole, 1000 * t_whole / n, t_whole / t_model),
            ("kg: NER + clean-up + resolution", t_pipe, 1000 * t_pipe / n, t_pipe / t_model),
        ],
    )
    return table, t_model


def bench_build(raw: Path, n: int) -> tuple[str, Path, float]:
    """The whole build (cold: nothing cached), and dump writing vs pyoxigraph serialising
    the same quads. Also the build's seconds."""
    from kg.build import build
    from kg.settings import Settings

    out = Path(tempfile.mkdtemp(prefix="kg-bench-")) / "out"
    t_build, result = _timed(lambda: build(Settings(raw_dir=raw, out_dir=out), allow_invalid=True))
    quads = list(ox.parse(path=str(out / "kg.trig"), format=ox.RdfFormat.TRIG))
    t_ox, _ = _timed(lambda: ox.serialize(quads, format=ox.RdfFormat.N_QUADS), repeat=3)
    from kg.dumps import write_dumps

    scratch = Path(tempfile.mkdtemp(prefix="kg-bench-dumps-"))
    t_dumps, _ = _timed(lambda: write_dumps(quads, scratch))
    shutil.rmtree(scratch)
    return (
        _table(
            f"build ({n} articles, {result.quads} quads)",
            [
                ("pyoxigraph serialise N-Quads (baseline)", t_ox, 1000 * t_ox / n, 1.0),
                ("kg write 4 dumps (ttl, nt, jsonld, trig)", t_dumps, 1000 * t_dumps / n, t_dumps / t_ox),
                ("kg build end to end", t_build, 1000 * t_build / n, t_build / t_ox),
            ],
        ),
        out,
        t_build,
    )


def bench_memory(raw: Path, n: int, built: Path | None) -> str:
    """Each stage of a forced build with its peak RSS (bench.memory), extraction cached by
    the build stage when it ran."""
    from bench.memory import profile_build, stage_table

    scratch = Path(tempfile.mkdtemp(prefix="kg-bench-memory-"))
    cache = built.parent / f".{built.name}.cache" if built is not None else scratch / "cache"
    try:
        stages, seconds, peak = profile_build(raw, scratch / "out", cache)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return f"\nbuild memory ({n} articles): {seconds:.1f} s, peak RSS {peak:.0f} MB\n{stage_table(stages)}"


def bench_validation(out: Path, n: int) -> str:
    """Article-by-article parallel validation vs one whole-graph pySHACL run (same results)."""
    from kg.validate import load_data, load_ontology, load_shapes, run_validation, validate

    shapes_dir, ontology_dir = Path("shapes"), Path("ontology")
    shapes, ontology = load_shapes(shapes_dir), load_ontology(ontology_dir)
    inputs = [out / "kg.trig"]
    cores = os.cpu_count() or 1
    runs = [("turbo", 1), ("turbo", cores), ("pyshacl", cores)]
    # kg's runs first: the whole-graph runs leave a large rdflib heap behind that slows what follows
    timed = [
        (e, j, *_timed(lambda e=e, j=j: run_validation(inputs, shapes_dir, ontology_dir, engine=e, jobs=j)))
        for e, j in runs
    ]
    # the baseline is pySHACL on the shapes as written (no narrowed targets)
    t_whole, whole = _timed(
        lambda: validate(load_data(inputs), shapes, ontology, engine="pyshacl", narrow_targets=False)
    )
    rows = [("pySHACL, whole graph, 1 process (baseline)", t_whole, 1000 * t_whole / n, 1.0)]
    for engine, jobs, t, parts in timed:
        same = [r.key for r in parts.results] == [r.key for r in whole.results]
        label = f"kg {engine}, by article, {jobs} proc{'s' if jobs > 1 else ''}{'' if same else ' (DIFFERS)'}"
        rows.append((label, t, 1000 * t / n, t / t_whole))
    t_turbo, turbo = _timed(lambda: validate(load_data(inputs), shapes, ontology, engine="turbo"))
    same = [r.key for r in turbo.results] == [r.key for r in whole.results]
    label = f"kg turbo, whole graph, 1 process{'' if same else ' (DIFFERS)'}"
    rows.append((label, t_turbo, 1000 * t_turbo / n, t_turbo / t_whole))
    best = min(t for _, t, _, _ in rows)
    table = _table(f"validation ({n} articles, {len(whole.results)} results, same in every row)", rows)
    return f"{table}\nfastest row at this rate: {best * 100_000 / n / 60:.0f} min for 100,000 articles"


def bench_queries(out: Path, n: int) -> str:
    """Typical news queries: kg.query over the store vs pyoxigraph in process vs rdflib."""
    from rdflib import Dataset

    from kg.query import run_query
    from kg.settings import Settings
    from kg.store.oxigraph import OxigraphStore

    queries, prefix = QUERIES, PREFIX
    store = OxigraphStore(out / "store")
    raw = ox.Store.read_only(str(out / "store"))
    dataset = Dataset(default_union=True)
    dataset.parse(out / "kg.trig", format="trig")
    settings = Settings(result_limit=1_000_000)
    rows = []
    for name, q in queries.items():
        t_ox, _ = _timed(lambda q=q: list(raw.query(prefix + q, use_default_graph_as_union=True)), repeat=3)
        t_kg, _ = _timed(lambda q=q: run_query(store, prefix + q, settings), repeat=3)
        t_rdflib, _ = _timed(lambda q=q: list(dataset.query(prefix + q)))
        rows += [
            (f"{name}: pyoxigraph (baseline)", t_ox, 1000 * t_ox / n, 1.0),
            (f"{name}: kg run_query", t_kg, 1000 * t_kg / n, t_kg / t_ox),
            (f"{name}: rdflib in memory", t_rdflib, 1000 * t_rdflib / n, t_rdflib / t_ox),
        ]
    return _table("SPARQL", rows)


QUERIES = {
    "top mentioned entities": "SELECT ?e (COUNT(?a) AS ?n) WHERE { ?a schema:mentions ?e }"
    " GROUP BY ?e ORDER BY DESC(?n) LIMIT 10",
    "articles mentioning a person": "SELECT ?a WHERE { ?a schema:mentions ?e . ?e a schema:Person ;"
    ' schema:name ?n FILTER(STRSTARTS(?n, "A")) }',
    "headlines by date": "SELECT ?h ?d WHERE { ?a schema:headline ?h ; schema:datePublished ?d }"
    " ORDER BY DESC(?d) LIMIT 20",
}
PREFIX = "PREFIX schema: <http://schema.org/>\n"


def _latencies(fn: Callable[[], Any], repeat: int) -> list[float]:
    fn()  # warm up (caches, connections)
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        fn()
        times.append(time.perf_counter() - began)
    return sorted(times)


def bench_http(out: Path, n: int, repeat: int = 30) -> str:
    """A real `kg serve` on 127.0.0.1: each query through /sparql (SPARQL JSON results, one
    request at a time; run every time with nothing kept, and answered from memory after the
    first) vs the same query and JSON serialisation by pyoxigraph in process;
    entity pages (HTML) of the most mentioned entity and of one mentioned once. Median and
    the slowest of `repeat` requests (their p99 at this count)."""
    import urllib.parse
    import urllib.request

    from tests.conftest import kg_serve

    raw = ox.Store.read_only(str(out / "store"))

    def in_process(q: str) -> Callable[[], Any]:
        def run() -> Any:
            solutions = raw.query(PREFIX + q, use_default_graph_as_union=True)
            return solutions.serialize(format=ox.QueryResultsFormat.JSON)

        return run

    def get(url: str, accept: str) -> Callable[[], Any]:
        def run() -> Any:
            request = urllib.request.Request(url, headers={"Accept": accept})
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.read()

        return run

    top = "SELECT ?e WHERE { ?a schema:mentions ?e } GROUP BY ?e ORDER BY DESC(COUNT(?a)) ?e LIMIT 1"
    once = "SELECT ?e WHERE { ?a schema:mentions ?e } GROUP BY ?e HAVING (COUNT(?a) = 1) ORDER BY ?e LIMIT 1"
    famous, rare = (next(iter(raw.query(PREFIX + q, use_default_graph_as_union=True)))["e"].value for q in (top, once))
    mentions = {
        iri: int(
            next(
                iter(
                    raw.query(
                        f"SELECT (COUNT(?a) AS ?n) WHERE {{ ?a <http://schema.org/mentions> <{iri}> }}",
                        use_default_graph_as_union=True,
                    )
                )
            )["n"].value
        )
        for iri in (famous, rare)
    }
    base = json.loads((out / "build.json").read_text())["base_iri"]
    rows: list[tuple[str, float, float, float]] = []

    def sparql_url(url: str, q: str) -> str:
        return f"{url}/sparql?{urllib.parse.urlencode({'query': PREFIX + q})}"

    json_results = "application/sparql-results+json"
    with kg_serve(out) as url, kg_serve(out, {"KG_RESPONSE_CACHE_MB": "0"}) as fresh_url:
        for name, q in QUERIES.items():
            theirs = _latencies(in_process(q), repeat)
            kept_answer = _latencies(get(sparql_url(url, q), json_results), repeat)  # run once, then kept
            ours = _latencies(get(sparql_url(fresh_url, q), json_results), repeat)  # run every time
            baseline = statistics.median(theirs)
            rows += [
                (f"{name}: pyoxigraph + JSON in process (baseline)", 1000 * baseline, 1000 * theirs[-1], 1.0),
                (
                    f"{name}: kg /sparql over HTTP, run each time",
                    1000 * statistics.median(ours),
                    1000 * ours[-1],
                    statistics.median(ours) / baseline,
                ),
                (
                    f"{name}: kg /sparql over HTTP, kept",
                    1000 * statistics.median(kept_answer),
                    1000 * kept_answer[-1],
                    statistics.median(kept_answer) / baseline,
                ),
            ]
        famous_path = "/" + famous[len(base) :]
        kept = _latencies(get(url + famous_path, "text/html"), repeat)  # rendered once, then kept
    first_article = "SELECT ?e WHERE { ?e a schema:NewsArticle } ORDER BY ?e LIMIT 1"
    article = next(iter(raw.query(PREFIX + first_article, use_default_graph_as_union=True)))["e"].value
    pages = [
        ("entity page, mentioned once (baseline)", rare),
        (f"entity page, mentioned by {mentions[famous]} articles", famous),
        ("article page, with its mentions' evidence", article),
    ]
    first = 0.0
    with kg_serve(out, {"KG_RESPONSE_CACHE_MB": "0"}) as url:  # what rendering a page costs
        for label, iri in pages:
            times = _latencies(get(url + "/" + iri[len(base) :], "text/html"), repeat)
            first = first or statistics.median(times)
            rows.append(
                (
                    label + " (HTML, rendered)",
                    1000 * statistics.median(times),
                    1000 * times[-1],
                    statistics.median(times) / first,
                )
            )
    rows.append(
        (
            f"entity page, mentioned by {mentions[famous]} articles (HTML, kept)",
            1000 * statistics.median(kept),
            1000 * kept[-1],
            statistics.median(kept) / first,
        )
    )
    width = max(len(name) for name, _, _, _ in rows)
    lines = [
        f"\nHTTP: a real kg serve on 127.0.0.1, {n} articles, {repeat} requests each, one at a time",
        f"| {'what':<{width}} | {'median ms':>9} | {'max ms':>8} | {'ratio':>6} |",
        f"|{'-' * (width + 2)}|{'-' * 11}|{'-' * 10}|{'-' * 8}|",
    ]
    lines += [f"| {name:<{width}} | {med:>9.2f} | {worst:>8.2f} | {ratio:>6.2f} |" for name, med, worst, ratio in rows]
    return "\n".join(lines)


#: Seconds each example query of the form is timed for (at least EXAMPLE_RUNS runs, at most 30).
EXAMPLE_SECONDS = 3.0
EXAMPLE_RUNS = 3


def bench_examples(out: Path) -> str:
    """The /sparql form's example queries (the target's "example SPARQL queries"), each run
    afresh through a real kg serve (nothing kept, no result limit or client budget in the
    way) against pyoxigraph answering and writing it in process (SPARQL JSON, or Turtle for
    a CONSTRUCT). Median of as many runs as fit in EXAMPLE_SECONDS; a failed request
    (e.g. over the time limit) shows its status."""
    import urllib.error
    import urllib.parse
    import urllib.request

    from kg.iris import Minter
    from kg.namespaces import PREFIXES
    from kg.web.sparql import examples
    from tests.conftest import kg_serve

    raw = ox.Store.read_only(str(out / "store"))
    base = json.loads((out / "build.json").read_text())["base_iri"]
    declared = "".join(f"PREFIX {name}: <{iri}>\n" for name, iri in PREFIXES.items())
    settings = {"KG_RESPONSE_CACHE_MB": "0", "KG_RESULT_LIMIT": "100000000", "KG_CLIENT_QUERY_SECONDS": "1e9"}
    settings |= {"KG_CLIENT_QUERIES": "1000", "KG_QUERY_TIMEOUT": "600"}
    rows: list[tuple[str, float, str, str]] = []
    with kg_serve(out, settings) as url:
        for title, query in examples(str(Minter(base).entity_graph())):
            graph = isinstance(raw.query(declared + query, use_default_graph_as_union=True), ox.QueryTriples)

            def in_process(query: str = query, graph: bool = graph) -> Any:
                result = raw.query(declared + query, use_default_graph_as_union=True)
                if graph:
                    return ox.serialize(result, format=ox.RdfFormat.TURTLE)
                return result.serialize(format=ox.QueryResultsFormat.JSON)  # type: ignore[union-attr]

            accept = "text/turtle" if graph else "application/sparql-results+json"
            request = urllib.request.Request(
                f"{url}/sparql?{urllib.parse.urlencode({'query': query})}", headers={"Accept": accept}
            )

            def over_http(request: urllib.request.Request = request) -> Any:
                with urllib.request.urlopen(request, timeout=900) as response:
                    return response.read()

            began = time.perf_counter()
            in_process()
            runs = max(EXAMPLE_RUNS, min(30, int(EXAMPLE_SECONDS / max(time.perf_counter() - began, 1e-6))))
            theirs = statistics.median(_latencies(in_process, runs))
            try:
                median = statistics.median(_latencies(over_http, runs))
                ours, ratio = f"{1000 * median:.2f}", f"{median / theirs:.2f}"
            except urllib.error.HTTPError as exc:
                ours, ratio = f"HTTP {exc.code}", "-"
            rows.append((title, 1000 * theirs, ours, ratio))
    width = max(len(title) for title, _, _, _ in rows)
    lines = [
        "\nthe /sparql form's example queries, run afresh over HTTP (nothing kept) against pyoxigraph in process",
        f"| {'example':<{width}} | in process ms | kg /sparql ms |  ratio |",
        f"|{'-' * (width + 2)}|---------------|---------------|--------|",
    ]
    lines += [f"| {t:<{width}} | {mine:>13.2f} | {o:>13} | {r:>6} |" for t, mine, o, r in rows]
    return "\n".join(lines)


def bench_throughput(out: Path) -> str:
    """Requests per second under wrk: kg serve against oxigraph serve-read-only (bench.soak)."""
    if shutil.which("wrk") is None:
        return "\nthroughput: skipped, needs wrk (Debian: apt-get install wrk)"
    from bench.soak import throughput

    return throughput(out)


STAGES = ("extraction", "build", "floor", "memory", "validation", "queries", "http", "throughput")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--articles", type=int, default=200)
    parser.add_argument("--stages", default=",".join(STAGES), help=f"comma-separated subset of {','.join(STAGES)}")
    parser.add_argument("--build", type=Path, help="reuse this build (its out/ folder) for validation and queries")
    args = parser.parse_args()
    n = args.articles
    stages = set(args.stages.split(","))
    if stages - set(STAGES):
        parser.error(f"unknown stage(s): {', '.join(sorted(stages - set(STAGES)))}")
    raw = Path(tempfile.mkdtemp(prefix="kg-bench-raw-"))
    generate(n, raw)
    print(
        f"kg bench: {n} generated articles; {platform.platform()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}"
    )
    ner_seconds = build_seconds = None
    if "extraction" in stages:
        table, ner_seconds = bench_extraction(raw, n)
        print(table)
    out = args.build
    if "build" in stages or (out is None and stages & {"floor", "validation", "queries", "http", "throughput"}):
        table, out, build_seconds = bench_build(raw, n)
        print(table)
        if ner_seconds is not None:
            ratio = build_seconds / ner_seconds
            print(f"whole build against the NER alone: {build_seconds:.1f} s / {ner_seconds:.1f} s = {ratio:.2f}x")
    if out is not None and "floor" in stages:
        from bench.floor import floor_table

        print(floor_table(out, n, ner_seconds, build_seconds))
    if "memory" in stages:
        print(bench_memory(raw, n, out))
    if out is not None and "validation" in stages:
        print(bench_validation(out, n))
    if out is not None and "queries" in stages:
        print(bench_queries(out, n))
    if out is not None and "http" in stages:
        print(bench_http(out, n))
        print(bench_examples(out))
    if out is not None and "throughput" in stages:
        print(bench_throughput(out))
    print(f"\npeak RSS {_rss_mb():.0f} MB")
    shutil.rmtree(raw)
    if args.build is None and out is not None:
        shutil.rmtree(out.parent, ignore_errors=True)


if __name__ == "__main__":
    main()
