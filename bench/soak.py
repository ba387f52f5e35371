"""Load and soak: `python -m bench.soak [--build OUT] [--duration 60] [--connections 64]`.

Starts a real `kg serve` on 127.0.0.1, drives it with `wrk` (Debian package `wrk`) for the
given time at the given connections over a mix of entity and article pages, the dataset
description, fast SPARQL queries and slow ones (a two-way cartesian count, about a second
on the seed build), samples the server's RSS (with its query workers) every second, and
prints a table: requests/s, p50/p99 latency, responses by status (5xx must be zero: 429 is
the per-client budget at work), RSS at start, peak and end. Then the same SPARQL-only mix
against `oxigraph serve-read-only` (PyPI `oxigraph`) on the same store, as the baseline.
Localhost only; bounded by --duration. Never part of `make test`.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.threads import process_tree

ROOT = Path(__file__).resolve().parent.parent
FAST_QUERIES = [
    "SELECT ?h WHERE { ?a a <http://schema.org/NewsArticle> ; <http://schema.org/headline> ?h }",
    "SELECT ?e (COUNT(?a) AS ?n) WHERE { ?a <http://schema.org/mentions> ?e } GROUP BY ?e ORDER BY DESC(?n) LIMIT 10",
    "ASK { ?s ?p ?o }",
]
SLOW_QUERY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f }"
#: The kg serve set-ups the throughput stage compares: the default, without the access log
#: (one and two worker processes), waitress, and one and two worker processes with nothing
#: kept in memory (each request does its work).
SERVERS = {
    "granian 1 worker (default)": {"KG_SERVER": "granian"},
    "granian 1 worker, no access log": {"KG_SERVER": "granian", "KG_ACCESS_LOG": "false"},
    "granian 2 workers, no access log": {"KG_SERVER": "granian", "KG_WORKERS": "2", "KG_ACCESS_LOG": "false"},
    "waitress": {"KG_SERVER": "waitress"},
    "granian 1 worker, nothing kept": {"KG_SERVER": "granian", "KG_RESPONSE_CACHE_MB": "0"},
    "granian 2 workers, nothing kept": {"KG_SERVER": "granian", "KG_WORKERS": "2", "KG_RESPONSE_CACHE_MB": "0"},
}
#: The framework's floor (bench.framework_floor): Flask answering a constant under granian,
#: by worker processes; what no response computed per request through Flask can beat.
FLOORS = {
    1: "Flask answering a constant (no kg code), granian 1 worker",
    2: "Flask answering a constant (no kg code), granian 2 workers",
}
#: Seconds of wrk before each measured throughput run, not counted.
WARM_UP = 3
#: Settings that lift the per-client budget, for runs where wrk (one client) measures the server.
UNLIMITED = {"KG_CLIENT_QUERIES": "1000", "KG_CLIENT_QUERY_SECONDS": "1e9", "KG_QUERY_QUEUE": "1000"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def _rss_mb(pid: int) -> float:
    """RSS of a process and its descendants (granian's workers, the query workers), in MB."""
    total = 0
    for each in process_tree(pid):
        try:
            for line in Path(f"/proc/{each}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


LUA = """
paths = %s
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) statuses = {}; counter = math.random(1, #paths) end
function request()
  counter = counter + 1
  local p = paths[(counter %% #paths) + 1]
  return wrk.format("GET", p[1], {["Accept"] = p[2]})
end
function response(status, headers, body) statuses[status] = (statuses[status] or 0) + 1 end
function done(summary, latency, requests)
  local total = {}
  for _, t in ipairs(threads) do
    for k, v in pairs(t:get("statuses")) do total[k] = (total[k] or 0) + v end
  end
  local out = {requests = summary.requests, seconds = summary.duration / 1e6,
               p50_ms = latency:percentile(50) / 1000, p99_ms = latency:percentile(99) / 1000,
               errors = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
               statuses = {}}
  for k, v in pairs(total) do out.statuses[tostring(k)] = v end
  local parts = {}
  for k, v in pairs(out.statuses) do table.insert(parts, string.format('"%%s": %%d', k, v)) end
  io.write(string.format('WRK {"requests": %%d, "seconds": %%.2f, "p50_ms": %%.2f, "p99_ms": %%.2f, '
    .. '"errors": %%d, "statuses": {%%s}}\\n',
    out.requests, out.seconds, out.p50_ms, out.p99_ms, out.errors, table.concat(parts, ", ")))
end
"""


def _lua(paths: list[tuple[str, str]]) -> str:
    items = ", ".join(f"{{{json.dumps(p)}, {json.dumps(a)}}}" for p, a in paths)
    return LUA % ("{" + items + "}")


def _warmed_wrk(url: str, paths: list[tuple[str, str]], duration: int, connections: int, pid: int | None) -> dict:
    """_wrk after a run of WARM_UP seconds that is not counted (first renders, the store's
    and the OS's caches: the steady state, for kg and for the baseline alike)."""
    _wrk(url, paths, WARM_UP, connections, None)
    return _wrk(url, paths, duration, connections, pid)


def _wrk(url: str, paths: list[tuple[str, str]], duration: int, connections: int, pid: int | None) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(_lua(paths))
    command = ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--timeout", "30s", "-s", script.name, url]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    rss: list[float] = []
    while proc.poll() is None:
        if pid is not None:
            rss.append(_rss_mb(pid))
        time.sleep(1)
    output = proc.stdout.read() if proc.stdout else ""
    os.unlink(script.name)
    line = next((ln for ln in output.splitlines() if ln.startswith("WRK ")), None)
    if line is None:
        raise SystemExit(f"wrk printed no summary:\n{output}")
    result = json.loads(line[4:])
    result["rss"] = rss
    return result


def _mix(out: Path) -> list[tuple[str, str]]:
    """Pages of real resources from the build, the dataset, fast and slow queries."""
    import pyoxigraph as ox

    store = ox.Store.read_only(str(out / "store"))
    base = json.loads((out / "build.json").read_text())["base_iri"]
    rows = store.query(
        "SELECT DISTINCT ?s { { ?s a <http://schema.org/NewsArticle> } UNION { ?a <http://schema.org/mentions> ?s } }"
        " ORDER BY ?s LIMIT 40",
        use_default_graph_as_union=True,
    )
    resources = [row[0].value[len(base) - 1 :] for row in rows]  # type: ignore[index,union-attr]
    del store
    html, json_ld = "text/html", "application/ld+json"
    paths = [(p, html if i % 2 else json_ld) for i, p in enumerate(resources)]
    paths += [("/dataset", html), ("/", html)]
    sparql = [
        ("/sparql?" + urllib.parse.urlencode({"query": q}), "application/sparql-results+json") for q in FAST_QUERIES
    ]
    slow = ("/sparql?" + urllib.parse.urlencode({"query": SLOW_QUERY}), "application/sparql-results+json")
    return paths + sparql * 4 + [slow]


def _serve(out: Path, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    """A kg serve over out on a free port, with extra KG_* settings; (process, URL)."""
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "kg.cli", "serve", "--out", str(out), "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, **env},
    )
    url = f"http://127.0.0.1:{port}"
    _wait(url + "/health")
    while True:  # the server hashes the build in the background first: measure after that
        with urllib.request.urlopen(url + "/health", timeout=60) as response:
            if json.loads(response.read())["checksums"] != "pending":
                return server, url
        time.sleep(0.2)


@contextmanager
def _running(server: subprocess.Popen[bytes], url: str) -> Iterator[tuple[int, str]]:
    """(pid, URL) of a started server, stopped afterwards."""
    try:
        yield server.pid, url
    finally:
        server.terminate()
        server.wait(30)


def _row(name: str, r: dict) -> str:
    statuses = ", ".join(f"{k}: {v}" for k, v in sorted(r["statuses"].items()))
    five = sum(v for k, v in r["statuses"].items() if k.startswith("5"))
    rss = r["rss"]
    memory = f"{rss[1]:.0f} / {max(rss):.0f} / {rss[-1]:.0f}" if len(rss) > 2 else "-"
    return (
        f"| {name:<40} | {r['requests'] / r['seconds']:>8.1f} | {r['p50_ms']:>7.1f} | {r['p99_ms']:>8.1f} "
        f"| {five:>3} | {r['errors']:>6} | {memory:>21} | {statuses} |"
    )


def _entities(out: Path, limit: int = 40) -> tuple[str, list[str]]:
    """The build's base IRI and the IRIs of the entities most articles mention."""
    import pyoxigraph as ox

    store = ox.Store.read_only(str(out / "store"))
    query = (
        "SELECT ?e WHERE { ?a <http://schema.org/mentions> ?e } GROUP BY ?e "
        f"ORDER BY DESC(COUNT(?a)) ?e LIMIT {int(limit)}"
    )
    iris = [row[0].value for row in store.query(query, use_default_graph_as_union=True)]  # type: ignore[index,union-attr]
    del store
    return json.loads((out / "build.json").read_text())["base_iri"], iris


def _oxigraph_server(out: Path) -> tuple[subprocess.Popen[bytes], str] | None:
    """`oxigraph serve-read-only` (PyPI oxigraph) over the build's store, or None."""
    oxigraph = shutil.which("oxigraph") or str(Path(sys.executable).parent / "oxigraph")
    if not Path(oxigraph).exists():
        return None
    port = _free_port()
    location = ["--location", str(out / "store"), "--bind", f"127.0.0.1:{port}"]
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    server = subprocess.Popen([oxigraph, "serve-read-only", *location], **quiet)  # type: ignore[call-overload]
    url = f"http://127.0.0.1:{port}"
    _wait(url + "/query?query=ASK%7B%7D")
    return server, url


def throughput(out: Path, duration: int = 10, connections: int = 16) -> str:
    """wrk against a real kg serve and `oxigraph serve-read-only` on the same store: the fast
    SPARQL queries, and the 40 most mentioned entities (kg: the HTML page and the Turtle twin;
    Oxigraph: DESCRIBE of the entity as Turtle, the nearest it has to a page), and the same
    paths answered with a constant by a bare Flask app (the framework's floor). req/s and
    the ratio of Oxigraph's rate to kg's (1.5 is the target). Each row after a warm-up run
    of WARM_UP seconds (not counted)."""
    base, entities = _entities(out)
    json_results = "application/sparql-results+json"
    sparql = [("/sparql?" + urllib.parse.urlencode({"query": q}), json_results) for q in FAST_QUERIES]
    pages = [("/" + iri.removeprefix(base), "text/html") for iri in entities]
    turtle = "text/turtle"
    twins = [("/" + iri.removeprefix(base), turtle) for iri in entities]
    runs: dict[str, dict] = {}
    for server, extra in SERVERS.items():
        with _running(*_serve(out, {**UNLIMITED, **extra})) as (pid, url):
            runs[f"kg sparql {server}"] = _warmed_wrk(url, sparql, duration, connections, pid)
            runs[f"kg pages {server}"] = _warmed_wrk(url, pages, duration, connections, pid)
            runs[f"kg twins {server}"] = _warmed_wrk(url, twins, duration, connections, pid)
    from bench.framework_floor import serve_floor
    from kg.settings import load_settings

    threads = load_settings().threads
    for workers, floor in FLOORS.items():  # the same paths, each answered with a constant by Flask
        with _running(*serve_floor(workers, threads)) as (pid, url):
            runs[floor] = _warmed_wrk(url, twins, duration, connections, pid)
    started = _oxigraph_server(out)
    if started is not None:
        baseline, ox_url = started
        try:
            ox_sparql = [("/query?" + p.split("?", 1)[1] + "&union-default-graph", a) for p, a in sparql]
            describe = [
                ("/query?" + urllib.parse.urlencode({"query": f"DESCRIBE <{iri}>", "union-default-graph": ""}), turtle)
                for iri in entities
            ]
            runs["ox sparql"] = _warmed_wrk(ox_url, ox_sparql, duration, connections, baseline.pid)
            runs["ox describe"] = _warmed_wrk(ox_url, describe, duration, connections, baseline.pid)
        finally:
            baseline.terminate()
            baseline.wait(30)

    def rate(key: str) -> float:
        r = runs[key]
        return float(r["requests"] / r["seconds"])

    rows = [("fast SPARQL queries: oxigraph serve-read-only (baseline)", "ox sparql", "ox sparql")]
    rows += [(f"fast SPARQL queries: kg serve /sparql, {s}", f"kg sparql {s}", "ox sparql") for s in SERVERS]
    rows += [("40 top entities: oxigraph DESCRIBE as Turtle (baseline)", "ox describe", "ox describe")]
    rows += [(f"40 top entities: kg Turtle twin, {s}", f"kg twins {s}", "ox describe") for s in SERVERS]
    rows += [(f"40 top entities: kg HTML page, {s}", f"kg pages {s}", "ox describe") for s in SERVERS]
    rows += [(f"the same paths: {floor}", floor, "ox describe") for floor in FLOORS.values()]
    width = max(len(name) for name, _, _ in rows)
    lines = [
        f"\nthroughput: wrk, {connections} connections, 2 threads, {duration} s a row after {WARM_UP} s not counted,"
        " on the same store",
        f"| {'what':<{width}} |    req/s |  p50 ms |   p99 ms | non-2xx | ox/kg |",
        f"|{'-' * (width + 2)}|----------|---------|----------|---------|-------|",
    ]
    for name, key, against in rows:
        if key not in runs:
            continue
        r = runs[key]
        bad = sum(v for k, v in r["statuses"].items() if not k.startswith("2")) + r["errors"]
        ratio = f"{rate(against) / rate(key):>5.1f}" if against in runs else "    -"
        lines.append(
            f"| {name:<{width}} | {rate(key):>8.1f} | {r['p50_ms']:>7.1f} | {r['p99_ms']:>8.1f} | {bad:>7} | {ratio} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--build", type=Path, help="a kg build (out/ folder); default: build raw/ into a temp folder")
    parser.add_argument("--duration", type=int, default=60)
    parser.add_argument("--connections", type=int, default=64)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("bench.soak needs wrk (Debian: apt-get install wrk)")
    scratch = Path(tempfile.mkdtemp(prefix="kg-soak-"))
    out = args.build
    if out is None:
        out = scratch / "out"
        subprocess.run([sys.executable, "-m", "kg.cli", "build", "--out", str(out)], cwd=ROOT, check=True)
    paths = _mix(out)
    quick = min(args.duration, 20)
    sparql_only = [p for p in paths if p[0].startswith("/sparql") and p != paths[-1]]
    rows = []
    with _running(*_serve(out, {})) as (pid, url):
        mixed = _wrk(url, paths, args.duration, args.connections, pid)
        rows.append(_row("kg serve: pages + SPARQL mix", mixed))
    with _running(*_serve(out, UNLIMITED)) as (pid, url):
        fast = _wrk(url, sparql_only, quick, args.connections, pid)
        rows.append(_row("kg serve: fast SPARQL, no client budget", fast))
    started = _oxigraph_server(out)
    if started is not None:
        baseline, ox_url = started
        try:
            ox_paths = [("/query?" + p[0].split("?", 1)[1] + "&union-default-graph", p[1]) for p in sparql_only]
            ox_run = _wrk(ox_url, ox_paths, quick, args.connections, baseline.pid)
            rows.append(_row("oxigraph serve-read-only (baseline)", ox_run))
        finally:
            baseline.terminate()
            baseline.wait(30)
    print(f"\nsoak: {args.connections} connections, wrk 2 threads, {args.duration} s mixed run ({quick} s others)")
    print(f"| {'what':<40} |    req/s |  p50 ms |   p99 ms | 5xx | errors | RSS MB start/peak/end | statuses |")
    print(f"|{'-' * 42}|----------|---------|----------|-----|--------|-----------------------|----------|")
    print("\n".join(rows))
    shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
