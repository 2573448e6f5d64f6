"""The periodic analytics jobs: rollups (and per-minute concurrency) and retention.

Each run queues the next one (``not_before`` one interval later) before it returns;
``ensure_scheduled`` queues the first at start-up when none is pending, so there is one
chain per kind however many processes start.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session

from reelstack.analytics import rollups
from reelstack.db import utcnow
from reelstack.jobs import service as job_service
from reelstack.jobs.context import JobContext
from reelstack.jobs.models import Job, JobKind, JobState
from reelstack.jobs.payloads import AnalyticsRetentionPayload, AnalyticsRollupPayload
from reelstack.jobs.registry import JobHandler, JobRegistry

log = structlog.get_logger(__name__)

SUBJECT = "analytics"
# The retention job runs this often.
RETENTION_INTERVAL = timedelta(hours=1)
_PENDING = (JobState.QUEUED, JobState.WAITING, JobState.RUNNING)


def _queue(session: Session, kind: JobKind, delay: timedelta) -> Job:
    payload = (
        AnalyticsRollupPayload()
        if kind is JobKind.ANALYTICS_ROLLUP
        else AnalyticsRetentionPayload()
    )
    return job_service.create_job(
        session=session,
        payload=payload,
        subject_type=SUBJECT,
        subject_id=kind.value,
        max_attempts=3,
        priority=300,
        not_before=utcnow() + delay,
    )


def ensure_scheduled(*, session: Session) -> None:
    """Queue each periodic analytics job that has no pending run (the caller commits)."""
    for kind in (JobKind.ANALYTICS_ROLLUP, JobKind.ANALYTICS_RETENTION):
        pending = session.scalar(
            select(Job.id).where(Job.kind == kind, Job.state.in_(_PENDING)).limit(1)
        )
        if pending is None:
            _queue(session, kind, timedelta(0))


def run_rollup(ctx: JobContext) -> dict[str, Any]:
    """Roll up every ended view, recount recent concurrency, queue the next run."""
    settings = ctx.runtime.settings
    examined = 0
    while True:
        ctx.check()
        with ctx.transaction() as session:
            count = rollups.roll_up(session=session, now=utcnow())
        examined += count
        if count < rollups.ROLLUP_BATCH:
            break
    with ctx.transaction() as session:
        rollups.count_concurrency(session=session, now=utcnow())
        _queue(
            session,
            JobKind.ANALYTICS_ROLLUP,
            timedelta(seconds=settings.analytics_rollup_interval_s),
        )
    log.info("analytics.rolled_up", views=examined)
    return {"views": examined}


def run_retention(ctx: JobContext) -> dict[str, Any]:
    """Delete the raw events (and views) past the retention, queue the next run."""
    retention = timedelta(days=ctx.runtime.settings.analytics_retention_days)
    deleted = 0
    while True:
        ctx.check()
        with ctx.transaction() as session:
            count = rollups.delete_expired(session=session, now=utcnow(), retention=retention)
        deleted += count
        if count < rollups.RETENTION_BATCH:
            break
    with ctx.transaction() as session:
        _queue(session, JobKind.ANALYTICS_RETENTION, RETENTION_INTERVAL)
    log.info("analytics.retention", views_deleted=deleted)
    return {"views_deleted": deleted}


def register(registry: JobRegistry) -> None:
    registry.register(JobKind.ANALYTICS_ROLLUP, JobHandler(run=run_rollup))
    registry.register(JobKind.ANALYTICS_RETENTION, JobHandler(run=run_retention))
