"""Job rows: the persisted state machine and job graph that executors only run.

Priority: a LOWER number runs first (0 is the most urgent); the default is 100. Within
one priority, older jobs run first. ``not_before`` holds a job back (retry backoff, a
delayed clean-up) in the database, so every process and a restart honour it.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from reelstack.db import Base, enum_type, new_id, utcnow
from reelstack.jobs.payloads import JobPayload, PayloadType

DEFAULT_PRIORITY = 100


class JobState(enum.StrEnum):
    # A parent whose children have not all finished yet.
    WAITING = "waiting"
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


class JobKind(enum.StrEnum):
    # Parent of an asset's processing graph: publishes what its children made.
    PROCESS_ASSET = "process_asset"
    # Child: encode and package one version of an asset's media.
    TRANSCODE = "transcode"
    # Remove an asset's media versions that are no longer current (after a grace period).
    PURGE_MEDIA = "purge_media"
    # Periodic: add ended player views to the hourly rollups (it queues its next run).
    ANALYTICS_ROLLUP = "analytics_rollup"
    # Periodic: delete raw player events past their retention.
    ANALYTICS_RETENTION = "analytics_retention"
    # Publish or unpublish a catalog title at its scheduled time.
    CATALOG_SCHEDULE = "catalog_schedule"


class Job(Base):
    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_claim", "state", "priority", "created_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    kind: Mapped[JobKind] = mapped_column(enum_type(JobKind, "job_kind"))
    state: Mapped[JobState] = mapped_column(
        enum_type(JobState, "job_state"), default=JobState.QUEUED, index=True
    )
    # What the job works on, e.g. ("asset", "<id>"): no foreign key, jobs know no domain.
    subject_type: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[str] = mapped_column(String(64), index=True)
    payload: Mapped[JobPayload] = mapped_column(PayloadType())
    # What a successful run produced, for its parent to use (schema owned by the handler).
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    parent_id: Mapped[str | None] = mapped_column(
        ForeignKey("jobs.id", ondelete="CASCADE"), index=True
    )
    priority: Mapped[int] = mapped_column(Integer, default=DEFAULT_PRIORITY)
    not_before: Mapped[datetime] = mapped_column(default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=3)
    progress: Mapped[float] = mapped_column(default=0.0)
    error: Mapped[str | None] = mapped_column(Text)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    worker: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()
    heartbeat_at: Mapped[datetime | None] = mapped_column()
