"""``run_job``: the one task function every executor calls. Takes ids only; idempotent.

The runner decides retry or give-up from generic outcomes only (``PermanentJobError``,
``JobCancelled``, ``ClaimLost``, anything else = a failed attempt), never from a
domain's error types.
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from typing import Any

import structlog

from reelstack import metrics
from reelstack.db import session_scope, utcnow
from reelstack.jobs import service
from reelstack.jobs.context import Heartbeat, JobContext, JobRef
from reelstack.jobs.errors import ClaimLost, JobCancelled, PermanentJobError
from reelstack.jobs.models import Job
from reelstack.jobs.registry import JobRegistry, UnknownJobKind
from reelstack.runtime import Runtime

log = structlog.get_logger(__name__)


def run_job(
    runtime: Runtime,
    registry: JobRegistry,
    *,
    worker: str,
    cancel: threading.Event,
    job_id: str | None = None,
    shutting_down: threading.Event | None = None,
    on_claim: Any = None,
) -> str | None:
    """Claim a job (``job_id``, or the most urgent due one) and run one attempt.

    Returns the id of the job it ran, or None when there was nothing to claim.
    ``on_claim(job_id)`` is called once the claim is held (executors map cancels).
    """
    with session_scope(runtime.sessions) as session:
        row: Job | None
        if job_id is not None:
            row = service.claim_job(session=session, job_id=job_id, worker=worker)
        else:
            row = service.claim_next(session=session, worker=worker)
        if row is None:
            return None
        ref = JobRef.of(row)
    if on_claim is not None:
        on_claim(ref.id)
    claim = service.Claim(job_id=ref.id, worker=worker, attempt=ref.attempt)
    ctx = JobContext(runtime, ref, claim, cancel)
    try:
        handler = registry.handler(ref.kind)
    except UnknownJobKind as exc:
        # A worker built without this kind's handler: fail loudly rather than loop.
        _fail(runtime, registry, ctx, str(exc), final=True)
        return ref.id
    log.info("job.started", job_id=ref.id, kind=ref.kind.value, attempt=ref.attempt)
    started = time.monotonic()
    outcome = "succeeded"
    try:
        with Heartbeat(ctx, runtime.settings.job_heartbeat_interval_s):
            try:
                ctx.check()
                result = handler.run(ctx)
                ctx.check()
            except (ClaimLost, JobCancelled) as exc:
                if ctx.lost.is_set() or isinstance(exc, ClaimLost):
                    raise ClaimLost(str(exc)) from exc
                outcome = "cancelled"
                _cancelled(runtime, registry, claim, shutting_down)
            except PermanentJobError as exc:
                outcome = "failed"
                _fail(runtime, registry, ctx, str(exc), final=True)
            except Exception as exc:
                log.exception("job.attempt_failed", job_id=ref.id, attempt=ref.attempt)
                final = ref.attempt >= ref.max_attempts
                outcome = "failed" if final else "retried"
                _fail(runtime, registry, ctx, f"{type(exc).__name__}: {exc}", final=final)
            else:
                with session_scope(runtime.sessions) as session:
                    service.succeed(
                        session=session,
                        claim=claim,
                        result=result,
                        on_give_up=registry.on_give_up,
                    )
                log.info("job.succeeded", job_id=ref.id)
    except ClaimLost:
        # Another worker holds the job now: this one wrote nothing after losing it.
        outcome = "claim_lost"
        log.warning("job.claim_lost", job_id=ref.id, attempt=ref.attempt, worker=worker)
    metrics.observe_job(ref.kind.value, outcome, time.monotonic() - started)
    return ref.id


def _cancelled(
    runtime: Runtime,
    registry: JobRegistry,
    claim: service.Claim,
    shutting_down: threading.Event | None,
) -> None:
    requeue = shutting_down is not None and shutting_down.is_set()
    with session_scope(runtime.sessions) as session:
        job = service.cancelled(
            session=session, claim=claim, requeue=requeue, on_give_up=registry.on_give_up
        )
        state = job.state
    log.info("job.stopped", job_id=claim.job_id, state=state.value)


def _fail(
    runtime: Runtime, registry: JobRegistry, ctx: JobContext, error: str, *, final: bool
) -> None:
    settings = runtime.settings
    retry_at = None
    if not final:
        delay = service.retry_delay_s(
            ctx.job.attempt, base_s=settings.job_retry_base_s, cap_s=settings.job_retry_cap_s
        )
        retry_at = utcnow() + timedelta(seconds=delay)
    with session_scope(runtime.sessions) as session:
        service.fail(
            session=session,
            claim=ctx.claim,
            error=error,
            retry_at=retry_at,
            on_give_up=registry.on_give_up,
        )
    if final:
        log.error("job.failed", job_id=ctx.job.id, error=error)
    else:
        log.warning("job.retry_scheduled", job_id=ctx.job.id, not_before=str(retry_at))
