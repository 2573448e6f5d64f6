from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from reelstack.jobs.models import JobKind, JobState

__all__ = ["JobKind", "JobOut", "JobState"]


class JobOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    kind: JobKind
    state: JobState
    subject_type: str
    subject_id: str
    # The job this one is a child of (a graph's parent finishes after its children).
    parent_id: str | None
    # Lower runs first.
    priority: int
    # Held back until then (retry backoff, delayed clean-up).
    not_before: datetime
    attempts: int
    max_attempts: int
    progress: float
    error: str | None
    worker: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    heartbeat_at: datetime | None
