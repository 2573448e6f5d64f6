from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from reelstack.jobs.models import JobKind, JobState


class JobOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    kind: JobKind
    state: JobState
    asset_id: str
    attempts: int
    max_attempts: int
    progress: float
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
