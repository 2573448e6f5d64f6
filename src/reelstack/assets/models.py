"""Media assets: one uploaded source and the versions of the stream packaged from it."""

from __future__ import annotations

import enum
from datetime import datetime

from pydantic import TypeAdapter
from sqlalchemy import BigInteger, Float, ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from reelstack.assets.schemas import AudioTrack, PurgeAction, Rendition
from reelstack.db import Base, PydanticJSON, enum_type, new_id, utcnow


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
    rotation: Mapped[int] = mapped_column(Integer, default=0)
    # The published media version players get (None until the first publish). Published
    # versions are immutable: a reprocess writes a new one and switches this pointer in
    # the transaction that marks the asset ready.
    version: Mapped[int | None] = mapped_column(Integer)
    # The next version number an encode attempt takes (each attempt writes its own).
    next_version: Mapped[int] = mapped_column(Integer, default=1)
    # The current version's renditions and audio tracks, as measured from the segments.
    renditions: Mapped[list[Rendition]] = mapped_column(
        PydanticJSON(TypeAdapter(list[Rendition])), default=list
    )
    audio_tracks: Mapped[list[AudioTrack]] = mapped_column(
        PydanticJSON(TypeAdapter(list[AudioTrack])), default=list
    )
    error: Mapped[str | None] = mapped_column(String(4000))
    # How the current version's segments are encrypted ("clearkey": HLS AES-128 + DASH
    # CENC, keys in media_keys; None: clear).
    encryption: Mapped[str | None] = mapped_column(String(16))
    # The staff account that uploaded it (None: an API key, or the account was deleted:
    # the media stays with the service).
    created_by: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    ready_at: Mapped[datetime | None] = mapped_column()


class MediaPurge(Base):
    __tablename__ = "media_purges"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # No foreign key: a deleted asset's revocation outlives its row.
    asset_id: Mapped[str] = mapped_column(String(32), index=True)
    action: Mapped[PurgeAction] = mapped_column(enum_type(PurgeAction, "purge_action"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class MediaKey(Base):
    """One content key of a media version (``reelstack.assets.keys``), stored encrypted
    under the key-encryption key (REELSTACK_MEDIA_KEY_SECRET), never beside the media."""

    __tablename__ = "media_keys"
    __table_args__ = (Index("ix_media_keys_asset_version", "asset_id", "version"),)

    # The key id, 32 hex digits (random): the one lookup the key and licence routes make.
    kid: Mapped[str] = mapped_column(String(32), primary_key=True)
    asset_id: Mapped[str] = mapped_column(ForeignKey("assets.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    # "aes128" (HLS, one per rotation period) or "cenc" (DASH).
    scheme: Mapped[str] = mapped_column(String(8))
    period: Mapped[int] = mapped_column(Integer, default=0)
    # AES-256-GCM: 12-byte nonce + encrypted key + 16-byte tag.
    wrapped: Mapped[bytes] = mapped_column(LargeBinary(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
