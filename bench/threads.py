"""Where a build's CPU goes, stage by stage and thread by thread (Linux):
`python -m bench.threads -- kg build --force --raw DIR --out DIR`.

Runs the command, reads every thread's CPU time (user + system, from /proc) of it and its
child processes twice a second, and splits the run at the stage lines the build prints on
stderr ("kg build: [1m02s] resolved ...; mapping"). For each stage it prints the wall time,
the CPU time of all threads, and how it is shared: the build's main thread, its other
threads by name (RocksDB's background compaction shows as `rocksdb:low`, the store's bulk
load as the process's own name), and the child processes' main threads (validation
workers, the JSON-LD writer). CPU left idle in a stage is cores x wall minus the total:
where that is large, the stage waits on something other than the CPU."""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
#: stderr lines that are progress, not stages
_PROGRESS = (" articles (", " parts (")


def process_tree(root: int) -> list[int]:
    """root and every process descended from it (from /proc's children lists; processes
    that end meanwhile are left out)."""
    tree, pending = [], [root]
    while pending:
        pid = pending.pop()
        tree.append(pid)
        with contextlib.suppress(OSError):  # gone meanwhile
            for task in os.listdir(f"/proc/{pid}/task"):
                with contextlib.suppress(OSError):
                    pending += [int(c) for c in Path(f"/proc/{pid}/task/{task}/children").read_text().split()]
    return tree


def thread_times(root: int) -> dict[tuple[int, int], tuple[str, float]]:
    """(pid, tid) -> (label, CPU seconds so far) for every thread of root and its descendants.
    Labels: 'main thread' (root's), 'child main threads', and other threads by name
    ('child: NAME' in a child process)."""
    times: dict[tuple[int, int], tuple[str, float]] = {}
    for pid in process_tree(root):
        try:
            tasks = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for task in tasks:
            try:
                stat = Path(f"/proc/{pid}/task/{task}/stat").read_text()
            except OSError:
                continue
            name = stat[stat.index("(") + 1 : stat.rindex(")")]
            fields = stat[stat.rindex(")") + 2 :].split()
            seconds = (int(fields[11]) + int(fields[12])) / _TICKS  # utime + stime
            tid = int(task)
            if pid == root:
                label = "main thread" if tid == pid else name
            else:
                label = "child main threads" if tid == pid else f"child: {name}"
            times[(pid, tid)] = (label, seconds)
    return times


@dataclass
class Stage:
    name: str
    seconds: float
    cpu: dict[str, float]  # label -> CPU seconds in the stage


def _stage_cpu(
    before: dict[tuple[int, int], tuple[str, float]], after: dict[tuple[int, int], tuple[str, float]]
) -> dict[str, float]:
    shares: dict[str, float] = defaultdict(float)
    for key, (label, seconds) in after.items():
        shares[label] += seconds - before.get(key, (label, 0.0))[1]
    return shares


def profile(command: Sequence[str], every: float = 0.5) -> tuple[list[Stage], int]:
    """Run command; its stages (split at its stderr lines that are not progress) and exit code."""
    start = time.perf_counter()
    process = subprocess.Popen(list(command), stderr=subprocess.PIPE, text=True, bufsize=1)
    marks: list[tuple[float, str]] = [(0.0, "starting")]

    def read_stderr() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            sys.stderr.write(line)
            if line.strip() and not any(p in line for p in _PROGRESS):
                marks.append((time.perf_counter() - start, line.strip()))

    reader = threading.Thread(target=read_stderr, daemon=True)
    reader.start()
    samples: list[tuple[float, dict[tuple[int, int], tuple[str, float]]]] = []
    latest: dict[tuple[int, int], tuple[str, float]] = {}
    while process.poll() is None:
        latest = {**latest, **thread_times(process.pid)}  # threads that ended keep their last time
        samples.append((time.perf_counter() - start, latest))
        time.sleep(every)
    reader.join()
    marks.append((time.perf_counter() - start, "end"))

    def at(moment: float) -> dict[tuple[int, int], tuple[str, float]]:
        seen: dict[tuple[int, int], tuple[str, float]] = {}
        for when, times in samples:
            if when > moment:
                break
            seen = times
        return seen

    stages = [
        Stage(name, end - begin, _stage_cpu(at(begin), at(end) if nxt != "end" else latest))
        for (begin, name), (end, nxt) in zip(marks, marks[1:], strict=False)
    ]
    return stages, process.returncode


def stage_table(stages: list[Stage], cores: int) -> str:
    head = f"| {'stage (from the line that starts it)':<52} | {'wall s':>7} | {'CPU s':>7} | {'idle s':>7} |"
    rows = [
        head + " CPU by thread",
        f"|{'-' * 54}|{'-' * 9}|{'-' * 9}|{'-' * 9}|{'-' * 30}",
    ]
    for stage in stages:
        total = sum(stage.cpu.values())
        biggest = sorted(stage.cpu.items(), key=lambda item: -item[1])
        shares = ", ".join(f"{label} {seconds:.1f}" for label, seconds in biggest if seconds >= 0.1)
        idle = max(0.0, cores * stage.seconds - total)
        rows.append(f"| {stage.name[:52]:<52} | {stage.seconds:>7.1f} | {total:>7.1f} | {idle:>7.1f} | {shares}")
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", nargs=argparse.REMAINDER, help="the command to run, after --")
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("give the command to run after --")
    if not Path("/proc/self/task").is_dir():
        parser.error("this needs Linux's /proc")
    stages, code = profile(command)
    print(stage_table(stages, os.cpu_count() or 1))
    sys.exit(code)


if __name__ == "__main__":
    main()
