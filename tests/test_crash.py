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
from pathlib import Path

import pytest

from kg.build import BuildError, build
from kg.extract.entities import SpacyExtractor
from kg.fileio import exclusive_lock
from kg.settings import Settings
from tests.conftest import RAW, ROOT, SEED_EPOCH


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
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out.")] == [".out.lock"], leftovers
    assert _checksums_hold(out)


def test_a_second_build_on_the_same_out_is_refused(tmp_path: Path, extractor: SpacyExtractor) -> None:
    out = tmp_path / "out"
    with exclusive_lock(tmp_path / ".out.lock"), pytest.raises(BuildError, match="another kg build is writing"):
        build(Settings(raw_dir=RAW, out_dir=out), extractor=extractor)
    assert not out.exists()
