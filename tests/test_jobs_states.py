"""The job state machine and job service, without FFmpeg."""

from __future__ import annotations

import pytest

from reelstack.assets.models import AssetStatus
from reelstack.db import session_scope
from reelstack.errors import InvalidJobTransition
from reelstack.jobs import service
from reelstack.jobs.models import Job, JobKind, JobState
from reelstack.jobs.states import TERMINAL, can_transition, check_transition
from reelstack.runtime import Runtime
from tests.conftest import ADMIN_HEADERS
from tests.factories import make_asset


def test_transition_table() -> None:
    assert can_transition(JobState.QUEUED, JobState.RUNNING)
    assert can_transition(JobState.RUNNING, JobState.SUCCEEDED)
    assert can_transition(JobState.RUNNING, JobState.QUEUED)
    assert can_transition(JobState.FAILED, JobState.QUEUED)
    assert not can_transition(JobState.QUEUED, JobState.SUCCEEDED)
    for terminal in (JobState.SUCCEEDED, JobState.CANCELLED):
        for dst in JobState:
            assert not can_transition(terminal, dst)
    assert {JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED} == TERMINAL
    with pytest.raises(InvalidJobTransition) as info:
        check_transition(JobState.SUCCEEDED, JobState.RUNNING)
    assert info.value.status == 409


def _job(runtime: Runtime) -> str:
    with session_scope(runtime.sessions) as s:
        asset = make_asset(AssetStatus.PROCESSING)
        s.add(asset)
        s.flush()
        return service.create_job(
            session=s, kind=JobKind.TRANSCODE, asset_id=asset.id, ladder="default", max_attempts=3
        ).id


def test_claim_is_exclusive(runtime: Runtime) -> None:
    job_id = _job(runtime)
    with session_scope(runtime.sessions) as s:
        claimed = service.claim_job(session=s, job_id=job_id, worker="a:1")
        assert claimed is not None and claimed.state is JobState.RUNNING
        assert claimed.attempts == 1
    with session_scope(runtime.sessions) as s:
        assert service.claim_job(session=s, job_id=job_id, worker="b:2") is None


def test_cancel_queued_and_running(runtime: Runtime) -> None:
    queued = _job(runtime)
    with session_scope(runtime.sessions) as s:
        assert service.request_cancel(session=s, job_id=queued).state is JobState.CANCELLED
    with session_scope(runtime.sessions) as s, pytest.raises(InvalidJobTransition):
        service.request_cancel(session=s, job_id=queued)
    running = _job(runtime)
    with session_scope(runtime.sessions) as s:
        service.claim_job(session=s, job_id=running, worker="a:1")
    with session_scope(runtime.sessions) as s:
        job = service.request_cancel(session=s, job_id=running)
        # Running jobs are flagged; the worker stops FFmpeg and records the cancel.
        assert job.state is JobState.RUNNING and job.cancel_requested
    with session_scope(runtime.sessions) as s:
        assert service.record_progress(session=s, job_id=running, progress=42.0) is True
        assert s.get(Job, running).progress == 42.0  # type: ignore[union-attr]


def test_recover_orphans_dead_pid_and_stale_heartbeat(runtime: Runtime) -> None:
    import socket

    dead = _job(runtime)
    alive = _job(runtime)
    with session_scope(runtime.sessions) as s:
        # PID 2**22 + 7 is beyond the default pid_max, so no process has it.
        service.claim_job(session=s, job_id=dead, worker=f"{socket.gethostname()}:{2**22 + 7}")
        service.claim_job(session=s, job_id=alive, worker="other-host:1")
    with session_scope(runtime.sessions) as s:
        recovered = service.recover_orphans(session=s, stale_after_s=3600, live_ids=set())
    assert recovered == [dead]
    with session_scope(runtime.sessions) as s:
        # A fresh heartbeat on another host is trusted until it goes stale.
        assert service.recover_orphans(session=s, stale_after_s=3600, live_ids=set()) == []
        assert service.recover_orphans(session=s, stale_after_s=-1, live_ids={alive}) == []
        assert service.recover_orphans(session=s, stale_after_s=-1, live_ids=set()) == [alive]
        assert s.get(Job, dead).state is JobState.QUEUED  # type: ignore[union-attr]


def test_list_jobs_filters(runtime: Runtime) -> None:
    from fastapi.testclient import TestClient

    from reelstack.app import create_app
    from reelstack.jobs.executor import LocalExecutor

    first, second = _job(runtime), _job(runtime)
    with session_scope(runtime.sessions) as s:
        service.request_cancel(session=s, job_id=first)
    # No worker here: the jobs must stay as they are while we list them.
    app = create_app(runtime=runtime, executor=LocalExecutor(runtime))
    with TestClient(app, headers=ADMIN_HEADERS) as client:
        listed = client.get("/v1/admin/jobs").json()
        assert [j["id"] for j in listed] == [second, first]
        assert [j["id"] for j in client.get("/v1/admin/jobs?state=cancelled").json()] == [first]
        assert client.get("/v1/admin/jobs?state=bogus").status_code == 422
