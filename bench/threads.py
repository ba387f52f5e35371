"""Where a build's CPU goes, stage by stage and thread by thread (Linux):
`python -m bench.threads -- kg build --force --raw DIR --out DIR`.

Runs the command, reads every thread's CPU time (user + system, from /proc) of it and its
child processes twice a second, and splits the run at the stage lines the build prints on
stderr ("kg build: [1m02s] resolved ...; mapping"). For each stage it prints the wall time,
the CPU time of all threads, and how it is shared: the build's main thread, its other
threads by name (RocksDB's background compaction shows as `rocksdb:low`, the store's bulk
load as the process's own name), and the child processes' main threads (validation
workers, the JSON-LD writer). Idle is the machine's (idle and I/O wait in /proc/stat, so
run nothing else meanwhile): where that is large, the stage waits on something other than
the CPU. Threads that end between two readings lose their last half second (Oxigraph's
bulk loader runs each load on a thread of its own): "other" is the machine's busy time
that no thread read accounts for."""

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
    idle: float | None = None  # the machine's idle CPU seconds in the stage (None: unknown)


def machine_idle() -> float | None:
    """CPU seconds the machine has spent idle or waiting for I/O since boot (/proc/stat)."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()
    except OSError:
        return None
    return (int(fields[4]) + int(fields[5])) / _TICKS  # "cpu user nice system idle iowait ..."


def _stage_cpu(
    before: dict[tuple[int, int], tuple[str, float]], after: dict[tuple[int, int], tuple[str, float]]
) -> dict[str, float]:
    shares: dict[str, float] = defaultdict(float)
    for key, (label, seconds) in after.items():
        shares[label] += seconds - before.get(key, (label, 0.0))[1]
    return shares


def profile(command: Sequence[str], every: float = 0.5) -> tuple[list[Stage], int]:
    """Run command; its stages (split at its stderr lines that are not progress) and exit code."""
    idle_at_start = machine_idle()
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
    samples: list[tuple[float, dict[tuple[int, int], tuple[str, float]], float | None]] = [(0.0, {}, idle_at_start)]
    latest: dict[tuple[int, int], tuple[str, float]] = {}
    while process.poll() is None:
        latest = {**latest, **thread_times(process.pid)}  # threads that ended keep their last time
        samples.append((time.perf_counter() - start, latest, machine_idle()))
        time.sleep(every)
    reader.join()
    marks.append((time.perf_counter() - start, "end"))
    samples.append((marks[-1][0], latest, machine_idle()))

    def at(moment: float) -> tuple[dict[tuple[int, int], tuple[str, float]], float | None]:
        seen: tuple[dict[tuple[int, int], tuple[str, float]], float | None] = ({}, None)
        for when, times, idle in samples:
            if when > moment:
                break
            seen = (times, idle)
        return seen

    stages = []
    for (begin, name), (end, _next) in zip(marks, marks[1:], strict=False):
        (before, idle_before), (after, idle_after) = at(begin), at(end)
        idle = idle_after - idle_before if idle_before is not None and idle_after is not None else None
        stages.append(Stage(name, end - begin, _stage_cpu(before, after), idle))
    return stages, process.returncode


def stage_table(stages: list[Stage], cores: int) -> str:
    head = f"| {'stage (from the line that starts it)':<52} | {'wall s':>7} | {'CPU s':>7} | {'idle s':>7} |"
    rows = [
        head + " CPU by thread",
        f"|{'-' * 54}|{'-' * 9}|{'-' * 9}|{'-' * 9}|{'-' * 30}",
    ]
    for stage in stages:
        read = sum(stage.cpu.values())
        idle = max(0.0, cores * stage.seconds - read) if stage.idle is None else min(stage.idle, cores * stage.seconds)
        total = max(read, cores * stage.seconds - idle)
        cpu = {**stage.cpu, "other": total - read}
        biggest = sorted(cpu.items(), key=lambda item: -item[1])
        shares = ", ".join(f"{label} {seconds:.1f}" for label, seconds in biggest if seconds >= 0.1)
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
