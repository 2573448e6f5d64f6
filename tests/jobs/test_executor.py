"""Executors share the database: a job runs once however many workers see it."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest

from reelstack.assets import pipeline
from reelstack.bootstrap import job_registry
from reelstack.db import session_scope
from reelstack.ingest.service import ingest_file
from reelstack.jobs import service
from reelstack.jobs.executor import LocalExecutor
from reelstack.jobs.models import JobState
from reelstack.media import package
from reelstack.runtime import Runtime, build_runtime

pytestmark = pytest.mark.e2e


def test_two_workers_race_for_one_job(
    runtime: Runtime, clips: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    runs: list[str] = []
    lock = threading.Lock()
    real = package.transcode_and_package

    def counted(**kwargs: Any) -> Any:
        with lock:
            runs.append(threading.current_thread().name)
        return real(**kwargs)

    monkeypatch.setattr(pipeline, "transcode_and_package", counted)
    ids = ingest_file(runtime=runtime, path=clips["landscape"], title="Raced")
    # Two runtimes = two connection pools, as two processes would have.
    other = build_runtime(runtime.settings)
    workers = [LocalExecutor(runtime, job_registry()), LocalExecutor(other, job_registry())]
    workers[1].worker_name += "-b"
    for w in workers:
        w.start(recover=False)
    for w in workers:
        w.submit(ids.job_id)
    for w in workers:
        assert w.wait_for([ids.job_id], 60)
        w.stop()
    other.close()
    assert len(runs) == 1
    with session_scope(runtime.sessions) as s:
        job = service.get_job(session=s, job_id=ids.job_id)
        [child] = service.children(session=s, parent_id=ids.job_id)
        assert (job.state, job.attempts) == (JobState.SUCCEEDED, 1)
        assert (child.state, child.attempts) == (JobState.SUCCEEDED, 1)


def test_poller_picks_up_jobs_queued_elsewhere(runtime: Runtime, clips: dict[str, Path]) -> None:
    """A job queued by another process (the CLI) runs without anyone calling submit()."""
    executor = LocalExecutor(runtime, job_registry())
    executor.start()
    try:
        ids = ingest_file(runtime=runtime, path=clips["landscape"], title="Queued by the CLI")
        end = time.monotonic() + 60
        state = JobState.QUEUED
        while time.monotonic() < end:
            with session_scope(runtime.sessions) as s:
                state = service.get_job(session=s, job_id=ids.job_id).state
            if state is JobState.SUCCEEDED:
                break
            time.sleep(0.1)
    finally:
        executor.stop()
    assert state is JobState.SUCCEEDED
