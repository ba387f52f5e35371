"""Shared fixtures: one real build of raw/ per session, the Flask app and its test client."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from kg.build import build
from kg.extract.entities import SpacyExtractor
from kg.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
RAW = ROOT / "raw"
SHARED = ROOT.parent / "shared"
#: 2018-08-06T00:00:00Z, the seed articles' publication day.
SEED_EPOCH = "1533513600"


class Clock:
    """A clock a test moves by hand (set .now)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def require_shared(sub: str = "") -> Path:
    """The ../shared folder (or a part of it), or skip saying why; CI always has it."""
    path = SHARED / sub
    if not path.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{path} is missing, but CI must have ../shared beside the clone")
        pytest.skip(f"needs {path} (../shared beside the clone; only CI and developers have it)")
    return path


def run_kg(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`kg ARGS` as a user runs it, from the repo root, with the seeds' SOURCE_DATE_EPOCH."""
    return subprocess.run(
        [sys.executable, "-m", "kg.cli", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "SOURCE_DATE_EPOCH": SEED_EPOCH, **(env or {})},
    )


@pytest.fixture(scope="session")
def extractor() -> SpacyExtractor:
    """One loaded spaCy pipeline for the whole session."""
    return SpacyExtractor()


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory, extractor: SpacyExtractor) -> Path:
    """out/ built from the shipped raw/ with SOURCE_DATE_EPOCH set (read-only for tests)."""
    out = tmp_path_factory.mktemp("build") / "out"
    old = os.environ.get("SOURCE_DATE_EPOCH")
    os.environ["SOURCE_DATE_EPOCH"] = SEED_EPOCH
    try:
        build(Settings(raw_dir=RAW, out_dir=out), extractor=extractor)
    finally:
        if old is None:
            del os.environ["SOURCE_DATE_EPOCH"]
        else:
            os.environ["SOURCE_DATE_EPOCH"] = old
    return out


@pytest.fixture()
def out_copy(built: Path, tmp_path: Path) -> Path:
    """A private copy of the session build that a test may change."""
    copy = tmp_path / "out"
    shutil.copytree(built, copy)
    return copy


@pytest.fixture(scope="session")
def settings(built: Path) -> Settings:
    return Settings(
        raw_dir=RAW,
        out_dir=built,
        shapes_dir=ROOT / "shapes",
        ontology_dir=ROOT / "ontology",
    )


@pytest.fixture()
def app(settings: Settings) -> Iterator[object]:
    from kg.web.app import create_app

    application = create_app(settings)
    application.config.update(TESTING=True)
    yield application


@pytest.fixture()
def client(app: object) -> object:
    return app.test_client()  # type: ignore[attr-defined]


@contextmanager
def kg_serve(out: Path, env: dict[str, str] | None = None, ready: str = "/health") -> Iterator[str]:
    """A real `kg serve` (waitress, a subprocess) on a free 127.0.0.1 port over out/, with
    extra environment (KG_* settings); yields its base URL once the ready path answers 200,
    and stops it afterwards. Its output goes to a file: a pipe nobody reads would block its
    logging."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "kg.cli", "serve", "--out", str(out), "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    with urllib.request.urlopen(url + ready, timeout=1):
                        break
                except (urllib.error.URLError, ConnectionError):
                    if time.monotonic() > deadline or proc.poll() is not None:
                        proc.kill()
                        log.seek(0)
                        pytest.fail(f"kg serve did not answer on {ready} within 30 s: {log.read().decode()}")
                    time.sleep(0.1)
            yield url
        finally:
            proc.terminate()
            proc.wait(timeout=10)
