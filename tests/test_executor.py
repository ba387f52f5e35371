"""The executor interface: a local process pool and a real Dask cluster (scheduler and two
workers as separate processes on 127.0.0.1) give the same results, and a build on the
cluster is byte-identical to a local build."""

from __future__ import annotations

import json
import operator
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from kg import executor as executor_module
from kg.build import build
from kg.executor import DaskExecutor, ExecutorError, LocalExecutor, executor_for, per_process
from kg.extract.entities import SpacyExtractor
from kg.settings import Settings, SettingsError
from kg.validate import load_quads, run_validation, validate_quads
from tests.conftest import RAW, ROOT, SEED_EPOCH
from tests.conftest import run_kg as kg

COMPARED = ("kg.nt", "kg.trig", "kg.ttl", "kg.jsonld", "void.ttl", "SHA256SUMS")
SHAPES, ONTOLOGY = ROOT / "shapes", ROOT / "ontology"


def _require_distributed() -> None:
    try:
        import distributed  # noqa: F401
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail("distributed is missing, but CI installs the dev extras (pip install -e '.[dev]')")
        pytest.skip("needs Dask distributed: pip install 'newskg[dask]'")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _address_in(scheduler_file: Path) -> str | None:
    """The scheduler's address, once it has written its file whole."""
    try:
        return str(json.loads(scheduler_file.read_text(encoding="utf-8"))["address"])
    except (OSError, ValueError, KeyError):
        return None


@pytest.fixture(scope="module")
def scheduler(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The address of a Dask scheduler with two one-thread workers, all separate processes
    listening on 127.0.0.1 only, with no dashboard; stopped after the module's tests."""
    _require_distributed()
    from distributed import Client

    folder = tmp_path_factory.mktemp("dask")
    info = folder / "scheduler.json"
    logs = []
    processes: list[subprocess.Popen[bytes]] = []

    def start(name: str, *args: str) -> subprocess.Popen[bytes]:
        log = (folder / f"{name}.log").open("wb")
        logs.append(log)
        process = subprocess.Popen([sys.executable, "-m", *args], cwd=folder, stdout=log, stderr=subprocess.STDOUT)
        processes.append(process)
        return process

    try:
        cli = "distributed.cli."
        scheduler_args = ["--host", "127.0.0.1", "--port", "0", "--no-dashboard", "--scheduler-file", str(info)]
        sched = start("scheduler", cli + "dask_scheduler", *scheduler_args)
        deadline = time.monotonic() + 60
        while (address := _address_in(info)) is None:
            if sched.poll() is not None or time.monotonic() > deadline:
                pytest.fail("the Dask scheduler did not start: " + (folder / "scheduler.log").read_text())
            time.sleep(0.1)
        assert address.startswith("tcp://127.0.0.1:")
        for i in range(2):
            start(
                f"worker{i}",
                cli + "dask_worker",
                address,
                "--nworkers",
                "1",
                "--nthreads",
                "1",
                "--no-dashboard",
                "--no-nanny",
                "--host",
                "127.0.0.1",
                "--local-directory",
                str(folder / f"worker{i}"),
            )
        with Client(address, timeout=30, set_as_default=False) as client:
            client.wait_for_workers(2, timeout=90)
        yield address
    finally:
        for process in reversed(processes):
            _stop(process)
        for log in logs:
            log.close()


def _worker_state(address: str) -> set[str]:
    """The kinds of per-process state (spacy, shacl) the cluster's workers hold."""
    from distributed import Client

    with Client(address, timeout=30, set_as_default=False) as client:
        held = client.run(lambda: [key[0] for key in __import__("kg.executor").executor._STATE])
    return {kind for kinds in held.values() for kind in kinds}


# --- the interface, without a cluster -------------------------------------------------------


def test_local_executor_yields_results_in_order_from_worker_processes() -> None:
    with LocalExecutor(2) as pool:
        assert list(pool.map(operator.add, range(20), 100)) == list(range(100, 120))
        assert list(pool.map(operator.add, iter([1]), 1)) == [2]  # one task: run here
        with pytest.raises(ZeroDivisionError):
            list(pool.map(operator.truediv, [1, 2, 0, 4], 1))


def test_per_process_makes_state_once_per_key() -> None:
    made: list[str] = []
    for _ in range(3):
        assert per_process(("test", "a"), lambda: made.append("a") or "A") == "A"
    assert per_process(("test", "b"), lambda: made.append("b") or "B") == "B"
    assert made == ["a", "b"]


def test_the_model_version_is_read_without_loading_the_model_and_matches_the_loaded_one() -> None:
    from kg.extract.entities import load_pipeline, model_version

    model = SpacyExtractor().model
    meta = load_pipeline(model).meta
    assert model_version(model).endswith(f"; model {meta['lang']}_{meta['name']} {meta['version']}")


def test_settings_name_the_executor_and_need_a_scheduler_for_dask() -> None:
    assert isinstance(executor_for(Settings()), LocalExecutor)
    with pytest.raises(SettingsError, match="--scheduler"):
        Settings().replace(executor="dask")
    with pytest.raises(SettingsError, match="not one of local, dask"):
        Settings().replace(executor="spark")


@pytest.mark.parametrize("command", ["build", "validate"])
def test_dask_without_a_scheduler_is_a_usage_error(command: str, tmp_path: Path) -> None:
    done = kg(command, "--out", str(tmp_path / "out"), "--executor", "dask")
    assert done.returncode == 2, done.stderr
    assert "--scheduler" in done.stderr
    assert not (tmp_path / "out").exists()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_an_unreachable_scheduler_is_a_clear_error_and_out_is_untouched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _require_distributed()
    from click.testing import CliRunner

    from kg.cli import cli

    monkeypatch.setattr(executor_module, "CONNECT_TIMEOUT", 2.0)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", SEED_EPOCH)
    monkeypatch.setenv("KG_CACHE_DIR", str(tmp_path / "cache"))
    address = f"tcp://127.0.0.1:{_free_port()}"
    out = tmp_path / "out"
    out.mkdir()
    (out / "previous").write_text("the previous build\n", encoding="utf-8")
    runner = CliRunner()
    args = ["--raw", str(RAW), "--out", str(out), "--executor", "dask", "--scheduler", address]
    done = runner.invoke(cli, ["build", *args])
    assert done.exit_code == 1, done.output
    assert f"cannot reach the Dask scheduler at {address}" in done.output
    assert sorted(p.name for p in tmp_path.iterdir()) == [".out.lock", "out"]  # no staging, no cache
    assert [p.name for p in out.iterdir()] == ["previous"]
    done = runner.invoke(cli, ["validate", str(ROOT / "tests"), "--executor", "dask", "--scheduler", address])
    assert done.exit_code == 2, done.output
    assert f"cannot reach the Dask scheduler at {address}" in done.output


# --- a real cluster -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def builds(scheduler: str, tmp_path_factory: pytest.TempPathFactory, extractor: SpacyExtractor) -> dict[str, Path]:
    """raw/ built locally (the Python API) and on the cluster (`kg build --executor dask`),
    each with a fresh extraction cache, so that extraction really runs."""
    folder = tmp_path_factory.mktemp("builds")
    old = os.environ.get("SOURCE_DATE_EPOCH")
    os.environ["SOURCE_DATE_EPOCH"] = SEED_EPOCH
    try:
        build(Settings(raw_dir=RAW, out_dir=folder / "local", cache_dir=folder / "local-cache"), extractor=extractor)
    finally:
        os.environ.pop("SOURCE_DATE_EPOCH", None)
        if old is not None:
            os.environ["SOURCE_DATE_EPOCH"] = old
    done = kg(
        "build",
        "--raw",
        str(RAW),
        "--out",
        str(folder / "dask"),
        "--executor",
        "dask",
        "--scheduler",
        scheduler,
        env={"KG_CACHE_DIR": str(folder / "dask-cache")},
    )
    assert done.returncode == 0, done.stderr
    assert "reused" not in done.stdout
    return {"local": folder / "local", "dask": folder / "dask"}


@pytest.mark.server
def test_a_build_on_the_cluster_is_byte_identical_to_a_local_build(builds: dict[str, Path], scheduler: str) -> None:
    for name in COMPARED:
        assert (builds["dask"] / name).read_bytes() == (builds["local"] / name).read_bytes(), name
    local, remote = (json.loads((builds[k] / "validation.json").read_text(encoding="utf-8")) for k in builds)
    assert remote == local
    assert {"spacy", "shacl"} <= _worker_state(scheduler)  # extraction and validation ran on the workers


@pytest.mark.server
def test_validation_on_the_cluster_finds_what_local_validation_finds(
    builds: dict[str, Path], scheduler: str, tmp_path: Path
) -> None:
    trig = (builds["local"] / "kg.trig").read_text(encoding="utf-8")
    broken = trig.replace('"2018-08-06"^^xsd:date', '"2999-08-06"^^xsd:date', 1)
    assert broken != trig
    (tmp_path / "kg.trig").write_text(broken, encoding="utf-8")
    shutil.copy(builds["local"] / "void.ttl", tmp_path / "void.ttl")
    inputs = [tmp_path / "kg.trig", tmp_path / "void.ttl"]
    local = run_validation(inputs, SHAPES, ONTOLOGY, jobs=1)
    assert [(r.path, r.severity) for r in local.results if r.severity == "Violation"] == [
        ("http://schema.org/datePublished", "Violation")
    ]
    with DaskExecutor(scheduler) as cluster:
        remote = run_validation(inputs, SHAPES, ONTOLOGY, executor=cluster)
        quads = sorted(load_quads([tmp_path / "kg.trig"]) or [], key=lambda q: str(q.graph_name))
        validated: list[int] = []
        one_per_task = validate_quads(
            lambda: quads,
            SHAPES,
            ONTOLOGY,
            articles_per_task=1,
            task_bytes=0,
            executor=cluster,
            validated=validated.append,
        )
    assert [r.key for r in remote.results] == [r.key for r in local.results]
    assert (remote.triples, remote.articles, remote.partitions) == (local.triples, local.articles, local.partitions)
    assert one_per_task.partitions == 3
    assert validated == [1, 2, 3], "parts validated so far, heard as each task's results came back"
    done = kg("validate", str(tmp_path / "kg.trig"), "--executor", "dask", "--scheduler", scheduler)
    assert done.returncode == 1, done.stderr
    assert "datePublished" in done.stdout
    assert [r.key for r in one_per_task.results] == [
        r.key for r in run_validation([tmp_path / "kg.trig"], SHAPES, ONTOLOGY, jobs=1).results
    ]


@pytest.mark.server
def test_the_dask_executor_yields_results_in_order_and_raises_task_errors(scheduler: str) -> None:
    with DaskExecutor(scheduler) as cluster:
        assert cluster.workers == 2
        assert list(cluster.map(operator.add, range(30), 100)) == list(range(100, 130))
        with pytest.raises(ZeroDivisionError):
            list(cluster.map(operator.truediv, [1, 2, 0, 4], 1))


def test_the_dask_executor_needs_an_address() -> None:
    with pytest.raises(ExecutorError, match="scheduler"):
        DaskExecutor("")


def _slow_task(folder: str, item: int) -> int:
    """An executor task that says where it runs, then takes two minutes."""
    Path(folder, f"worker-{os.getpid()}").touch()
    time.sleep(120)
    return item


_INTERRUPTED = """
import signal, sys
from kg.cli import _terminated
from kg.executor import LocalExecutor
from tests.test_executor import _slow_task
signal.signal(signal.SIGTERM, _terminated)
for _ in LocalExecutor(2).map(_slow_task, range(4), sys.argv[1]):
    pass
"""


def test_a_terminated_run_stops_its_worker_processes(tmp_path: Path) -> None:
    """SIGTERM to kg (as the CLI handles it) stops the local pool's workers at once, instead
    of leaving them to finish their tasks: a killed build once left a worker validating for
    half an hour."""
    run = subprocess.Popen([sys.executable, "-c", _INTERRUPTED, str(tmp_path)], cwd=ROOT)
    try:
        deadline = time.monotonic() + 60
        while len(list(tmp_path.glob("worker-*"))) < 2:
            assert time.monotonic() < deadline and run.poll() is None, "the workers never started"
            time.sleep(0.1)
        workers = [int(p.name.split("-")[1]) for p in tmp_path.glob("worker-*")]
        run.terminate()
        assert run.wait(timeout=20) == 128 + 15
        deadline = time.monotonic() + 10
        while any(_alive(pid) for pid in workers):
            assert time.monotonic() < deadline, f"worker processes {workers} still run after kg ended"
            time.sleep(0.1)
    finally:
        run.kill()


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"
