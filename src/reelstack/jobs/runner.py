"""``run_job``: the one task function every executor calls. Takes ids only; idempotent."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import structlog
from sqlalchemy.exc import SQLAlchemyError

from reelstack.db import session_scope
from reelstack.jobs import service
from reelstack.jobs.errors import JobCancelled, PermanentJobError
from reelstack.jobs.models import Job, JobKind, JobState
from reelstack.runtime import Runtime

log = structlog.get_logger(__name__)

ProgressFn = Callable[[float], None]


@dataclass(frozen=True)
class JobHandler:
    """What a job kind does (``run``) and how its domain learns the job gave up."""

    run: Callable[[Runtime, Job, ProgressFn, threading.Event], None]
    on_give_up: Callable[[Runtime, Job, str], None]


def handler_for(kind: JobKind) -> JobHandler:
    # Imported here: the assets domain depends on jobs, not the other way round.
    from reelstack.assets.pipeline import TRANSCODE_HANDLER

    return {JobKind.TRANSCODE: TRANSCODE_HANDLER}[kind]


def retry_delay_s(attempt: int, *, base_s: float = 5.0) -> float:
    """Backoff after failed attempt ``attempt``: base, 4x base, 9x base ... capped at 5 min."""
    return float(min(300.0, base_s * attempt * attempt))


def run_job(
    runtime: Runtime,
    *,
    job_id: str,
    worker: str,
    cancel: threading.Event,
    shutting_down: threading.Event | None = None,
) -> float | None:
    """Claim and run one job; returns a delay when the job should be retried."""
    with session_scope(runtime.sessions) as session:
        job = service.claim_job(session=session, job_id=job_id, worker=worker)
        if job is None:
            log.info("job.not_claimed", job_id=job_id)
            return None
        session.expunge(job)
    log.info("job.started", job_id=job_id, kind=job.kind.value, attempt=job.attempts)

    last_write = 0.0

    def on_progress(percent: float) -> None:
        nonlocal last_write
        now = time.monotonic()
        if now - last_write < 1.0 and percent < 100:
            return
        last_write = now
        try:
            with session_scope(runtime.sessions) as s:
                if service.record_progress(session=s, job_id=job_id, progress=percent):
                    cancel.set()
        except SQLAlchemyError:
            # A busy or briefly unreachable database must not kill a long transcode; the
            # next report tries again (and a missing heartbeat only matters after minutes).
            log.warning("job.progress_not_saved", job_id=job_id, exc_info=True)

    try:
        # A cancel requested between queueing and claiming is honoured before any work.
        with session_scope(runtime.sessions) as session:
            if service.get_job(session=session, job_id=job_id).cancel_requested:
                cancel.set()
        if cancel.is_set():
            raise JobCancelled("cancelled before start")
        handler_for(job.kind).run(runtime, job, on_progress, cancel)
    # Handlers raise a JobCancelled subclass (e.g. TranscodeCancelled) when told to stop.
    except JobCancelled:
        _after_cancel(runtime, job, shutting_down)
        return None
    except PermanentJobError as exc:
        # The input itself is bad: retrying cannot help.
        _fail(runtime, job, str(exc), final=True)
        return None
    except Exception as exc:
        log.exception("job.attempt_failed", job_id=job_id, attempt=job.attempts)
        final = job.attempts >= job.max_attempts
        _fail(runtime, job, f"{type(exc).__name__}: {exc}", final=final)
        if final:
            return None
        return retry_delay_s(job.attempts, base_s=runtime.settings.job_retry_base_s)
    with session_scope(runtime.sessions) as session:
        row = service.get_job(session=session, job_id=job_id)
        service.transition(session=session, job=row, to=JobState.SUCCEEDED)
    log.info("job.succeeded", job_id=job_id)
    return None


def _after_cancel(runtime: Runtime, job: Job, shutting_down: threading.Event | None) -> None:
    with session_scope(runtime.sessions) as session:
        row = service.get_job(session=session, job_id=job.id)
        if shutting_down is not None and shutting_down.is_set() and not row.cancel_requested:
            # The process is stopping, not the user: hand the job to the next start.
            service.transition(session=session, job=row, to=JobState.QUEUED)
            row.attempts = max(0, row.attempts - 1)
            log.info("job.requeued_on_shutdown", job_id=job.id)
            return
        service.transition(session=session, job=row, to=JobState.CANCELLED)
    handler_for(job.kind).on_give_up(runtime, job, "cancelled")
    log.info("job.cancelled", job_id=job.id)


def _fail(runtime: Runtime, job: Job, error: str, *, final: bool) -> None:
    with session_scope(runtime.sessions) as session:
        row = service.get_job(session=session, job_id=job.id)
        to = JobState.FAILED if final else JobState.QUEUED
        service.transition(session=session, job=row, to=to, error=error)
    if final:
        handler_for(job.kind).on_give_up(runtime, job, error)
        log.error("job.failed", job_id=job.id, error=error)
