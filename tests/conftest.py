"""Shared fixtures: one real build of raw/ per session, the Flask app and its test client."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
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


def require_shared(sub: str = "") -> Path:
    """The ../shared folder (or a part of it), or skip saying why; CI always has it."""
    path = SHARED / sub
    if not path.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{path} is missing, but CI must have ../shared beside the clone")
        pytest.skip(f"needs {path} (../shared beside the clone; only CI and developers have it)")
    return path


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
