"""The `kg` command as a user runs it: real subprocesses, exit codes, messages."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import RAW, ROOT, SEED_EPOCH

ARTICLE_000 = "http://127.0.0.1:8000/article/000_45883e71d61e1347"


def kg(*args: str, cwd: Path = ROOT, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "SOURCE_DATE_EPOCH": SEED_EPOCH, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "kg.cli", *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_version() -> None:
    run = kg("--version")
    assert run.returncode == 0
    assert re.match(r"kg, version \d+\.\d+", run.stdout)


def test_build_reports_bad_file_by_name_and_exits_nonzero(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    shutil.copytree(RAW, raw)
    (raw / "broken.txt").write_bytes(b"\x00\x01\x02binary")
    run = kg("build", "--raw", str(raw), "--out", str(tmp_path / "out"), "--base-iri", "http://example.org/kg/")
    assert run.returncode == 1
    assert "broken.txt: binary file" in run.stderr
    assert "built 2 articles" in run.stdout
    nt = (tmp_path / "out" / "kg.nt").read_text(encoding="utf-8")
    assert "<http://example.org/kg/article/000_45883e71d61e1347>" in nt


def test_build_with_bad_base_iri_is_a_usage_error(tmp_path: Path) -> None:
    run = kg("build", "--out", str(tmp_path / "out"), "--base-iri", "not an iri")
    assert run.returncode == 1
    assert "base IRI" in run.stderr
    assert not (tmp_path / "out").exists()


def test_validate_exit_codes(built: Path, tmp_path: Path) -> None:
    ok = kg("validate", "--out", str(built))
    assert ok.returncode == 0, ok.stdout + ok.stderr
    # the same build with one headline removed
    nt = (built / "kg.nt").read_text(encoding="utf-8")
    lines = [ln for ln in nt.splitlines() if not (ln.startswith(f"<{ARTICLE_000}> <http://schema.org/headline>"))]
    assert len(lines) == len(nt.splitlines()) - 1
    broken = tmp_path / "no-headline.nt"
    broken.write_text("\n".join(lines) + "\n", encoding="utf-8")
    bad = kg("validate", str(broken))
    assert bad.returncode == 1
    assert "headline" in bad.stdout.lower()
    # a file that does not parse
    garbage = tmp_path / "garbage.ttl"
    garbage.write_text('@prefix s: <http://schema.org/> .\n<a> s:name "x" ;\n  s:oops .\n', encoding="utf-8")
    unreadable = kg("validate", str(garbage))
    assert unreadable.returncode == 2
    assert "garbage.ttl" in unreadable.stderr
    assert re.search(r"line \d+", unreadable.stderr)


def test_validate_turtle_report_is_a_shacl_report(built: Path) -> None:
    run = kg("validate", "--out", str(built), "--format", "turtle")
    assert run.returncode == 0
    from rdflib import Graph
    from rdflib.namespace import SH

    report = Graph().parse(data=run.stdout, format="turtle")
    assert list(report.subjects(None, SH.ValidationReport))


def test_query_formats(built: Path) -> None:
    q = "SELECT ?h WHERE { ?a a schema:NewsArticle ; schema:headline ?h } ORDER BY ?h"
    table = kg("query", q, "--out", str(built))
    assert table.returncode == 0
    assert "Sen. Rand Paul goes to Moscow" in table.stdout
    assert "(2 rows)" in table.stdout
    as_json = kg("query", q, "--out", str(built), "--format", "json")
    assert len(json.loads(as_json.stdout)["results"]["bindings"]) == 2
    as_csv = kg("query", q, "--out", str(built), "--format", "csv")
    assert as_csv.stdout.splitlines()[0] == "h"


def test_query_from_file_and_construct(built: Path, tmp_path: Path) -> None:
    qf = tmp_path / "q.rq"
    qf.write_text("CONSTRUCT { ?a schema:headline ?h } WHERE { ?a schema:headline ?h }", encoding="utf-8")
    run = kg("query", "-f", str(qf), "--out", str(built), "--format", "turtle")
    assert run.returncode == 0
    from rdflib import Graph

    assert len(Graph().parse(data=run.stdout, format="turtle")) == 2


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("SELEC ?x", "malformed query"),
        ("INSERT DATA { <http://a> <http://b> <http://c> }", "read-only"),
        ("SELECT * WHERE { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }", "SERVICE"),
    ],
)
def test_query_errors(built: Path, query: str, message: str) -> None:
    run = kg("query", query, "--out", str(built))
    assert run.returncode == 2
    assert message in run.stderr


def test_query_without_build(tmp_path: Path) -> None:
    run = kg("query", "ASK {}", "--out", str(tmp_path / "none"))
    assert run.returncode == 2
    assert "run `kg build` first" in run.stderr


def test_info(built: Path) -> None:
    run = kg("info", "--out", str(built))
    assert run.returncode == 0
    assert "2 articles" in run.stdout


def test_settings_from_environment_and_toml(tmp_path: Path, built: Path) -> None:
    (tmp_path / "kg.toml").write_text(f'out_dir = "{built}"\n', encoding="utf-8")
    assert "2 articles" in kg("info", cwd=tmp_path).stdout
    (tmp_path / "kg.toml").write_text('port = "eighty"\n', encoding="utf-8")
    bad = kg("info", cwd=tmp_path)
    assert bad.returncode == 2
    assert "port" in bad.stderr


def test_serve_get_prints_one_response(built: Path) -> None:
    run = kg("serve", "--out", str(built), "--get", "/article/000_45883e71d61e1347", "--accept", "text/turtle")
    assert run.returncode == 0, run.stderr
    assert "HTTP 200" in run.stderr
    assert "Sen. Rand Paul goes to Moscow" in run.stdout
