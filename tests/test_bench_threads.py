"""bench.threads: a real command's stages and the CPU of its threads and child processes,
read from /proc (no timings asserted: only where the CPU was found)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench.threads import Stage, profile, stage_table
from tests.conftest import ROOT

BUSY = """
import subprocess, sys
SPIN = "import time\\nend = time.process_time() + {}\\nwhile time.process_time() < end: pass"
print("kg build: [0s] working alone", file=sys.stderr, flush=True)
exec(SPIN.format(0.6))
print("kg build: mapping: 10/20 articles (5.0/s)", file=sys.stderr, flush=True)
print("kg build: [1s] handing work to a child", file=sys.stderr, flush=True)
subprocess.run([sys.executable, "-c", SPIN.format(1.5)], check=True)
"""

pytestmark = pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="bench.threads reads Linux's /proc")


def test_profile_splits_at_stage_lines_and_finds_whose_cpu_it_was() -> None:
    stages, code = profile([sys.executable, "-c", BUSY], every=0.1)
    assert code == 0
    assert [s.name for s in stages] == [
        "starting",
        "kg build: [0s] working alone",
        "kg build: [1s] handing work to a child",
    ]
    alone, handed = stages[1], stages[2]
    assert alone.cpu["main thread"] > 0.3 and alone.cpu["child main threads"] == 0
    assert handed.cpu["child main threads"] > 0.5 and handed.cpu["main thread"] < handed.cpu["child main threads"]
    table = stage_table(stages, cores=2)
    assert "| kg build: [1s] handing work to a child" in table and "child main threads" in table
    assert all(stage.idle is not None and stage.idle >= 0 for stage in stages)  # the machine's, from /proc/stat


def test_the_table_takes_idle_from_the_machine_and_calls_unread_busy_time_other() -> None:
    """CPU time is the machine's busy time; what no thread reading accounts for (threads
    that ended between two readings) is "other"; without the machine's idle time, the
    threads' sum is all there is."""
    stages = [
        Stage("kg build: [0s] loading", 2.0, {"main thread": 1.0, "rocksdb:low": 0.5}, idle=1.0),
        Stage("kg build: [2s] waiting", 2.0, {"main thread": 1.0}, idle=None),
    ]
    rows = stage_table(stages, cores=2).splitlines()[2:]
    assert rows[0] == (
        f"| {'kg build: [0s] loading':<52} |     2.0 |     3.0 |     1.0 | other 1.5, main thread 1.0, rocksdb:low 0.5"
    )
    assert rows[1] == f"| {'kg build: [2s] waiting':<52} |     2.0 |     1.0 |     3.0 | main thread 1.0"


def test_command_line_runs_the_command_and_gives_its_exit_code() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench.threads", "--", sys.executable, "-c", "import sys; sys.exit(3)"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 3
    assert done.stdout.splitlines()[0].startswith("| stage (from the line that starts it)")
    missing = subprocess.run(
        [sys.executable, "-m", "bench.threads"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert missing.returncode == 2 and "give the command to run after --" in missing.stderr


def test_process_tree_finds_a_child_of_a_child() -> None:
    """What bench.threads and bench.soak both walk: a process, its child and the child's child."""
    from bench.threads import process_tree

    nap = "import time; time.sleep(5)"
    sleeper = f"import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', {nap!r}]); time.sleep(5)"
    parent = subprocess.Popen(
        [sys.executable, "-c", f"import subprocess, sys; subprocess.run([sys.executable, '-c', {sleeper!r}])"]
    )
    try:
        for _ in range(100):
            tree = process_tree(parent.pid)
            if len(tree) == 3:
                break
            time.sleep(0.05)
        assert tree[0] == parent.pid and len(tree) == 3
    finally:
        for pid in reversed(tree):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        parent.wait()
