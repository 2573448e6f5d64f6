"""Media assets: one uploaded source and the stream packaged from it."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Float, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from reelstack.db import Base, enum_type, new_id, utcnow


class AssetStatus(enum.StrEnum):
    PROCESSING = "processing"
    READY = "ready"
    FAILED = "failed"


class Asset(Base):
    __tablename__ = "assets"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    status: Mapped[AssetStatus] = mapped_column(
        enum_type(AssetStatus, "asset_status"), default=AssetStatus.PROCESSING
    )
    source_key: Mapped[str] = mapped_column(String(512))
    original_filename: Mapped[str | None] = mapped_column(String(512))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    duration_s: Mapped[float] = mapped_column(Float)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    fps: Mapped[float] = mapped_column(Float)
    video_codec: Mapped[str] = mapped_column(String(64))
    audio_channels: Mapped[int | None] = mapped_column(Integer)
    rotation: Mapped[int] = mapped_column(Integer, default=0)
    probe: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Filled when packaging succeeds: rendition list as measured from the real segments.
    renditions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # One entry per packaged audio track, in source order (language, name, role...).
    audio_tracks: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    error: Mapped[str | None] = mapped_column(String(4000))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    ready_at: Mapped[datetime | None] = mapped_column()
