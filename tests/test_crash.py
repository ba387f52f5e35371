"""Crash safety: `kg build` killed (SIGKILL) at many points leaves the previous out/ whole
and consistent; the next build cleans up after it; two builds never write at once."""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from kg.build import BuildError, build
from kg.extract.entities import SpacyExtractor
from kg.fileio import exclusive_lock
from kg.settings import Settings
from tests.conftest import RAW, ROOT, SEED_EPOCH, kg_serve


def _checksums_hold(out: Path) -> bool:
    """Every file SHA256SUMS lists exists with that checksum."""
    for line in (out / "SHA256SUMS").read_text(encoding="utf-8").splitlines():
        digest, name = line.split(maxsplit=1)
        if hashlib.sha256((out / name.lstrip("*")).read_bytes()).hexdigest() != digest:
            return False
    return True


def _kg_build(out: Path, raw: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "kg.cli", "build", "--raw", str(raw), "--out", str(out)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "SOURCE_DATE_EPOCH": str(int(SEED_EPOCH) + 60)},
    )


def test_killing_a_build_at_any_moment_keeps_the_previous_out(built: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    shutil.copytree(built, out)
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file() and "store" not in p.parts}
    started = time.monotonic()
    assert _kg_build(tmp_path / "timing-out", RAW).wait(timeout=300) == 0
    duration = time.monotonic() - started
    rng = random.Random(20261123)
    kills = sorted(rng.uniform(0.05, 0.98) * duration for _ in range(8))
    for delay in kills:
        proc = _kg_build(out, RAW)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        after = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file() and "store" not in p.parts}
        if after != before:  # the build finished before the kill: then it is the new build, whole
            assert (
                json.loads((out / "build.json").read_text())["finished"]
                != json.loads(before[Path("build.json")])["finished"]
            )
            before = after
        assert _checksums_hold(out), f"out/ inconsistent after a kill at {delay:.2f} s"
        store = subprocess.run(
            [sys.executable, "-m", "kg.cli", "query", "--out", str(out), "--format", "json", "ASK { ?s ?p ?o }"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert store.returncode == 0 and '"boolean": true' in store.stdout, store.stderr
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(".out.")]
    assert _kg_build(out, RAW).wait(timeout=300) == 0
    left = sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".out."))
    assert left == [".out.cache", ".out.lock"], leftovers
    assert _checksums_hold(out)


def test_a_second_build_on_the_same_out_is_refused(tmp_path: Path, extractor: SpacyExtractor) -> None:
    out = tmp_path / "out"
    with exclusive_lock(tmp_path / ".out.lock"), pytest.raises(BuildError, match="another kg build is writing"):
        build(Settings(raw_dir=RAW, out_dir=out), extractor=extractor)
    assert not out.exists()


def test_a_running_server_switches_to_the_new_build_without_a_failed_request(built: Path, tmp_path: Path) -> None:
    """kg serve keeps answering from the old build while kg build runs on the same out/,
    then serves the new one; no request in between fails."""
    import threading

    from tests.conftest import kg_serve

    out = tmp_path / "out"
    shutil.copytree(built, out)
    old_finished = json.loads((out / "build.json").read_text())["finished"]
    with kg_serve(out, {"KG_CLIENT_QUERIES": "10"}) as url:  # three hammering threads, one client
        failures: list[str] = []
        seen: set[str] = set()
        stop = threading.Event()

        def hammer() -> None:
            paths = ["/health", "/dataset", "/sparql?query=ASK%7B%3Fs%20%3Fp%20%3Fo%7D", "/dumps/kg.nt"]
            while not stop.is_set():
                for path in paths:
                    try:
                        with urllib.request.urlopen(url + path, timeout=30) as response:
                            body = response.read()
                            if path == "/health":
                                seen.add(json.loads(body)["finished"])
                    except (urllib.error.URLError, ConnectionError) as exc:
                        failures.append(f"{path}: {exc}")

        threads = [threading.Thread(target=hammer) for _ in range(3)]
        for thread in threads:
            thread.start()
        try:
            assert _kg_build(out, RAW).wait(timeout=300) == 0
            new_finished = json.loads((out / "build.json").read_text())["finished"]
            time.sleep(1.0)
        finally:
            stop.set()
            for thread in threads:
                thread.join()
        assert not failures, failures[:5]
        assert new_finished != old_finished
        assert seen == {old_finished, new_finished}
        with urllib.request.urlopen(url + "/health", timeout=30) as response:
            assert json.loads(response.read())["finished"] == new_finished


def test_serve_refuses_a_build_that_does_not_match_its_checksums(out_copy: Path) -> None:
    with (out_copy / "kg.nt").open("ab") as handle:
        handle.write(b"<urn:x> <urn:y> <urn:z> .\n")
    run = subprocess.run(
        [sys.executable, "-m", "kg.cli", "serve", "--out", str(out_copy), "--port", "0"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 2
    assert "does not match its SHA256SUMS: kg.nt: " in run.stderr and "bytes, not the" in run.stderr


def test_serve_reports_a_same_size_change_found_by_the_background_check(out_copy: Path) -> None:
    """Hashing every dump takes seconds per GB, so it runs after the server starts; a file
    changed without changing its size turns /health to 503 and names the file."""
    data = bytearray((out_copy / "kg.ttl").read_bytes())
    data[-3:-2] = b"X"
    (out_copy / "kg.ttl").write_bytes(bytes(data))
    with kg_serve(out_copy, ready="/dumps/") as url:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(url + "/health", timeout=10) as response:
                    assert json.loads(response.read())["checksums"] in ("pending", "ok")
            except urllib.error.HTTPError as exc:
                assert exc.code == 503
                assert json.loads(exc.read())["checksums"] == ["kg.ttl: checksum differs"]
                break
            assert time.monotonic() < deadline, "the background check never reported the change"
            time.sleep(0.2)
