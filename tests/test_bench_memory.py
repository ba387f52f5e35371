"""bench.memory's sampler: each stage gets the peak RSS of its own time, also when stages
overlap (the build validates on a thread beside its dumps). No timings asserted."""

from __future__ import annotations

import threading

from bench.memory import Sampler


def test_overlapping_stages_each_get_the_peak_of_their_own_time() -> None:
    sampler = Sampler(every=3600)  # samples given by hand below, none by its thread
    try:
        started, ended = threading.Event(), threading.Event()

        def beside() -> None:
            with sampler.stage("validation"):
                started.set()
                ended.wait(10)

        thread = threading.Thread(target=beside)
        thread.start()
        started.wait(10)
        sampler.note(10_000.0)  # while only the validation runs
        with sampler.stage("dumps"):
            sampler.note(5_000.0)
        with sampler.stage("summaries"):
            pass
        ended.set()
        thread.join(10)
    finally:
        sampler.stop()
    peaks = {stage.name: stage.peak_mb for stage in sampler.stages}
    assert peaks["validation"] == 10_000.0, "a stage that began later does not reset the peak of one still running"
    assert peaks["dumps"] == 5_000.0
    assert peaks["summaries"] < 5_000.0
    assert sampler.overall == 10_000.0
