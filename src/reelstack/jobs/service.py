"""Job service: every job state change happens here, inside the caller's transaction.

Two kinds of writes exist. Writes by the worker that runs a job are *fenced* on its
claim (job id + worker + attempt): once another worker has taken the job over, every
write of the old one is refused with ``ClaimLost``. Writes by people and by recovery
(cancel, retry, re-queue of an orphan) are conditional on the state they expect.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from reelstack.db import utcnow
from reelstack.errors import InvalidJobTransition, NotFound
from reelstack.jobs.errors import ClaimLost
from reelstack.jobs.models import DEFAULT_PRIORITY, Job, JobKind, JobState
from reelstack.jobs.payloads import JobPayload
from reelstack.jobs.states import TERMINAL, check_transition

# Called inside the transaction that moved a job to failed or cancelled, so its domain
# records the outcome atomically with it (e.g. the asset becomes failed).
GiveUpHook = Callable[[Session, Job, str], None]

# A claim query looks at this many due candidates before giving up on a race.
_CLAIM_CANDIDATES = 8


@dataclass(frozen=True, slots=True)
class Claim:
    """Who runs which attempt of a job: the fence every worker write is checked on."""

    job_id: str
    worker: str
    attempt: int


def _no_hook(session: Session, job: Job, reason: str) -> None:  # noqa: ARG001
    return None


def retry_delay_s(attempt: int, *, base_s: float = 5.0, cap_s: float = 300.0) -> float:
    """Backoff after failed attempt ``attempt``: base, 4x base, 9x base ... capped."""
    return float(min(cap_s, base_s * attempt * attempt))


def create_job(
    *,
    session: Session,
    payload: JobPayload,
    subject_type: str,
    subject_id: str,
    max_attempts: int,
    parent_id: str | None = None,
    priority: int = DEFAULT_PRIORITY,
    not_before: datetime | None = None,
    waiting: bool = False,
) -> Job:
    """Add a job (``waiting`` for a parent that runs after its children, else queued).

    The caller commits, then tells an executor (``on_commit``): a job is never handed
    to a worker before its row is visible.
    """
    job = Job(
        kind=JobKind(payload.kind),
        state=JobState.WAITING if waiting else JobState.QUEUED,
        subject_type=subject_type,
        subject_id=subject_id,
        payload=payload,
        parent_id=parent_id,
        priority=priority,
        not_before=not_before or utcnow(),
        max_attempts=max_attempts,
    )
    session.add(job)
    session.flush()
    return job


def get_job(*, session: Session, job_id: str) -> Job:
    job = session.get(Job, job_id)
    if job is None:
        raise NotFound(f"job {job_id} does not exist")
    return job


def children(*, session: Session, parent_id: str) -> list[Job]:
    return list(
        session.scalars(select(Job).where(Job.parent_id == parent_id).order_by(Job.created_at))
    )


def subtree_ids(*, session: Session, job_id: str) -> list[str]:
    """``job_id`` and every descendant (for telling executors to stop them all)."""
    ids = [job_id]
    for kid in children(session=session, parent_id=job_id):
        ids += subtree_ids(session=session, job_id=kid.id)
    return ids


def _claim_values(worker: str, now: datetime) -> dict[str, Any]:
    return {
        "state": JobState.RUNNING,
        "attempts": Job.attempts + 1,
        "worker": worker,
        "started_at": now,
        "heartbeat_at": now,
        "error": None,
        "progress": 0.0,
        "cancel_requested": False,
    }


def _try_claim(session: Session, job_id: str, worker: str, now: datetime) -> Job | None:
    result = session.execute(
        update(Job)
        .where(Job.id == job_id, Job.state == JobState.QUEUED, Job.not_before <= now)
        .values(**_claim_values(worker, now))
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return None
    return session.get(Job, job_id, populate_existing=True)


def claim_job(*, session: Session, job_id: str, worker: str) -> Job | None:
    """Claim one named job if it is queued and due; None when someone else has it.

    A conditional UPDATE makes the claim atomic across threads and processes.
    """
    return _try_claim(session, job_id, worker, utcnow())


def claim_next(
    *, session: Session, worker: str, kinds: Sequence[JobKind] | None = None
) -> Job | None:
    """Claim the most urgent due job: ``queued AND not_before <= now ORDER BY priority,
    created_at``, looking at a few candidates only (never every queued id)."""
    now = utcnow()
    stmt = (
        select(Job.id)
        .where(Job.state == JobState.QUEUED, Job.not_before <= now)
        .order_by(Job.priority, Job.created_at, Job.id)
        .limit(_CLAIM_CANDIDATES)
    )
    if kinds:
        stmt = stmt.where(Job.kind.in_(list(kinds)))
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    for job_id in session.scalars(stmt).all():
        job = _try_claim(session, job_id, worker, now)
        if job is not None:
            return job
    return None


def next_due_at(*, session: Session) -> datetime | None:
    """When the earliest held-back queued job becomes due (for an idle poller)."""
    return session.scalar(
        select(Job.not_before).where(Job.state == JobState.QUEUED).order_by(Job.not_before).limit(1)
    )


def queued_among(*, session: Session, job_ids: Collection[str]) -> list[Job]:
    """Those of ``job_ids`` that are queued (due or held back), most urgent first: what
    an executor that hands ids to workers must hand over."""
    if not job_ids:
        return []
    return list(
        session.scalars(
            select(Job)
            .where(Job.id.in_(list(job_ids)), Job.state == JobState.QUEUED)
            .order_by(Job.priority, Job.created_at, Job.id)
        )
    )


def overdue(*, session: Session, due_before: datetime, limit: int = 100) -> list[Job]:
    """Queued jobs that have been due since before ``due_before``, most urgent first:
    a worker should have claimed them by then (their broker message may be lost)."""
    return list(
        session.scalars(
            select(Job)
            .where(Job.state == JobState.QUEUED, Job.not_before <= due_before)
            .order_by(Job.priority, Job.created_at, Job.id)
            .limit(limit)
        )
    )


def _fenced(claim: Claim) -> Any:
    return update(Job).where(
        Job.id == claim.job_id,
        Job.state == JobState.RUNNING,
        Job.worker == claim.worker,
        Job.attempts == claim.attempt,
    )


def fence(*, session: Session, claim: Claim) -> None:
    """Prove ``claim`` still holds (and lock the row until commit); else ``ClaimLost``.

    Domain writes that belong to a job (publishing, say) run in a transaction that
    starts with this, so a worker that lost its claim publishes nothing.
    """
    result = session.execute(
        _fenced(claim).values(heartbeat_at=utcnow()).execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise ClaimLost(f"job {claim.job_id} attempt {claim.attempt} is no longer {claim.worker}'s")


def heartbeat(*, session: Session, claim: Claim, progress: float | None = None) -> bool:
    """Fenced heartbeat (and progress); returns True when cancellation was requested."""
    values: dict[str, Any] = {"heartbeat_at": utcnow()}
    if progress is not None:
        values["progress"] = max(0.0, min(100.0, progress))
    result = session.execute(
        _fenced(claim).values(**values).execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise ClaimLost(f"job {claim.job_id} attempt {claim.attempt} is no longer {claim.worker}'s")
    flag = session.scalar(select(Job.cancel_requested).where(Job.id == claim.job_id))
    return bool(flag)


def _claimed_row(session: Session, claim: Claim) -> Job:
    fence(session=session, claim=claim)
    job = session.get(Job, claim.job_id, populate_existing=True)
    assert job is not None  # the fence just matched it
    return job


def succeed(
    *,
    session: Session,
    claim: Claim,
    result: dict[str, Any] | None = None,
    on_give_up: GiveUpHook = _no_hook,
) -> Job:
    """Fenced: the running job succeeded; its parent moves on when all siblings are done."""
    job = _claimed_row(session, claim)
    transition(session=session, job=job, to=JobState.SUCCEEDED)
    job.result = result
    _settle_parent(session, job, on_give_up)
    return job


def fail(
    *,
    session: Session,
    claim: Claim,
    error: str,
    retry_at: datetime | None,
    on_give_up: GiveUpHook = _no_hook,
) -> Job:
    """Fenced: the attempt failed. Re-queued for ``retry_at``, or failed for good (its
    parent fails with it, with the reason)."""
    job = _claimed_row(session, claim)
    if retry_at is not None:
        transition(session=session, job=job, to=JobState.QUEUED, error=error)
        job.not_before = retry_at
        return job
    transition(session=session, job=job, to=JobState.FAILED, error=error)
    on_give_up(session, job, error)
    _settle_parent(session, job, on_give_up)
    return job


def cancelled(
    *, session: Session, claim: Claim, requeue: bool, on_give_up: GiveUpHook = _no_hook
) -> Job:
    """Fenced: the running job stopped. ``requeue`` (the process is shutting down, not a
    user's cancel) hands it to the next start without spending an attempt."""
    job = _claimed_row(session, claim)
    if requeue and not job.cancel_requested:
        transition(session=session, job=job, to=JobState.QUEUED)
        job.attempts = max(0, job.attempts - 1)
        return job
    transition(session=session, job=job, to=JobState.CANCELLED, error="cancelled")
    on_give_up(session, job, "cancelled")
    _settle_parent(session, job, on_give_up)
    return job


def _settle_parent(session: Session, child: Job, on_give_up: GiveUpHook) -> None:
    """Move ``child``'s parent on: queued when every child succeeded; failed or cancelled
    (with the reason, its other children cancelled) as soon as one child is."""
    if child.parent_id is None:
        return
    parent = session.get(Job, child.parent_id, with_for_update=True, populate_existing=True)
    if parent is None or parent.state is not JobState.WAITING:
        return
    kids = children(session=session, parent_id=parent.id)
    if child.state in (JobState.FAILED, JobState.CANCELLED):
        verb = "failed" if child.state is JobState.FAILED else "was cancelled"
        reason = f"{child.kind.value} job {child.id} {verb}: {child.error or ''}".rstrip(": ")
        to = JobState.FAILED if child.state is JobState.FAILED else JobState.CANCELLED
        for other in kids:
            if other.id != child.id:
                _cancel_tree(session, other, on_give_up)
        transition(session=session, job=parent, to=to, error=reason)
        on_give_up(session, parent, reason)
        _settle_parent(session, parent, on_give_up)
    elif all(k.state is JobState.SUCCEEDED for k in kids):
        transition(session=session, job=parent, to=JobState.QUEUED)
        parent.not_before = utcnow()


def _cancel_tree(session: Session, job: Job, on_give_up: GiveUpHook) -> None:
    """Cancel ``job`` and its descendants: at once when not running; a running one is
    flagged and its worker stops it."""
    for kid in children(session=session, parent_id=job.id):
        _cancel_tree(session, kid, on_give_up)
    if job.state in (JobState.QUEUED, JobState.WAITING):
        transition(session=session, job=job, to=JobState.CANCELLED, error="cancelled")
        on_give_up(session, job, "cancelled")
    elif job.state is JobState.RUNNING:
        job.cancel_requested = True
        session.flush()


def transition(*, session: Session, job: Job, to: JobState, error: str | None = None) -> Job:
    """Apply one checked state transition."""
    check_transition(job.state, to)
    job.state = to
    if to in TERMINAL:
        job.finished_at = utcnow()
    if to is JobState.SUCCEEDED:
        job.progress = 100.0
        job.error = None
    if to in (JobState.QUEUED, JobState.WAITING):
        job.worker = None
        job.cancel_requested = False
        job.finished_at = None
    if error is not None:
        job.error = error[-4000:]
    session.flush()
    return job


def request_cancel(*, session: Session, job_id: str, on_give_up: GiveUpHook = _no_hook) -> Job:
    """Cancel a job and its children: queued or waiting ones at once; a running one is
    flagged so its worker stops FFmpeg and cleans up. Its parent is cancelled with it."""
    job = get_job(session=session, job_id=job_id)
    check_transition(job.state, JobState.CANCELLED)
    _cancel_tree(session, job, on_give_up)
    if job.state is JobState.CANCELLED:
        _settle_parent(session, job, on_give_up)
    return job


def retry_job(*, session: Session, job_id: str) -> Job:
    """Re-run a failed job with a fresh attempt budget.

    A failed parent re-runs its failed or cancelled children and waits for them (or runs
    at once when they all succeeded). Retrying a failed child retries its whole graph, so
    the siblings cancelled with it run again too; a child of a cancelled run is refused.
    """
    job = get_job(session=session, job_id=job_id)
    if job.parent_id is not None and job.state is JobState.FAILED:
        parent = get_job(session=session, job_id=job.parent_id)
        if parent.state is JobState.CANCELLED:
            raise InvalidJobTransition(
                f"job {job.id} belongs to cancelled job {parent.id}: start a new run instead",
                from_state=job.state.value,
                to_state=JobState.QUEUED.value,
            )
        if parent.state is JobState.FAILED:
            # Its siblings were cancelled with it: the whole graph runs again.
            retry_job(session=session, job_id=parent.id)
            session.refresh(job)
            return job
    kids = children(session=session, parent_id=job.id)
    if kids:
        transition(session=session, job=job, to=JobState.WAITING)
        job.error = None
        job.attempts = 0
        job.not_before = utcnow()
        for kid in kids:
            if kid.state in (JobState.FAILED, JobState.CANCELLED):
                _requeue_fresh(session, kid)
        if all(k.state is JobState.SUCCEEDED for k in kids):
            transition(session=session, job=job, to=JobState.QUEUED)
    else:
        _requeue_fresh(session, job)
    session.flush()
    return job


def _requeue_fresh(session: Session, job: Job) -> None:
    if job.state is JobState.CANCELLED:
        # A cancelled job is final; retrying the graph makes it run again all the same.
        job.state = JobState.FAILED
    transition(session=session, job=job, to=JobState.QUEUED)
    job.attempts = 0
    job.not_before = utcnow()
    job.error = None


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


def recover_orphans(
    *,
    session: Session,
    stale_after_s: float,
    live_ids: set[str],
    on_give_up: GiveUpHook = _no_hook,
) -> list[str]:
    """Re-queue ``running`` jobs whose worker died (or fail them when out of attempts).

    A worker is dead when it ran on this host and its process is gone, or when its
    heartbeat (written by a thread of its own while the job runs) is older than
    ``stale_after_s``. ``live_ids`` are jobs this process is running right now.
    """
    host = socket.gethostname()
    cutoff = utcnow() - timedelta(seconds=stale_after_s)
    recovered = []
    stmt = select(Job).where(Job.state == JobState.RUNNING).with_for_update()
    for job in session.scalars(stmt):
        if job.id in live_ids:
            continue
        stale = job.heartbeat_at is None or job.heartbeat_at < cutoff
        if not (stale or _worker_is_dead(job.worker, host=host)):
            continue
        reason = f"worker {job.worker} stopped answering"
        if job.attempts >= job.max_attempts:
            transition(session=session, job=job, to=JobState.FAILED, error=reason)
            on_give_up(session, job, reason)
            _settle_parent(session, job, on_give_up)
        else:
            transition(session=session, job=job, to=JobState.QUEUED, error=f"re-queued: {reason}")
            job.not_before = utcnow()
        recovered.append(job.id)
    return recovered


def list_jobs(
    *,
    session: Session,
    state: JobState | None = None,
    subject_id: str | None = None,
    parent_id: str | None = None,
    kind: JobKind | None = None,
    limit: int = 50,
) -> list[Job]:
    """Newest first, optionally narrowed to one state, subject, parent or kind."""
    stmt = select(Job).order_by(Job.created_at.desc(), Job.id.desc()).limit(limit)
    if state is not None:
        stmt = stmt.where(Job.state == state)
    if subject_id is not None:
        stmt = stmt.where(Job.subject_id == subject_id)
    if parent_id is not None:
        stmt = stmt.where(Job.parent_id == parent_id)
    if kind is not None:
        stmt = stmt.where(Job.kind == kind)
    return list(session.scalars(stmt))


def count_by_kind_and_state(*, session: Session) -> dict[tuple[str, str], int]:
    """Jobs per (kind, state), for the metrics endpoint."""
    rows = session.execute(select(Job.kind, Job.state, func.count()).group_by(Job.kind, Job.state))
    return {(k.value, s.value): int(n) for k, s, n in rows}


def delete_for_subject(*, session: Session, subject_type: str, subject_id: str) -> int:
    """Remove every job row of a subject (children go with their parent)."""
    result = session.execute(
        delete(Job)
        .where(Job.subject_type == subject_type, Job.subject_id == subject_id)
        .execution_options(synchronize_session=False)
    )
    session.expire_all()
    return int(result.rowcount)  # type: ignore[attr-defined]
