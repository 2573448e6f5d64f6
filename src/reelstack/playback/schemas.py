from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field


class PlaybackRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title_id: Annotated[str, Field(max_length=32)]
    # "url": the token sits in the media URLs' path (every player); "cookie": plain
    # /m/... URLs and a signed cookie scoped to the version's path (CloudFront style).
    signed: Literal["url", "cookie"] = "url"


class MediaCookie(BaseModel):
    """The signed cookie the response also sets (for clients that set cookies on their
    media requests themselves, e.g. native apps)."""

    name: str
    value: str
    path: str
    domain: str | None
    expires_at: datetime
    secure: bool


class AlternateUrls(BaseModel):
    """The same session's media through another delivery network (a fallback)."""

    cdn: str
    hls: str
    dash: str


class DrmOut(BaseModel):
    """Licence servers of an encrypted title, by EME key system.

    E.g. ``org.w3.clearkey``, as Shaka's ``drm.servers`` takes them. HLS AES-128 needs
    none: its key URIs are in the playlists."""

    servers: dict[str, str]


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
    # The licence servers of an encrypted title (None: clear, or HLS AES-128 only).
    drm: DrmOut | None = None
    # With "signed": "cookie": the cookie that opens the media URLs (also set by the
    # response's Set-Cookie). None with path tokens or when signing is off.
    cookie: MediaCookie | None = None


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
