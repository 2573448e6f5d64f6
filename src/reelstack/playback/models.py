"""Playback sessions: one per play request, each holding a stream lease.

A session's lease is live while ``ended_at`` is unset and ``lease_expires_at`` is in the
future; heartbeats push ``lease_expires_at`` forward by two intervals. The household's
live leases are what its plan's stream limit counts.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from reelstack.db import Base, new_id, utcnow


class PlaybackSession(Base):
    __tablename__ = "playback_sessions"
    __table_args__ = (Index("ix_playback_sessions_user_lease", "user_id", "lease_expires_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    title_id: Mapped[str] = mapped_column(ForeignKey("titles.id", ondelete="CASCADE"), index=True)
    asset_id: Mapped[str] = mapped_column(ForeignKey("assets.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    profile_id: Mapped[str | None] = mapped_column(ForeignKey("profiles.id", ondelete="SET NULL"))
    device_id: Mapped[str | None] = mapped_column(ForeignKey("devices.id", ondelete="SET NULL"))
    # How the household may watch it: free, subscription, purchase or rental.
    granted_via: Mapped[str] = mapped_column(String(20))
    # Renditions above this height are not offered to the session.
    max_height: Mapped[int] = mapped_column(Integer)
    heartbeat_interval_s: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The session's URLs stop working after this (heartbeats do not extend it).
    expires_at: Mapped[datetime] = mapped_column()
    lease_expires_at: Mapped[datetime] = mapped_column()
    last_heartbeat_at: Mapped[datetime | None] = mapped_column()
    ended_at: Mapped[datetime | None] = mapped_column()
    # "stopped" (the viewer ended it), "expired" (heartbeats stopped), "revoked" (the
    # entitlement was gone at a heartbeat).
    end_reason: Mapped[str | None] = mapped_column(String(20))
