from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict


class PlaybackRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title_id: str


class PlaybackOut(BaseModel):
    session_id: str
    title_id: str
    hls: str
    dash: str
    poster: str | None
    expires_at: datetime
