"""Progress reporting: a bar on a terminal, periodic plain lines otherwise."""

from __future__ import annotations

import io
import re
import subprocess
import sys
from pathlib import Path

from kg.progress import Progress, Stages
from tests.conftest import RAW, ROOT


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_plain_lines_every_interval_with_rate_and_eta() -> None:
    stream, clock = io.StringIO(), Clock()
    progress = Progress("kg build: extracting entities", stream=stream, interval=5.0, clock=clock)
    for done in range(1, 101):
        clock.now = done * 0.5  # 2 articles/s
        progress(done, 100)
    lines = stream.getvalue().splitlines()
    assert lines[0] == "kg build: extracting entities: 1/100 articles (2.0/s, ETA 49s)"
    assert lines[1] == "kg build: extracting entities: 11/100 articles (2.0/s, ETA 44s)"
    assert lines[-1] == "kg build: extracting entities: 100/100 articles (2.0/s)"
    assert len(lines) == 11  # every 5 s, plus the end


def test_bar_on_a_terminal() -> None:
    stream, clock = Terminal(), Clock()
    progress = Progress("extracting", stream=stream, clock=clock)
    clock.now = 30.0
    progress(30, 120)
    assert stream.getvalue() == "\r[######..................] extracting: 30/120 articles (1.0/s, ETA 1m30s)"
    clock.now = 30.0
    progress(120, 120)
    assert stream.getvalue().endswith("120/120 articles (4.0/s)\n")


def test_kg_build_logs_progress_when_not_a_terminal(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "kg.cli", "build", "--raw", str(RAW), "--out", str(tmp_path / "out")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    assert "kg build: extracting entities: 2/2 articles (" in run.stderr
    assert "kg build: mapping: 2/2 articles (" in run.stderr
    assert "kg build: validating: 3/3 parts (" in run.stderr, "two article graphs and the other graphs"
    stages = [line.split("] ", 1)[1] for line in run.stderr.splitlines() if line.startswith("kg build: [")]
    assert [re.sub(r"\d+", "N", stage) for stage in stages] == [
        "read N articles; extracting their entities",
        "resolved N mentions to N entities; mapping",
        "mapped N quads; validating them and writing the dumps",
        "finishing the store load",
        "summarising the entities at least N articles mention",
        "finishing the validation",
    ]


def test_a_stage_on_a_terminal_clears_a_bar_drawn_on_its_line() -> None:
    """The validation's bar runs on beside the build's later stages: a stage line first
    clears the bar's line (which the bar draws again at its next step)."""
    stream, clock = Terminal(), Clock()
    Progress("validating", unit="parts", stream=stream, clock=clock)(1, 4)
    Stages("kg build", stream=stream, clock=clock)("summarising")
    assert stream.getvalue().endswith("\r\x1b[Kkg build: [0s] summarising\n")


def test_stages_say_when_each_began() -> None:
    stream, clock = io.StringIO(), Clock()
    stages = Stages("kg build", stream=stream, clock=clock)
    clock.now = 75.0
    stages("loading the store")
    assert stream.getvalue() == "kg build: [1m15s] loading the store\n"
