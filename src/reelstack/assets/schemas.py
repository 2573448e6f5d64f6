from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from reelstack.assets.models import AssetStatus


class RenditionOut(BaseModel):
    """One packaged video variant; rates are measured, audio included."""

    name: str
    width: int
    height: int
    bandwidth: int
    average_bandwidth: int
    codecs: str
    playlist: str


class AudioTrackOut(BaseModel):
    """One packaged audio track; ``language`` is BCP-47 (``und`` when unknown)."""

    language: str
    name: str
    role: str
    default: bool
    channels: int
    bandwidth: int
    playlist: str


class AssetOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    status: AssetStatus
    original_filename: str | None
    size_bytes: int
    duration_s: float
    width: int
    height: int
    fps: float
    video_codec: str
    audio_channels: int | None
    rotation: int
    renditions: list[RenditionOut]
    audio_tracks: list[AudioTrackOut]
    error: str | None
    created_at: datetime
    ready_at: datetime | None


class UploadOut(BaseModel):
    title_id: str
    asset_id: str
    job_id: str
