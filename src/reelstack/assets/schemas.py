from __future__ import annotations

import enum
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict


class Rendition(BaseModel):
    """One packaged video variant; rates are measured, audio included."""

    name: str
    width: int
    height: int
    bandwidth: int
    average_bandwidth: int
    codecs: str
    playlist: str


class AudioTrack(BaseModel):
    """One packaged audio track; ``language`` is BCP-47 (``und`` when unknown)."""

    language: str
    name: str
    role: str
    default: bool
    channels: int
    bandwidth: int
    playlist: str


AssetStatusName = Literal["processing", "ready", "failed"]


class AssetOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    status: AssetStatusName
    original_filename: str | None
    size_bytes: int
    duration_s: float
    width: int
    height: int
    fps: float
    video_codec: str
    rotation: int
    # The published media version (None until the first publish).
    version: int | None
    renditions: list[Rendition]
    audio_tracks: list[AudioTrack]
    error: str | None
    # The uploader's account id (None: an API key, or a deleted account).
    created_by: str | None
    created_at: datetime
    ready_at: datetime | None


class AssetSummary(BaseModel):
    """What other domains may know of an asset (they never read its rows)."""

    id: str
    status: AssetStatusName
    duration_s: float
    version: int | None
    audio_languages: list[str]
    # Heights of the published version's video renditions, ascending.
    rendition_heights: list[int] = []
    # How the published version is encrypted ("clearkey"; None: clear).
    encryption: str | None = None

    @property
    def playable(self) -> bool:
        return self.status == "ready" and self.version is not None


class TranscodeOutput(BaseModel):
    """The result a transcode job leaves for its parent to publish."""

    version: int
    renditions: list[Rendition]
    audio_tracks: list[AudioTrack]
    # The version's encryption ("clearkey"; None: clear segments).
    encryption: str | None = None


class ReprocessIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # A ladder name (default: REELSTACK_LADDER).
    ladder: str | None = None


class ReprocessOut(BaseModel):
    asset_id: str
    job_id: str


class PurgeAction(enum.StrEnum):
    # Drop the cached copies (the next request refetches from the origin).
    PURGE = "purge"
    # Refuse the asset's URLs at the edge, whatever their token (unpublished, deleted).
    REVOKE = "revoke"


class PurgeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    seq: int
    asset_id: str
    action: PurgeAction
    created_at: datetime


class PurgeFeed(BaseModel):
    items: list[PurgeOut]
    # Ask for the records after this one next time.
    last_seq: int


class PurgeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Also refuse the asset's URLs from now on (unpublished or taken down).
    revoke: bool = False
