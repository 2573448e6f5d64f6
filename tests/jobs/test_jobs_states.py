"""The job state machine, the job graph, claims and fencing, without FFmpeg."""

from __future__ import annotations

import socket
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from reelstack.bootstrap import job_registry
from reelstack.db import session_scope, utcnow
from reelstack.errors import InvalidJobTransition
from reelstack.jobs import service
from reelstack.jobs.errors import ClaimLost
from reelstack.jobs.models import Job, JobKind, JobState
from reelstack.jobs.payloads import (
    PAYLOAD,
    AnalyticsRetentionPayload,
    AnalyticsRollupPayload,
    CatalogSchedulePayload,
    ProcessAssetPayload,
    PurgeMediaPayload,
    TranscodePayload,
)
from reelstack.jobs.registry import JobHandler, JobRegistry
from reelstack.jobs.states import TERMINAL, can_transition, check_transition
from reelstack.runtime import Runtime
from tests.conftest import ADMIN_HEADERS


def test_transition_table() -> None:
    assert can_transition(JobState.QUEUED, JobState.RUNNING)
    assert can_transition(JobState.RUNNING, JobState.SUCCEEDED)
    assert can_transition(JobState.RUNNING, JobState.QUEUED)
    assert can_transition(JobState.FAILED, JobState.QUEUED)
    assert can_transition(JobState.WAITING, JobState.QUEUED)
    assert not can_transition(JobState.WAITING, JobState.RUNNING)
    assert not can_transition(JobState.QUEUED, JobState.SUCCEEDED)
    for terminal in (JobState.SUCCEEDED, JobState.CANCELLED):
        for dst in JobState:
            assert not can_transition(terminal, dst)
    assert {JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED} == TERMINAL
    with pytest.raises(InvalidJobTransition) as info:
        check_transition(JobState.SUCCEEDED, JobState.RUNNING)
    assert info.value.status == 409


def test_every_job_kind_has_a_handler_and_a_payload() -> None:
    registry = job_registry()
    assert registry.missing() == set()
    for kind in JobKind:
        assert registry.handler(kind).run is not None
    # The payload union names exactly the job kinds.
    union = {
        m.model_fields["kind"].default
        for m in (
            ProcessAssetPayload,
            TranscodePayload,
            PurgeMediaPayload,
            AnalyticsRollupPayload,
            AnalyticsRetentionPayload,
            CatalogSchedulePayload,
        )
    }
    assert union == {k.value for k in JobKind}
    # A registry missing a kind is refused by name.
    partial = JobRegistry()
    partial.register(JobKind.TRANSCODE, JobHandler(run=lambda _ctx: None))
    assert partial.missing() == set(JobKind) - {JobKind.TRANSCODE}
    with pytest.raises(ValueError, match="already registered"):
        partial.register(JobKind.TRANSCODE, JobHandler(run=lambda _ctx: None))


def test_payload_is_typed_and_checked() -> None:
    payload = PAYLOAD.validate_python({"kind": "transcode", "asset_id": "a1", "ladder": "tiny"})
    assert isinstance(payload, TranscodePayload) and payload.ladder == "tiny"
    with pytest.raises(ValueError):
        PAYLOAD.validate_python({"kind": "transcode", "asset_id": "a1"})  # no ladder
    with pytest.raises(ValueError):
        PAYLOAD.validate_python({"kind": "transcode", "asset_id": "a", "ladder": "x", "y": 1})
    with pytest.raises(ValueError):
        PAYLOAD.validate_python({"kind": "nope", "asset_id": "a1"})


def _job(
    s: Session,
    *,
    parent_id: str | None = None,
    waiting: bool = False,
    priority: int = 100,
    not_before_s: float = 0.0,
) -> Job:
    payload = (
        ProcessAssetPayload(asset_id="a1")
        if waiting
        else TranscodePayload(asset_id="a1", ladder="tiny")
    )
    return service.create_job(
        session=s,
        payload=payload,
        subject_type="asset",
        subject_id="a1",
        max_attempts=3,
        parent_id=parent_id,
        waiting=waiting,
        priority=priority,
        not_before=utcnow() + timedelta(seconds=not_before_s),
    )


def _claim(s: Session, job_id: str, worker: str = "w:1") -> service.Claim:
    job = service.claim_job(session=s, job_id=job_id, worker=worker)
    assert job is not None
    return service.Claim(job_id=job.id, worker=worker, attempt=job.attempts)


def test_payload_round_trips_through_the_database(runtime: Runtime) -> None:
    with session_scope(runtime.sessions) as s:
        job_id = _job(s).id
    with session_scope(runtime.sessions) as s:
        job = service.get_job(session=s, job_id=job_id)
        assert job.payload == TranscodePayload(asset_id="a1", ladder="tiny")
        assert (job.subject_type, job.subject_id, job.kind) == ("asset", "a1", JobKind.TRANSCODE)


def test_claim_is_exclusive(runtime: Runtime) -> None:
    with session_scope(runtime.sessions) as s:
        job_id = _job(s).id
    with session_scope(runtime.sessions) as s:
        claimed = service.claim_job(session=s, job_id=job_id, worker="a:1")
        assert claimed is not None and claimed.state is JobState.RUNNING
        assert claimed.attempts == 1
    with session_scope(runtime.sessions) as s:
        assert service.claim_job(session=s, job_id=job_id, worker="b:2") is None
        assert service.claim_next(session=s, worker="b:2") is None


def test_claim_next_order_priority_then_age_and_not_before(runtime: Runtime) -> None:
    with session_scope(runtime.sessions) as s:
        old_low = _job(s, priority=100).id
        new_high = _job(s, priority=10).id
        held = _job(s, priority=0, not_before_s=3600).id
        parent = _job(s, waiting=True, priority=0).id
    order = []
    with session_scope(runtime.sessions) as s:
        while (job := service.claim_next(session=s, worker="w:1")) is not None:
            order.append(job.id)
    # Lower priority numbers first; a held-back job and a waiting parent are not due.
    assert order == [new_high, old_low]
    with session_scope(runtime.sessions) as s:
        assert service.get_job(session=s, job_id=held).state is JobState.QUEUED
        assert service.get_job(session=s, job_id=parent).state is JobState.WAITING
        assert service.next_due_at(session=s) is not None


def test_fencing_refuses_every_write_of_a_lost_claim(runtime: Runtime) -> None:
    with session_scope(runtime.sessions) as s:
        job_id = _job(s).id
    with session_scope(runtime.sessions) as s:
        first = _claim(s, job_id, "a:1")
    # Worker a looks dead; recovery re-queues it and worker b claims attempt 2.
    with session_scope(runtime.sessions) as s:
        assert service.recover_orphans(session=s, stale_after_s=-1, live_ids=set()) == [job_id]
    with session_scope(runtime.sessions) as s:
        second = _claim(s, job_id, "b:2")
    assert second.attempt == 2
    for write in (
        lambda s: service.fence(session=s, claim=first),
        lambda s: service.heartbeat(session=s, claim=first, progress=50.0),
        lambda s: service.succeed(session=s, claim=first, result={"x": 1}),
        lambda s: service.fail(session=s, claim=first, error="late", retry_at=None),
        lambda s: service.cancelled(session=s, claim=first, requeue=False),
    ):
        with pytest.raises(ClaimLost), session_scope(runtime.sessions) as s:
            write(s)
    with session_scope(runtime.sessions) as s:
        job = service.get_job(session=s, job_id=job_id)
        assert (job.state, job.worker, job.progress, job.result) == (
            JobState.RUNNING,
            "b:2",
            0.0,
            None,
        )
        service.succeed(session=s, claim=second, result={"ok": True})
    with session_scope(runtime.sessions) as s:
        job = service.get_job(session=s, job_id=job_id)
        assert (job.state, job.result) == (JobState.SUCCEEDED, {"ok": True})


def test_retry_backoff_lives_in_not_before(runtime: Runtime) -> None:
    assert [service.retry_delay_s(n) for n in (1, 2, 3)] == [5.0, 20.0, 45.0]
    assert service.retry_delay_s(100) == 300.0
    assert service.retry_delay_s(100, base_s=1, cap_s=30) == 30.0
    with session_scope(runtime.sessions) as s:
        job_id = _job(s).id
    with session_scope(runtime.sessions) as s:
        claim = _claim(s, job_id)
    later = utcnow() + timedelta(seconds=60)
    with session_scope(runtime.sessions) as s:
        service.fail(session=s, claim=claim, error="disk hiccup", retry_at=later)
    with session_scope(runtime.sessions) as s:
        job = service.get_job(session=s, job_id=job_id)
        assert (job.state, job.error) == (JobState.QUEUED, "disk hiccup")
        assert abs((job.not_before - later).total_seconds()) < 1
        # Any process sees the hold: nothing to claim until then.
        assert service.claim_next(session=s, worker="other:9") is None


def _graph(runtime: Runtime, children: int = 2) -> tuple[str, list[str]]:
    with session_scope(runtime.sessions) as s:
        parent = _job(s, waiting=True).id
        kids = [_job(s, parent_id=parent).id for _ in range(children)]
    return parent, kids


def _state(runtime: Runtime, job_id: str) -> tuple[JobState, str | None]:
    with session_scope(runtime.sessions) as s:
        job = service.get_job(session=s, job_id=job_id)
        return job.state, job.error


def test_parent_runs_after_all_children_succeed(runtime: Runtime) -> None:
    parent, kids = _graph(runtime)
    for n, kid in enumerate(kids):
        with session_scope(runtime.sessions) as s:
            claim = _claim(s, kid)
        with session_scope(runtime.sessions) as s:
            service.succeed(session=s, claim=claim, result={"n": n})
        expected = JobState.QUEUED if n == len(kids) - 1 else JobState.WAITING
        assert _state(runtime, parent)[0] is expected
    with session_scope(runtime.sessions) as s:
        assert [k.result for k in service.children(session=s, parent_id=parent)] == [
            {"n": 0},
            {"n": 1},
        ]


def test_parent_fails_with_its_child_and_cancels_the_others(runtime: Runtime) -> None:
    parent, (bad, other) = _graph(runtime)
    gave_up: list[tuple[str, str]] = []

    def hook(session: Session, job: Job, reason: str) -> None:
        gave_up.append((job.id, reason))

    with session_scope(runtime.sessions) as s:
        claim = _claim(s, bad)
    with session_scope(runtime.sessions) as s:
        service.fail(session=s, claim=claim, error="bad input", retry_at=None, on_give_up=hook)
    state, error = _state(runtime, parent)
    assert state is JobState.FAILED
    assert error is not None and bad in error and "bad input" in error
    assert _state(runtime, other)[0] is JobState.CANCELLED
    assert {j for j, _ in gave_up} == {bad, other, parent}

    # Retrying the parent re-runs the failed and cancelled children and waits for them.
    with session_scope(runtime.sessions) as s:
        service.retry_job(session=s, job_id=parent)
    assert _state(runtime, parent) == (JobState.WAITING, None)
    assert _state(runtime, bad)[0] is JobState.QUEUED
    assert _state(runtime, other)[0] is JobState.QUEUED


def test_retrying_a_failed_child_reruns_its_whole_graph(runtime: Runtime) -> None:
    parent, (bad, other) = _graph(runtime)
    with session_scope(runtime.sessions) as s:
        claim = _claim(s, bad)
    with session_scope(runtime.sessions) as s:
        service.fail(session=s, claim=claim, error="flaky", retry_at=None)
    assert _state(runtime, other)[0] is JobState.CANCELLED
    with session_scope(runtime.sessions) as s:
        assert service.retry_job(session=s, job_id=bad).state is JobState.QUEUED
    # The sibling cancelled with it runs again too, so the parent cannot wait for ever.
    assert _state(runtime, other)[0] is JobState.QUEUED
    assert _state(runtime, parent)[0] is JobState.WAITING
    for kid in (bad, other):
        with session_scope(runtime.sessions) as s:
            claim = _claim(s, kid)
        with session_scope(runtime.sessions) as s:
            service.succeed(session=s, claim=claim)
    assert _state(runtime, parent)[0] is JobState.QUEUED

    # A child of a cancelled run is not retried on its own.
    parent2, (kid2, _) = _graph(runtime)
    with session_scope(runtime.sessions) as s:
        claim = _claim(s, kid2)
    with session_scope(runtime.sessions) as s:
        service.request_cancel(session=s, job_id=parent2)
    with session_scope(runtime.sessions) as s:
        service.fail(session=s, claim=claim, error="late failure", retry_at=None)
    with session_scope(runtime.sessions) as s, pytest.raises(InvalidJobTransition):
        service.retry_job(session=s, job_id=kid2)


def test_cancel_cascades_down_and_up(runtime: Runtime) -> None:
    parent, (queued, running) = _graph(runtime)
    with session_scope(runtime.sessions) as s:
        claim = _claim(s, running)
    with session_scope(runtime.sessions) as s:
        job = service.request_cancel(session=s, job_id=parent)
        assert job.state is JobState.CANCELLED
    assert _state(runtime, queued)[0] is JobState.CANCELLED
    with session_scope(runtime.sessions) as s:
        # The running child is flagged; its worker sees it at the next heartbeat.
        assert service.heartbeat(session=s, claim=claim) is True
        service.cancelled(session=s, claim=claim, requeue=False)
    assert _state(runtime, running)[0] is JobState.CANCELLED
    with session_scope(runtime.sessions) as s, pytest.raises(InvalidJobTransition):
        service.request_cancel(session=s, job_id=parent)

    # Cancelling one child cancels its parent, with the reason.
    parent2, (kid, sibling) = _graph(runtime)
    with session_scope(runtime.sessions) as s:
        service.request_cancel(session=s, job_id=kid)
    state, error = _state(runtime, parent2)
    assert state is JobState.CANCELLED and error is not None and kid in error
    assert _state(runtime, sibling)[0] is JobState.CANCELLED


def test_recover_orphans_dead_pid_stale_heartbeat_and_attempts(runtime: Runtime) -> None:
    with session_scope(runtime.sessions) as s:
        dead, alive, spent = _job(s).id, _job(s).id, _job(s).id
        s.get(Job, spent).max_attempts = 1  # type: ignore[union-attr]
    with session_scope(runtime.sessions) as s:
        # PID 2**22 + 7 is beyond the default pid_max, so no process has it.
        _claim(s, dead, f"{socket.gethostname()}:{2**22 + 7}")
        _claim(s, alive, "other-host:1")
        _claim(s, spent, "other-host:2")
    with session_scope(runtime.sessions) as s:
        assert service.recover_orphans(session=s, stale_after_s=3600, live_ids=set()) == [dead]
    with session_scope(runtime.sessions) as s:
        # A fresh heartbeat on another host is trusted until it goes stale.
        assert service.recover_orphans(session=s, stale_after_s=3600, live_ids=set()) == []
        assert service.recover_orphans(session=s, stale_after_s=-1, live_ids={alive, spent}) == []
        assert sorted(service.recover_orphans(session=s, stale_after_s=-1, live_ids=set())) == (
            sorted([alive, spent])
        )
    assert _state(runtime, dead)[0] is JobState.QUEUED
    # Out of attempts: failed with the reason, never re-queued for ever.
    state, error = _state(runtime, spent)
    assert state is JobState.FAILED and error is not None and "stopped answering" in error


def test_list_jobs_filters(runtime: Runtime) -> None:
    from fastapi.testclient import TestClient

    from reelstack.app import create_app
    from reelstack.jobs.executor import LocalExecutor

    parent, kids = _graph(runtime)
    with session_scope(runtime.sessions) as s:
        service.request_cancel(session=s, job_id=kids[0])
    # No worker here: the jobs must stay as they are while we list them.
    app = create_app(runtime=runtime, executor=LocalExecutor(runtime, job_registry()))
    with TestClient(app, headers=ADMIN_HEADERS) as client:
        listed = client.get("/v1/admin/jobs").json()
        assert {j["id"] for j in listed} == {parent, *kids}
        cancelled = client.get("/v1/admin/jobs", params={"state": "cancelled"}).json()
        assert {j["id"] for j in cancelled} == {parent, kids[0], kids[1]}
        children = client.get("/v1/admin/jobs", params={"parent_id": parent}).json()
        assert sorted(j["id"] for j in children) == sorted(kids)
        assert all(j["parent_id"] == parent for j in children)
        by_kind = client.get("/v1/admin/jobs", params={"kind": "process_asset"}).json()
        assert [j["id"] for j in by_kind] == [parent]
        assert client.get("/v1/admin/jobs", params={"state": "nope"}).status_code == 422
