"""Hostile input, as tables: requests to a real `kg serve`, documents given to `kg validate`,
and raw files given to `kg build`. Each case states the exact status, exit code or problem.

Outbound requests and file reads are caught with a local listener that must receive nothing
and a secret file whose content must never appear in any answer.
"""

from __future__ import annotations

import http.client
import json
import secrets
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest

from kg.build import build
from kg.extract.entities import SpacyExtractor
from kg.settings import Settings
from tests.conftest import ROOT, SEED_EPOCH, kg_serve


class Listener:
    """A TCP listener on 127.0.0.1 that records every connection made to it."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/"
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.sock.close()


@dataclass
class Traps:
    listener: Listener
    secret_file: Path
    secret: str

    def fill(self, text: str) -> str:
        """text with {listener} and {secret} (also percent-encoded) replaced by their IRIs."""
        for name, value in (("{listener}", self.listener.url), ("{secret}", self.secret_file.as_uri())):
            text = text.replace(name, value).replace(quote(name, safe=""), quote(value, safe=""))
        return text


@pytest.fixture(scope="module")
def traps(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Traps]:
    secret = "kg-secret-" + secrets.token_hex(8)
    secret_file = tmp_path_factory.mktemp("secret") / "secret.txt"
    secret_file.write_text(secret, encoding="utf-8")
    listener = Listener()
    yield Traps(listener, secret_file, secret)
    listener.close()


@pytest.fixture(scope="module")
def server(built: Path) -> Iterator[str]:
    with kg_serve(built, {"KG_QUERY_TIMEOUT": "2", "KG_MAX_QUERY_LENGTH": "5000"}) as url:
        yield url


def _request(
    url: str, method: str, target: str, body: bytes = b"", headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    """One raw HTTP request (http.client sends the target exactly as given)."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    try:
        conn.putrequest(method, target, skip_accept_encoding=True)
        for name, value in (headers or {}).items():
            conn.putheader(name, value)
        if body or method == "POST":
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body or None)
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def q(query: str) -> str:
    return "/sparql?query=" + quote(query, safe="")


JSON = {"Accept": "application/sparql-results+json"}
HTML = {"Accept": "text/html"}
SPARQL_BODY = {"Content-Type": "application/sparql-query", **JSON}
FORM = {"Content-Type": "application/x-www-form-urlencoded", **JSON}
CARTESIAN = "SELECT (COUNT(*) AS ?n) { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"

# name: (method, target, body, headers, status, text the body must contain)
ENDPOINT_CASES: dict[str, tuple[str, str, str | bytes, dict[str, str], int, str]] = {
    "update parameter": (
        "GET",
        "/sparql?update=" + quote("INSERT DATA { <urn:a> <urn:b> <urn:c> }"),
        "",
        JSON,
        403,
        "read-only",
    ),
    "update body": (
        "POST",
        "/sparql",
        "INSERT DATA { <urn:a> <urn:b> <urn:c> }",
        {"Content-Type": "application/sparql-update"},
        403,
        "read-only",
    ),
    "update form field": ("POST", "/sparql", "update=" + quote("DELETE WHERE { ?s ?p ?o }"), FORM, 403, "read-only"),
    "INSERT as a query": ("GET", q("INSERT DATA { <urn:a> <urn:b> <urn:c> }"), "", JSON, 403, "INSERT"),
    "LOAD": ("GET", q("LOAD <{listener}data.ttl>"), "", JSON, 403, "LOAD"),
    "CLEAR": ("GET", q("CLEAR ALL"), "", JSON, 403, "CLEAR"),
    "DROP": ("POST", "/sparql", "DROP GRAPH <urn:g>", SPARQL_BODY, 403, "DROP"),
    "DELETE WHERE by POST": ("POST", "/sparql", "DELETE WHERE { ?s ?p ?o }", SPARQL_BODY, 403, "DELETE"),
    "CREATE, MOVE, COPY, ADD": ("GET", q("COPY DEFAULT TO <urn:g>"), "", JSON, 403, "read-only"),
    "SERVICE": ("GET", q("SELECT * { SERVICE <{listener}sparql> { ?s ?p ?o } }"), "", JSON, 403, "SERVICE"),
    "SERVICE lower case, no spaces": ("GET", q("select * {service<{listener}>{?s ?p ?o}}"), "", JSON, 403, "SERVICE"),
    "SERVICE SILENT in a form": (
        "POST",
        "/sparql",
        "query=" + quote("SELECT * { SERVICE SILENT <{listener}> { ?s ?p ?o } }"),
        FORM,
        403,
        "SERVICE",
    ),
    "FROM a remote IRI": ("GET", q("SELECT * FROM <{listener}data.ttl> { ?s ?p ?o }"), "", JSON, 200, '"bindings": []'),
    "FROM a local file": ("GET", q("SELECT * FROM <{secret}> { ?s ?p ?o }"), "", JSON, 200, '"bindings": []'),
    "FROM NAMED a local file": (
        "GET",
        q("SELECT * FROM NAMED <{secret}> { GRAPH ?g { ?s ?p ?o } }"),
        "",
        JSON,
        200,
        '"bindings": []',
    ),
    "default-graph-uri a local file": (
        "GET",
        q("SELECT * { ?s ?p ?o }") + "&default-graph-uri=" + quote("{secret}"),
        "",
        JSON,
        200,
        '"bindings": []',
    ),
    "query too long": ("GET", q("ASK { }" + " " * 6000), "", JSON, 413, "limit is 5000"),
    "body too large": ("POST", "/sparql", "ASK {}" + " " * 3_000_000, SPARQL_BODY, 413, "Too Large"),
    "bad percent-encoding": ("GET", "/sparql?query=%ZZ", "", JSON, 400, "malformed query"),
    "invalid UTF-8 in a parameter": ("GET", "/sparql?query=ASK%20%7B%7D%FF%FE", "", JSON, 400, "not UTF-8"),
    "invalid UTF-8 in a form": ("POST", "/sparql", "query=ASK%20%7B%7D%C3%28", FORM, 400, "not UTF-8"),
    "invalid UTF-8 in a body": ("POST", "/sparql", b"ASK {} \xff\xfe", SPARQL_BODY, 400, "not readable text"),
    "unknown parameter": ("GET", q("ASK {}") + "&qeury=x", "", JSON, 400, "unknown parameter 'qeury'"),
    "two queries": ("GET", q("ASK {}") + "&query=ASK%7B%7D", "", JSON, 400, "exactly one query"),
    "empty query": ("GET", "/sparql?query=", "", JSON, 400, "the query is empty"),
    "malformed query": ("GET", q("SELECT * WHERE { ?s ?p }"), "", JSON, 400, "malformed query"),
    "unknown body type": ("POST", "/sparql", "ASK {}", {"Content-Type": "text/plain"}, 415, "application/sparql-query"),
    "body not UTF-8 by charset": (
        "POST",
        "/sparql",
        "ASK {}",
        {"Content-Type": "application/sparql-query; charset=latin1"},
        415,
        "UTF-8",
    ),
    "cartesian product": ("GET", q(CARTESIAN), "", JSON, 503, "time limit and was stopped"),
    "PUT on the endpoint": ("PUT", "/sparql", "x", JSON, 405, "Method Not Allowed"),
    "DELETE on a dump": ("DELETE", "/dumps/kg.nt", "", {}, 405, "Method Not Allowed"),
    "dump traversal, encoded": ("GET", "/dumps/..%2F..%2F..%2Fetc%2Fpasswd", "", {}, 404, "Not Found"),
    "dump traversal, plain": ("GET", "/dumps/../build.json", "", {}, 404, "Not Found"),
    "resource traversal": ("GET", "/article/..%2F..%2F..%2Fetc%2Fpasswd", "", {}, 404, "Not Found"),
    "NUL in a path": ("GET", "/entity/%00", "", {}, 404, "Not Found"),
    "very long path": ("GET", "/entity/" + "x" * 10_000, "", {}, 404, "Not Found"),
    "nonsense Accept": ("GET", "/dataset", "", {"Accept": ";;;,,q=abc, */*;q=nope"}, 406, "Offered media types"),
    "unknown format": ("GET", "/dataset?format=evil", "", {}, 406, "turtle"),
    "default-graph-uri not an IRI": (
        "GET",
        q("ASK {}") + "&default-graph-uri=" + quote("not an iri"),
        "",
        JSON,
        400,
        "query failed",
    ),
    "script in a result": (
        "GET",
        q('SELECT ("<script>alert(1)</script>" AS ?x) {}'),
        "",
        HTML,
        200,
        "&lt;script&gt;alert(1)",
    ),
}


@pytest.mark.parametrize("name", sorted(ENDPOINT_CASES))
def test_endpoint_under_hostile_requests(server: str, traps: Traps, name: str) -> None:
    method, target, body, headers, status, expected = ENDPOINT_CASES[name]
    before = traps.listener.connections
    data = body if isinstance(body, bytes) else traps.fill(body).encode("utf-8")
    got, response_headers, content = _request(server, method, traps.fill(target), data, headers)
    text = content.decode("utf-8", errors="replace")
    assert got == status, text[:500]
    assert expected in text
    assert traps.listener.connections == before, "the server opened a connection"
    assert traps.secret not in text, "the server read a local file"
    assert "Traceback" not in text
    if response_headers.get("content-type", "").startswith("text/html"):
        assert "content-security-policy" in response_headers


@pytest.mark.parametrize(
    ("name", "iri"), [("javascript", "javascript:alert(1)"), ("data", "data:text/html,%3Cb%3Ex%3C/b%3E")]
)
def test_script_and_data_iris_never_become_links(server: str, name: str, iri: str) -> None:
    status, _, content = _request(server, "GET", q(f"SELECT (<{iri}> AS ?x) {{}}"), headers=HTML)
    assert status == 200
    text = content.decode("utf-8")
    assert f'href="{iri.split(":")[0]}:' not in text
    assert iri in text  # shown, as text


def test_huge_headers_are_refused(server: str) -> None:
    status, _, _ = _request(server, "GET", "/", headers={"X-Big": "a" * 300_000})
    assert status == 431


# --- kg validate ---------------------------------------------------------------------------

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE rdf:RDF [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:s="http://schema.org/">
<rdf:Description rdf:about="urn:x"><s:name>&d;</s:name></rdf:Description></rdf:RDF>"""
EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!doctype rdf:RDF [<!ENTITY secret SYSTEM "{secret}">]>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:s="http://schema.org/">
<rdf:Description rdf:about="urn:x"><s:name>&secret;</s:name></rdf:Description></rdf:RDF>"""

# name: (file name, content, exit code, text the output must contain)
VALIDATE_CASES: dict[str, tuple[str, str, int, str]] = {
    "JSON-LD remote context": (
        "a.jsonld",
        json.dumps({"@context": "{listener}ctx.jsonld", "@id": "urn:x"}),
        2,
        "refused",
    ),
    "JSON-LD file context": ("a.jsonld", json.dumps({"@context": "{secret}", "@id": "urn:x"}), 2, "refused"),
    "JSON-LD context list": (
        "a.jsonld",
        json.dumps({"@context": [{"s": "http://schema.org/"}, "{listener}c"]}),
        2,
        "refused",
    ),
    "JSON-LD scoped context": (
        "a.jsonld",
        json.dumps(
            {"@context": {"p": {"@id": "urn:p", "@context": "{listener}c"}}, "@id": "urn:x", "p": {"@id": "urn:y"}}
        ),
        2,
        "refused",
    ),
    "JSON-LD @import": (
        "a.jsonld",
        json.dumps({"@context": {"@version": 1.1, "@import": "{listener}c"}, "@id": "urn:x"}),
        2,
        "@import",
    ),
    "RDF/XML billion laughs": ("a.rdf", BILLION_LAUGHS, 2, "DOCTYPE or ENTITY"),
    "RDF/XML external entity": ("a.rdf", EXTERNAL_ENTITY, 2, "DOCTYPE or ENTITY"),
    "owl:imports in data": (
        "a.ttl",
        "<urn:x> <http://www.w3.org/2002/07/owl#imports> <{listener}o.ttl> .",
        0,
        "conforms",
    ),
    "graph named by a file IRI": ("a.trig", "<{secret}> { <urn:x> <urn:p> <urn:y> }", 0, "conforms"),
    "broken Turtle": ("a.ttl", "<urn:x> <urn:p> .", 2, "a.ttl: line 1"),
}


@pytest.mark.parametrize("name", sorted(VALIDATE_CASES))
def test_validate_under_hostile_documents(traps: Traps, tmp_path: Path, name: str) -> None:
    file_name, content, code, expected = VALIDATE_CASES[name]
    path = tmp_path / file_name
    path.write_text(traps.fill(content), encoding="utf-8")
    before = traps.listener.connections
    run = subprocess.run(
        [sys.executable, "-m", "kg.cli", "validate", str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = run.stdout + run.stderr
    assert run.returncode == code, output
    assert expected in output
    assert traps.listener.connections == before, "kg validate opened a connection"
    assert traps.secret not in output, "kg validate read a local file"
    assert "Traceback" not in output


# --- kg build ------------------------------------------------------------------------------

GOOD = (
    "Mayor opens new bridge\nBy Ana Ruiz\nAug. 5, 2018\nPITTSBURGH — Mayor Bill Peduto opened the bridge on Sunday.\n"
)

# file name: (bytes, None if the file builds, else text its problem must contain)
RAW_CASES: dict[str, tuple[bytes, str | None]] = {
    "empty.txt": (b"", "empty file"),
    "blank.txt": (b"  \n\n\t\n", "empty file"),
    "binary.txt": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "binary file"),
    "huge.txt": (b"Headline\n\n" + b"x" * 50_000_000, "file is 50,000,010 bytes; the limit is 10,000,000"),
    "no-headline.txt": (b"|\nBody text here.\n", "no headline"),
    "no-body.txt": (b"Just a headline\n", "no article body"),
    "future.txt": (GOOD.replace("Aug. 5, 2018", "Jan. 1, 2999").encode(), "after the build date"),
    "long-headline.txt": (("A" * 10_000 + "\nBy Ana Ruiz\n\nBody text here.\n").encode(), "10,000 characters"),
    "controls.txt": (GOOD.replace("opened", "op\x07en\x1bed").encode(), None),
    "rtl.txt": ("رئيس البلدية يفتتح جسراً\nBy Ana Ruiz\n\nשלום עולם. Mayor Bill Peduto spoke.\n".encode(), None),
    "emoji.txt": (GOOD.replace("new bridge", "new bridge 🌉🎉").encode(), None),
    "bom.txt": (b"\xef\xbb\xbf" + GOOD.encode(), None),
    "cp1252.txt": (GOOD.replace("opened the bridge", "opened \u201cthe bridge\u201d").encode("cp1252"), None),
    "mixed.txt": (GOOD.replace("Ruiz", "Ruíz").encode() + "Caf\xe9 owners cheered.\n".encode("cp1252"), None),
    "utf16.txt": (GOOD.encode("utf-16"), None),
    "crlf.txt": (GOOD.replace("\n", "\r\n").encode(), None),
    "invalid-utf8-bom.txt": (b"\xef\xbb\xbf" + GOOD.encode() + b"\xff\xfe bad bytes\n", None),
}


@pytest.fixture(scope="module")
def hostile_build(tmp_path_factory: pytest.TempPathFactory, extractor: SpacyExtractor) -> tuple[Path, object]:
    import os

    raw = tmp_path_factory.mktemp("hostile-raw")
    for name, (data, _) in RAW_CASES.items():
        (raw / name).write_bytes(data)
    out = raw.parent / "hostile-out"
    old = os.environ.get("SOURCE_DATE_EPOCH")
    os.environ["SOURCE_DATE_EPOCH"] = SEED_EPOCH
    try:
        result = build(
            Settings(raw_dir=raw, out_dir=out, shapes_dir=ROOT / "shapes", ontology_dir=ROOT / "ontology"),
            extractor=extractor,
            allow_invalid=True,
        )
    finally:
        if old is None:
            os.environ.pop("SOURCE_DATE_EPOCH", None)
        else:
            os.environ["SOURCE_DATE_EPOCH"] = old
    return out, result


@pytest.mark.parametrize("name", sorted(RAW_CASES))
def test_build_under_hostile_raw_files(hostile_build: tuple[Path, object], name: str) -> None:
    out, result = hostile_build
    _, expected = RAW_CASES[name]
    problems = {Path(p.file).name: p.reason for p in result.problems}  # type: ignore[attr-defined]
    manifest = json.loads((out / "build.json").read_text(encoding="utf-8"))
    sources = (out / "kg.nt").read_text(encoding="utf-8")
    if expected is None:
        assert name not in problems
        assert f'"{name}"' in sources  # its source file is in the graph
    else:
        assert expected in problems[name]
        assert f'"{name}"' not in sources  # and nothing of it
        assert any(p["file"].endswith(name) for p in manifest["problems"])


def test_hostile_text_is_kept_faithfully(hostile_build: tuple[Path, object]) -> None:
    out, _ = hostile_build
    nt = (out / "kg.nt").read_text(encoding="utf-8")
    assert "رئيس البلدية يفتتح جسراً" in nt  # right-to-left headline as written
    assert "new bridge 🌉🎉" in nt
    assert "opened \\u201Cthe bridge\\u201D" in nt or "opened “the bridge”" in nt  # CP1252 smart quotes
    assert "Ruíz" in nt and "Café owners" in nt  # both halves of the mixed file
    assert "\\u0007" not in nt and "\\u001B" not in nt  # control characters dropped


@pytest.mark.parametrize(
    ("query", "allowed"),
    [
        ("SELECT * { SERVICE <http://allowed.example/sparql> { ?s ?p ?o } }", True),
        ("SELECT * { SERVICE SILENT <http://allowed.example/sparql> { ?s ?p ?o } }", True),
        ("SELECT * { SERVICE <http://other.example/sparql> { ?s ?p ?o } }", False),
        ("SELECT * { SERVICE ?endpoint { ?s ?p ?o } }", False),
        ("PREFIX e: <http://allowed.example/> SELECT * { SERVICE e:sparql { ?s ?p ?o } }", False),
        (
            "SELECT * { SERVICE <http://allowed.example/sparql> { ?s ?p ?o } "
            "SERVICE <http://other.example/sparql> { ?s ?p ?o } }",
            False,
        ),
    ],
)
def test_service_allowlist(settings: Settings, query: str, allowed: bool) -> None:
    """SERVICE may call only endpoints named on service_allowlist, by full IRI."""
    from kg.query import QueryError, check_policy

    policy = settings.replace(service_allowlist="http://allowed.example/sparql")
    if allowed:
        check_policy(query, policy)
    else:
        with pytest.raises(QueryError) as exc:
            check_policy(query, policy)
        assert exc.value.status == 403 and "is not allowed" in exc.value.message
    with pytest.raises(QueryError, match="SERVICE \\(federated query\\) is disabled"):
        check_policy(query, settings)  # the default: no SERVICE at all


def test_keyword_checks_read_words_as_the_per_keyword_patterns_did() -> None:
    """The policy reads keywords in one pass over the query's words; on random text it finds
    an update keyword, SERVICE, FROM and NOW()/RAND()... exactly where the case-insensitive
    pattern per keyword it replaced matched (not inside names, variables or prefixes)."""
    import random
    import re

    from kg.query import keywords

    def old(words: list[str], code: str) -> bool:
        keyword = r"(?<![\w:?$]){}(?![\w:-])"
        return re.search("|".join(keyword.format(w) for w in words), code, re.IGNORECASE) is not None

    groups = [
        ["INSERT", "DELETE", "LOAD", "CLEAR", "DROP", "CREATE", "ADD", "MOVE", "COPY"],
        ["SERVICE"],
        ["FROM"],
        ["NOW", "RAND", "UUID", "STRUUID", "BNODE", "SERVICE"],
    ]
    pieces = ["insert", "Delete", "LOAD", "from", "now", "rand", "x", ":", "?", "$", "-", " ", "_", "1", "(", "a:"]
    rng = random.Random(11)
    for _ in range(20_000):
        code = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 8)))
        found = keywords(code)
        for words in groups:
            assert old(words, code) == any(w in words for w in found), (code, words)
