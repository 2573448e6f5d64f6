from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field


class PlaybackRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title_id: Annotated[str, Field(max_length=32)]


class AlternateUrls(BaseModel):
    """The same session's media through another delivery network (a fallback)."""

    cdn: str
    hls: str
    dash: str


class PlaybackOut(BaseModel):
    session_id: str
    title_id: str
    hls: str
    dash: str
    # The delivery network of hls/dash (None: this API's own origin), and the others
    # that are healthy now, to fall back to.
    cdn: str | None = None
    alternates: list[AlternateUrls] = []
    poster: str | None
    expires_at: datetime
    # Send POST /v1/playback/{session_id}/heartbeat this often; the lease ends after two
    # intervals without one.
    heartbeat_interval_s: int
    lease_expires_at: datetime
    # The tallest rendition this session is given (the plan's limit).
    max_height: int


class HeartbeatOut(BaseModel):
    session_id: str
    lease_expires_at: datetime
    heartbeat_interval_s: int


class PlaybackSessionOut(BaseModel):
    session_id: str
    title_id: str
    profile_id: str | None
    device_id: str | None
    created_at: datetime
    last_heartbeat_at: datetime | None
    lease_expires_at: datetime
    # The request comes from this session's device.
    current_device: bool
