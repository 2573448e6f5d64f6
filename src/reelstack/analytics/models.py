"""Player events (QoE beacons) and the views they belong to.

A view is one attempt to play, named by the player (``view_id``) and bound to the
playback session its first event came with: events of another session cannot join it.
Events are deduplicated by ``(view_id, event_id)``. Both rows go with their playback
session, so a household's analytics are deleted with the account.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from reelstack.analytics.metrics import EventType
from reelstack.db import Base, enum_type, utcnow

# SQLite makes only an INTEGER PRIMARY KEY an auto-incrementing row id.
_SEQ = BigInteger().with_variant(Integer(), "sqlite")


class AnalyticsView(Base):
    __tablename__ = "analytics_views"
    __table_args__ = (Index("ix_analytics_views_title_started", "title_id", "started_at"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    session_id: Mapped[str] = mapped_column(
        ForeignKey("playback_sessions.id", ondelete="CASCADE"), index=True
    )
    # Copied from the playback session, so summaries need no join: the household, the
    # profile and device that played, and the title.
    title_id: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[str] = mapped_column(String(32))
    profile_id: Mapped[str | None] = mapped_column(String(32))
    device_id: Mapped[str | None] = mapped_column(String(32))
    # The viewer's country as the trusted edge stated it (no IP address is kept).
    country: Mapped[str | None] = mapped_column(String(2))
    # Server time of the view's first stored event (summaries select views by this).
    started_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class AnalyticsEvent(Base):
    __tablename__ = "analytics_events"
    __table_args__ = (UniqueConstraint("view_id", "event_id"),)

    seq: Mapped[int] = mapped_column(_SEQ, primary_key=True, autoincrement=True)
    view_id: Mapped[str] = mapped_column(ForeignKey("analytics_views.id", ondelete="CASCADE"))
    event_id: Mapped[str] = mapped_column(String(64))
    type: Mapped[EventType] = mapped_column(enum_type(EventType, "analytics_event_type"))
    # The client's clock, epoch milliseconds.
    ts_ms: Mapped[int] = mapped_column(BigInteger)
    playhead_ms: Mapped[int | None] = mapped_column(BigInteger)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    country: Mapped[str | None] = mapped_column(String(2))
