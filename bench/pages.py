"""Entity pages under many mentions: `python -m bench.pages --articles 10000`.

Writes N short articles that all mention one person (Rand Paul, plus a rotating cast),
builds them with `kg build`, starts a real `kg serve` on 127.0.0.1 and times the entity
page (HTML, Turtle, a later "mentioned in" page) over HTTP, against the page of an entity
that only one article mentions, on the same server in the same run (the baseline)."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import tempfile
import time
import urllib.request
from pathlib import Path

CAST = ["Maria Lopez", "John Baker", "Olga Petrova", "Wei Chen", "Amara Okafor", "Lars Nilsson"]
PLACES = ["Moscow", "Washington", "Helsinki", "Berlin", "Paris", "Tokyo"]


def write_articles(raw: Path, count: int) -> None:
    """count short pages, each mentioning Rand Paul; article i also mentions a one-off person."""
    raw.mkdir(parents=True, exist_ok=True)
    start = dt.date(2015, 1, 1)
    for i in range(count):
        day = start + dt.timedelta(days=i % 3000)
        other, place = CAST[i % len(CAST)], PLACES[i % len(PLACES)]
        text = (
            f"Rand Paul meets {other} in {place} ({i})\n\nBy Staff Writer\n\n{day:%B} {day.day}, {day.year}\n\n"
            f"Sen. Rand Paul met {other} in {place} on Monday to discuss trade. "
            f"Paul said the talks with {other} were useful. Agent Number{i} Smithson also attended.\n"
        )
        (raw / f"many-{i:06d}.txt").write_text(text, encoding="utf-8")


def _time_get(url: str, accept: str, repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        request = urllib.request.Request(url, headers={"Accept": accept})
        start = time.perf_counter()
        with urllib.request.urlopen(request, timeout=60) as response:
            response.read()
        times.append(time.perf_counter() - start)
    return times


def _checksums_verified(url: str) -> float:
    """When /health stopped saying "checksums": "pending" (the server hashes every file of
    the build in the background after starting; pages are timed after that)."""
    while True:
        with urllib.request.urlopen(url + "/health", timeout=60) as response:
            if json.loads(response.read())["checksums"] != "pending":
                return time.perf_counter()
        time.sleep(0.1)


def _mentioned_once(out: Path) -> str:
    """The IRI of an entity that exactly one article mentions."""
    from kg.store.oxigraph import STORE_DIR, OxigraphStore

    store = OxigraphStore(out / STORE_DIR)
    query = "SELECT ?e WHERE { ?a schema:mentions ?e } GROUP BY ?e HAVING (COUNT(?a) = 1) ORDER BY ?e LIMIT 1"
    try:
        return str(next(iter(store.query(query)))["e"].value)
    finally:
        store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--build", type=Path, help="reuse this out/ folder (built by an earlier run)")
    args = parser.parse_args()

    from kg.build import build
    from kg.settings import Settings
    from kg.web.pages import MENTIONED_IN_CAP
    from tests.conftest import kg_serve

    if args.build:
        out = args.build
    else:
        work = Path(tempfile.mkdtemp(prefix="kg-bench-pages-"))
        write_articles(work / "raw", args.articles)
        out = work / "out"
        started = time.perf_counter()
        result = build(Settings(raw_dir=work / "raw", out_dir=out, cache_dir=work / "cache"), validate=False)
        took = time.perf_counter() - started
        print(f"built {result.articles} articles, {result.quads} quads in {took:.1f} s -> {out}")
    last = max(1, -(-args.articles // MENTIONED_IN_CAP))
    middle = max(1, last // 2)
    started = time.perf_counter()
    with kg_serve(out, dict(os.environ)) as url:
        start_s = time.perf_counter() - started  # until /health answers 200 (polled every 0.1 s)
        verified_s = _checksums_verified(url) - started  # the server hashes the build meanwhile
        many = f"{url}/person/rand-paul"
        one = url + "/" + _mentioned_once(out).removeprefix(Settings().base_iri)
        _time_get(many, "text/html", 2)  # warm the store's caches
        cases = [
            ("entity mentioned by 1 article, HTML (baseline)", one, "text/html"),
            ("entity mentioned by all, HTML page 1", many, "text/html"),
            (f"entity mentioned by all, HTML page {middle}", f"{many}?page={middle}", "text/html"),
            (f"entity mentioned by all, HTML page {last} (the last)", f"{many}?page={last}", "text/html"),
            ("entity mentioned by all, Turtle", many, "text/turtle"),
            ("entity mentioned by all, JSON-LD", many, "application/ld+json"),
        ]
        rows = []
        for name, target, accept in cases:
            times = sorted(_time_get(target, accept, args.repeat))
            rows.append((name, statistics.median(times), times[int(0.99 * (len(times) - 1))]))
    base = rows[0][1]
    print(f"\nkg serve answered /health after {start_s:.1f} s; checksums verified after {verified_s:.1f} s")
    print(f"entity pages over HTTP ({args.articles} articles mention the entity; {args.repeat} requests each)")
    print(f"| {'what':<48} | {'p50 ms':>8} | {'p99 ms':>8} | {'ratio':>6} |")
    print(f"|{'-' * 50}|{'-' * 10}|{'-' * 10}|{'-' * 8}|")
    for name, p50, p99 in rows:
        print(f"| {name:<48} | {1000 * p50:>8.1f} | {1000 * p99:>8.1f} | {p50 / base:>6.2f} |")


if __name__ == "__main__":
    main()
