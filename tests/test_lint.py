"""The code stays ruff- and mypy-clean (run as part of the suite so CI enforces it)."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from tests.conftest import ROOT


@pytest.mark.skipif(
    shutil.which("ruff", path=str(ROOT / ".venv" / "bin")) is None and not shutil.which("ruff"),
    reason="ruff is a dev extra",
)
def test_ruff() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "kg", "tests", "bench"], cwd=ROOT, capture_output=True, text=True
    )
    assert run.returncode == 0, run.stdout + run.stderr


def test_mypy() -> None:
    pytest.importorskip("mypy")
    run = subprocess.run([sys.executable, "-m", "mypy", "kg"], cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr


def test_core_never_imports_flask_or_click() -> None:
    for path in (ROOT / "kg").rglob("*.py"):
        relative = path.relative_to(ROOT / "kg").as_posix()
        if relative.startswith("web/") or relative == "cli.py":
            continue
        text = path.read_text(encoding="utf-8")
        for module in ("flask", "click", "werkzeug"):
            assert f"import {module}" not in text and f"from {module}" not in text, f"kg/{relative} imports {module}"
