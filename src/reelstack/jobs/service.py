"""Job service: every job state change happens here, inside the caller's transaction."""

from __future__ import annotations

import os
import socket
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from reelstack.db import utcnow
from reelstack.errors import NotFound
from reelstack.jobs.models import Job, JobKind, JobState
from reelstack.jobs.states import TERMINAL, check_transition


def create_job(
    *, session: Session, kind: JobKind, asset_id: str, ladder: str, max_attempts: int
) -> Job:
    """Add a queued job; the caller commits and then submits it to an executor."""
    job = Job(kind=kind, asset_id=asset_id, ladder=ladder, max_attempts=max_attempts)
    session.add(job)
    session.flush()
    return job


def get_job(*, session: Session, job_id: str) -> Job:
    job = session.get(Job, job_id)
    if job is None:
        raise NotFound(f"job {job_id} does not exist")
    return job


def claim_job(*, session: Session, job_id: str, worker: str) -> Job | None:
    """Move a queued job to running for ``worker``; None when someone else has it.

    A conditional UPDATE makes the claim atomic across threads and processes.
    """
    now = utcnow()
    result = session.execute(
        update(Job)
        .where(Job.id == job_id, Job.state == JobState.QUEUED)
        .values(
            state=JobState.RUNNING,
            attempts=Job.attempts + 1,
            worker=worker,
            started_at=now,
            heartbeat_at=now,
            error=None,
            progress=0.0,
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return None
    session.flush()
    job = session.get(Job, job_id, populate_existing=True)
    return job


def record_progress(*, session: Session, job_id: str, progress: float) -> bool:
    """Store progress and a heartbeat; returns True when cancellation was requested."""
    session.execute(
        update(Job)
        .where(Job.id == job_id, Job.state == JobState.RUNNING)
        .values(progress=max(0.0, min(100.0, progress)), heartbeat_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    flag = session.scalar(select(Job.cancel_requested).where(Job.id == job_id))
    return bool(flag)


def transition(*, session: Session, job: Job, to: JobState, error: str | None = None) -> Job:
    """Apply one checked state transition."""
    check_transition(job.state, to)
    job.state = to
    if to in TERMINAL:
        job.finished_at = utcnow()
    if to is JobState.SUCCEEDED:
        job.progress = 100.0
        job.error = None
    if to is JobState.QUEUED:
        job.worker = None
        job.cancel_requested = False
    if error is not None:
        job.error = error[-4000:]
    session.flush()
    return job


def request_cancel(*, session: Session, job_id: str) -> Job:
    """Cancel a queued job now; flag a running one so its worker stops FFmpeg and cleans up."""
    job = get_job(session=session, job_id=job_id)
    if job.state is JobState.QUEUED:
        return transition(session=session, job=job, to=JobState.CANCELLED)
    check_transition(job.state, JobState.CANCELLED)
    job.cancel_requested = True
    session.flush()
    return job


def retry_job(*, session: Session, job_id: str) -> Job:
    """Re-queue a failed job with a fresh attempt budget."""
    job = get_job(session=session, job_id=job_id)
    transition(session=session, job=job, to=JobState.QUEUED)
    job.attempts = 0
    job.finished_at = None
    session.flush()
    return job


def _worker_is_dead(worker: str | None, *, host: str) -> bool:
    """True when ``worker`` ("host:pid") ran on this host and that process is gone."""
    if not worker or ":" not in worker:
        return False
    worker_host, _, pid = worker.rpartition(":")
    if worker_host != host or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def recover_orphans(*, session: Session, stale_after_s: float, live_ids: set[str]) -> list[str]:
    """Re-queue ``running`` jobs whose worker died.

    A worker is dead when it ran on this host and its process is gone, or when its
    heartbeat (written with every progress report) is older than ``stale_after_s``.
    ``live_ids`` are jobs this process is running right now, never touched.
    """
    host = socket.gethostname()
    cutoff = utcnow() - timedelta(seconds=stale_after_s)
    recovered = []
    for job in session.scalars(select(Job).where(Job.state == JobState.RUNNING).with_for_update()):
        if job.id in live_ids:
            continue
        stale = job.heartbeat_at is None or job.heartbeat_at < cutoff
        if stale or _worker_is_dead(job.worker, host=host):
            transition(session=session, job=job, to=JobState.QUEUED, error="re-queued: worker died")
            recovered.append(job.id)
    return recovered


def list_jobs(
    *, session: Session, state: JobState | None = None, asset_id: str | None = None, limit: int = 50
) -> list[Job]:
    """Newest first, optionally narrowed to one state or one asset."""
    stmt = select(Job).order_by(Job.created_at.desc(), Job.id.desc()).limit(limit)
    if state is not None:
        stmt = stmt.where(Job.state == state)
    if asset_id is not None:
        stmt = stmt.where(Job.asset_id == asset_id)
    return list(session.scalars(stmt))


def queued_job_ids(*, session: Session) -> list[str]:
    return list(
        session.scalars(select(Job.id).where(Job.state == JobState.QUEUED).order_by(Job.created_at))
    )
