"""One real `kg serve` (granian, the default server) on 127.0.0.1, driven by real clients:
SPARQLWrapper, urllib and curl; and each server kg serve can run, answering alike."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from rdflib import Graph, Literal, URIRef

from tests.conftest import ROOT, kg_serve, run_kg

pytestmark = pytest.mark.server

HEADLINE = "Sen. Rand Paul goes to Moscow and invites Russians to Washington in unofficial bid to boost ties"
ARTICLE = "/article/000_45883e71d61e1347"


@pytest.fixture(scope="module")
def server(built: Path) -> Iterator[str]:
    with kg_serve(built) as url:
        yield url


def test_sparqlwrapper_json_xml_csv(server: str) -> None:
    from SPARQLWrapper import CSV, JSON, XML, SPARQLWrapper

    query = (
        "PREFIX schema: <http://schema.org/> SELECT ?h WHERE { ?a a schema:NewsArticle ; "
        "schema:headline ?h } ORDER BY ?h"
    )
    client = SPARQLWrapper(server + "/sparql")
    client.setQuery(query)
    client.setReturnFormat(JSON)
    rows = client.query().convert()["results"]["bindings"]  # type: ignore[index]
    assert [r["h"]["value"] for r in rows][0] == HEADLINE
    client.setReturnFormat(XML)
    xml = client.query().convert()
    assert HEADLINE in xml.toxml()  # type: ignore[union-attr]
    client.setReturnFormat(CSV)
    assert HEADLINE in client.query().convert().decode("utf-8")  # type: ignore[union-attr]
    client.setMethod("POST")
    client.setReturnFormat(JSON)
    assert len(client.query().convert()["results"]["bindings"]) == 2  # type: ignore[index]


def test_article_by_plain_http(server: str) -> None:
    for accept, fmt in (("text/turtle", "turtle"), ("application/ld+json", "json-ld")):
        request = urllib.request.Request(server + ARTICLE, headers={"Accept": accept})
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.headers.get_content_type() == accept
            graph = Graph().parse(data=response.read(), format=fmt)
        assert (
            URIRef("http://127.0.0.1:8000" + ARTICLE),
            URIRef("http://schema.org/headline"),
            Literal(HEADLINE),
        ) in graph


def test_update_refused_and_unknown_path_404(server: str) -> None:
    request = urllib.request.Request(
        server + "/sparql", data=b"DROP ALL", method="POST", headers={"Content-Type": "application/sparql-update"}
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 403
    with pytest.raises(urllib.error.HTTPError) as missing:
        urllib.request.urlopen(server + "/nothing/here", timeout=10)
    assert missing.value.code == 404


@pytest.mark.skipif(
    shutil.which("curl") is None and not os.environ.get("CI"), reason="needs curl (.ci/run installs it)"
)
def test_curl_downloads_a_dump_and_checks_it(server: str, built: Path, tmp_path: Path) -> None:
    target = tmp_path / "kg.nt"
    run = subprocess.run(
        ["curl", "-sS", "-f", "-o", str(target), "-w", "%{http_code} %{content_type}", server + "/dumps/kg.nt"],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    assert run.stdout.startswith("200 application/n-triples")
    assert target.read_bytes() == (built / "kg.nt").read_bytes()
    health = subprocess.run(["curl", "-sS", server + "/health"], capture_output=True, text=True, check=True, timeout=30)
    assert json.loads(health.stdout)["status"] == "ok"


def _get(url: str, accept: str, headers: dict[str, str] | None = None) -> tuple[int, str, bytes]:
    request = urllib.request.Request(url, headers={"Accept": accept, **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers.get_content_type(), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get_content_type(), exc.read()


@pytest.mark.parametrize(
    "env",
    [{"KG_SERVER": "waitress"}, {"KG_SERVER": "granian", "KG_WORKERS": "2"}],
    ids=["waitress", "granian-2-workers"],
)
def test_each_server_answers_alike(built: Path, server: str, env: dict[str, str]) -> None:
    """waitress, and granian with two worker processes, give the default server's bytes for
    a page and its twin, run SPARQL, and refuse a request head of 300 KB."""
    from SPARQLWrapper import JSON, SPARQLWrapper

    with kg_serve(built, env) as url:
        for accept in ("text/turtle", "text/html"):
            status, media_type, body = _get(url + "/person/rand-paul", accept)
            assert (status, media_type) == (200, accept)
            assert body == _get(server + "/person/rand-paul", accept)[2]
        client = SPARQLWrapper(url + "/sparql")
        client.setQuery("ASK { ?a <http://schema.org/headline> ?h }")
        client.setReturnFormat(JSON)
        assert client.query().convert()["boolean"] is True
        status, _, _ = _get(url + "/", "text/html", {"X-Big": "a" * 300_000})
        assert status == 431  # Request Header Fields Too Large


def _raw_get(url: str, headers: dict[str, str]) -> tuple[int, list[tuple[str, str]], bytes]:
    """Status, every header line as sent (repeats kept) and the body as sent (not decoded)."""
    import http.client
    import urllib.parse

    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.netloc, timeout=30)
    try:
        connection.request("GET", parts.path + ("?" + parts.query if parts.query else ""), headers=headers)
        response = connection.getresponse()
        return response.status, response.getheaders(), response.read()
    finally:
        connection.close()


@pytest.mark.parametrize("name", ["granian", "waitress"])
def test_kept_answers_go_out_over_http_as_flask_sent_them(built: Path, name: str) -> None:
    """Over a real server: the third GET (answered from memory below Flask) has the status,
    headers (one Date) and bytes of the first, and of one that Flask answers (a validator
    that does not match), gzipped or not."""
    long_page = "/sparql?query=" + urllib.parse.quote("SELECT ?s ?p ?o WHERE { ?s ?p ?o } ORDER BY ?s ?p ?o LIMIT 50")
    with kg_serve(built, {"KG_SERVER": name}) as url:
        for path, accept, encoding in [
            ("/person/rand-paul", "text/html", "gzip"),
            ("/person/rand-paul", "text/turtle", "identity"),
            (long_page, "application/sparql-results+json", "gzip"),
        ]:
            headers = {"Accept": accept, "Accept-Encoding": encoding}
            answers = [_raw_get(url + path, headers) for _ in range(3)]
            answers.append(_raw_get(url + path, {**headers, "If-None-Match": '"another"'}))
            for status, head, body in answers:
                assert status == 200
                assert [k.lower() for k, _ in head].count("date") == 1
                assert body == answers[0][2]
                without_date = sorted((k.lower(), v) for k, v in head if k.lower() != "date")
                assert without_date == sorted((k.lower(), v) for k, v in answers[0][1] if k.lower() != "date")
            zipped = dict((k.lower(), v) for k, v in answers[0][1]).get("content-encoding")
            assert zipped == ("gzip" if encoding == "gzip" else None)


@pytest.mark.parametrize("name", ["granian", "waitress"])
def test_a_port_in_use_is_refused(built: Path, server: str, name: str) -> None:
    """A second kg serve on a port the first listens on stops with an error (granian would
    otherwise share the port with SO_REUSEPORT and split the requests between the two)."""
    port = server.rsplit(":", 1)[1]
    run = run_kg("serve", "--out", str(built), "--port", port, "--server", name)
    assert run.returncode == 2
    assert "Address already in use" in run.stderr and "Traceback" not in run.stderr


def test_a_build_without_its_store_is_refused_before_serving(built: Path, tmp_path: Path) -> None:
    """Reported by kg serve itself (exit 2, one line), not as a worker's traceback."""
    out = tmp_path / "out"
    shutil.copytree(built, out, ignore=shutil.ignore_patterns("store"))
    run = run_kg("serve", "--out", str(out), "--port", "0")
    assert run.returncode == 2
    assert run.stderr == f"kg serve: error: {out / 'store'}: no store here; run `kg build` first\n"
    assert "serving on" not in run.stdout


def test_server_settings() -> None:
    from kg.settings import Settings, SettingsError, load_settings, settings_from_json, settings_to_json

    assert (Settings().server, Settings().workers) == ("granian", 1)
    chosen = load_settings(environ={"KG_SERVER": "granian", "KG_WORKERS": "3", "KG_QUERY_TIMEOUT": "2.5"})
    assert (chosen.server, chosen.workers, chosen.query_timeout) == ("granian", 3, 2.5)
    assert settings_from_json(settings_to_json(chosen)) == chosen  # what granian's workers get
    with pytest.raises(SettingsError, match="'gunicorn' is not one of waitress, granian"):
        load_settings(environ={"KG_SERVER": "gunicorn"})
    with pytest.raises(SettingsError, match="workers.*must be 1 or more, not 0"):
        load_settings(environ={"KG_WORKERS": "0"})
    with pytest.raises(SettingsError, match="more than one needs server granian"):
        load_settings(environ={"KG_SERVER": "waitress", "KG_WORKERS": "2"})


@pytest.mark.parametrize("name", ["granian", "waitress"])
def test_ctrl_c_stops_the_server_and_its_workers_quietly(built: Path, tmp_path: Path, name: str) -> None:
    """Ctrl-C in a terminal reaches every process of kg serve (one process group): it stops
    with exit 0, no traceback from any query worker, and nothing left running."""
    import signal
    import socket
    import time

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    log = (tmp_path / "serve.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "kg.cli", "serve", "--out", str(built), "--port", str(port), "--server", name],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, as a terminal's foreground job
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                status, _, _ = _get(
                    f"http://127.0.0.1:{port}/sparql?query=ASK%7B%7D", "application/sparql-results+json"
                )
                break
            except (urllib.error.URLError, ConnectionError):
                assert time.monotonic() < deadline and proc.poll() is None, (tmp_path / "serve.log").read_text()
                time.sleep(0.2)
        assert status == 200
        for _ in range(3):
            assert _get(f"http://127.0.0.1:{port}/person/rand-paul?x=%0A", "text/turtle")[0] == 200
        os.killpg(proc.pid, signal.SIGINT)
        assert proc.wait(timeout=30) == 0
        deadline = time.monotonic() + 10
        while _group(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _group(proc.pid) == []
        output = (tmp_path / "serve.log").read_text()
        assert "serving on" in output and "Traceback" not in output and "KeyboardInterrupt" not in output
        # the access log's last lines were written on the way out (kg serve writes it in batches)
        lines = [line.split(" kg.web ", 1)[1] for line in output.splitlines() if " kg.web GET /person/" in line]
        assert (
            lines[0].startswith("GET /person/rand-paul?x=%0A 200 ")
            and lines[1:] == ["GET /person/rand-paul?x=%0A 200 kept"] * 2
        )
    finally:
        if _group(proc.pid):
            os.killpg(proc.pid, 9)
        log.close()


def _group(pgid: int) -> list[str]:
    """The processes of a process group (Linux /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            found.append(stat.parent.name)
    return found


@pytest.mark.parametrize("after", [0.3, 0.8, 1.5])
def test_stopped_while_starting_it_stops(built: Path, tmp_path: Path, after: float) -> None:
    """SIGTERM while granian's two workers are still loading the app (CI once saw kg serve
    hang there: the workers had inherited the main process's handlers, which only set a
    flag) ends kg serve and every process it started."""
    import signal
    import time

    log = (tmp_path / "serve.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "kg.cli", "serve", "--out", str(built), "--port", "0", "--workers", "2"],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        time.sleep(after)
        proc.terminate()
        assert proc.wait(timeout=30) is not None
        deadline = time.monotonic() + 10
        while _group(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _group(proc.pid) == [], (tmp_path / "serve.log").read_text()
    finally:
        if _group(proc.pid):
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()
