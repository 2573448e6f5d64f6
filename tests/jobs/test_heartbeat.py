"""The heartbeat comes from a thread of its own: a job that is silent for longer than the
stale limit (a long upload to object storage, say) is not taken for dead."""

from __future__ import annotations

import threading
import time

import pytest

from reelstack.config import Settings
from reelstack.db import session_scope
from reelstack.jobs import service
from reelstack.jobs.context import JobContext
from reelstack.jobs.executor import LocalExecutor
from reelstack.jobs.models import JobKind, JobState
from reelstack.jobs.payloads import PurgeMediaPayload
from reelstack.jobs.registry import JobHandler, JobRegistry
from reelstack.jobs.runner import run_job
from reelstack.runtime import Runtime, build_runtime


def _queued_job(rt: Runtime) -> str:
    with session_scope(rt.sessions) as s:
        return service.create_job(
            session=s,
            payload=PurgeMediaPayload(asset_id="a1"),
            subject_type="asset",
            subject_id="a1",
            max_attempts=3,
        ).id


def test_silent_job_stays_alive_and_is_not_taken_over(runtime: Runtime) -> None:
    settings = runtime.settings.model_copy(
        update={
            "job_stale_after_s": 1.0,
            "job_heartbeat_interval_s": 0.2,
            "job_poll_interval_s": 0.1,
        }
    )
    rt = build_runtime(settings)
    started = threading.Event()
    runs: list[int] = []

    def silent(ctx: JobContext) -> None:
        runs.append(ctx.job.attempt)
        started.set()
        time.sleep(3.0)  # three stale limits without a single progress report

    registry = JobRegistry()
    for kind in JobKind:
        registry.register(kind, JobHandler(run=silent))
    job_id = _queued_job(rt)
    executor = LocalExecutor(rt, registry)
    executor.start()
    try:
        assert started.wait(10)
        # Another process sweeping for orphans all along finds nothing to take over.
        recovered: list[str] = []
        for _ in range(12):
            with session_scope(rt.sessions) as s:
                recovered += service.recover_orphans(
                    session=s, stale_after_s=settings.job_stale_after_s, live_ids=set()
                )
            time.sleep(0.25)
        assert executor.wait_for([job_id], 10)
    finally:
        executor.stop()
    assert recovered == []
    assert runs == [1]
    with session_scope(rt.sessions) as s:
        job = service.get_job(session=s, job_id=job_id)
        assert (job.state, job.attempts) == (JobState.SUCCEEDED, 1)
    rt.close()


def test_job_timing_settings_are_validated() -> None:
    with pytest.raises(ValueError, match="HEARTBEAT_INTERVAL_S"):
        Settings(job_stale_after_s=10, job_heartbeat_interval_s=6)
    with pytest.raises(ValueError, match="RETRY_CAP_S"):
        Settings(job_retry_base_s=10, job_retry_cap_s=5)
    with pytest.raises(ValueError):
        Settings(worker_concurrency=0)
    with pytest.raises(ValueError):
        Settings(job_poll_interval_s=0)


def test_a_kind_without_a_handler_fails_instead_of_looping(runtime: Runtime) -> None:
    job_id = _queued_job(runtime)

    ran = run_job(runtime, JobRegistry(), worker="w:1", cancel=threading.Event())
    assert ran == job_id
    with session_scope(runtime.sessions) as s:
        job = service.get_job(session=s, job_id=job_id)
        assert job.state is JobState.FAILED
        assert job.error is not None and "no handler" in job.error
