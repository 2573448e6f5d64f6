"""Player events (QoE beacons) and the views they belong to.

A view is one attempt to play, named by the player (``view_id``) and bound to the
playback session its first event came with: events of another session cannot join it.
Events are deduplicated by ``(view_id, event_id)``. Both rows go with their playback
session, so a household's analytics are deleted with the account.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
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
    # Goes with its profile (a household's profile deleted takes its analytics along).
    profile_id: Mapped[str | None] = mapped_column(
        ForeignKey("profiles.id", ondelete="CASCADE"), index=True
    )
    device_id: Mapped[str | None] = mapped_column(String(32))
    # The viewer's country as the trusted edge stated it (no IP address is kept).
    country: Mapped[str | None] = mapped_column(String(2))
    # Server time of the view's first stored event (summaries select views by this).
    started_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    # When the rollup job added the (ended) view to the hourly rollups; None until then.
    rolled_up_at: Mapped[datetime | None] = mapped_column(index=True)


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
    # Indexed: concurrent viewers and the retention job select by it.
    received_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    country: Mapped[str | None] = mapped_column(String(2))


class WatchHistory(Base):
    """Where a profile stopped in a title, kept up to date by the ingest of its events.

    A row appears once a play reaches ``HISTORY_MIN_PROGRESS`` of the title; ``watched``
    stays true once a play reached ``WATCHED_PROGRESS``. Goes with the profile, the
    household and the title.
    """

    __tablename__ = "watch_history"
    __table_args__ = (Index("ix_watch_history_profile_updated", "profile_id", "updated_at"),)

    profile_id: Mapped[str] = mapped_column(
        ForeignKey("profiles.id", ondelete="CASCADE"), primary_key=True
    )
    title_id: Mapped[str] = mapped_column(
        ForeignKey("titles.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    position_ms: Mapped[int] = mapped_column(BigInteger)
    duration_ms: Mapped[int] = mapped_column(BigInteger)
    # Client time of the event the position comes from: a late batch never moves it back.
    event_ts_ms: Mapped[int] = mapped_column(BigInteger)
    watched: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class AnalyticsRollup(Base):
    """The ended views that started in one hour, summed per title and dimensions (an
    unknown dimension is ""; an unknown rendition height 0). Startup times are kept as a
    histogram (``metrics.startup_bucket``) so percentiles can be read over any range."""

    __tablename__ = "analytics_rollups"
    __table_args__ = (
        UniqueConstraint(
            "hour", "title_id", "device_type", "player_name", "cdn", "country", "height"
        ),
        Index("ix_analytics_rollups_title_hour", "title_id", "hour"),
    )

    id: Mapped[int] = mapped_column(_SEQ, primary_key=True, autoincrement=True)
    hour: Mapped[datetime] = mapped_column(index=True)
    title_id: Mapped[str] = mapped_column(String(32))
    device_type: Mapped[str] = mapped_column(String(32))
    player_name: Mapped[str] = mapped_column(String(64))
    cdn: Mapped[str] = mapped_column(String(64))
    country: Mapped[str] = mapped_column(String(2))
    height: Mapped[int] = mapped_column(Integer)
    views: Mapped[int] = mapped_column(Integer)
    started_views: Mapped[int] = mapped_column(Integer)
    completed_views: Mapped[int] = mapped_column(Integer)
    exits_before_start: Mapped[int] = mapped_column(Integer)
    failures: Mapped[int] = mapped_column(Integer)
    startup_failures: Mapped[int] = mapped_column(Integer)
    watch_time_ms: Mapped[int] = mapped_column(BigInteger)
    playing_time_ms: Mapped[int] = mapped_column(BigInteger)
    rebuffer_ms: Mapped[int] = mapped_column(BigInteger)
    rebuffer_count: Mapped[int] = mapped_column(Integer)
    startup_ms_sum: Mapped[int] = mapped_column(BigInteger)
    # {bucket: count} of the startup times.
    startup_histogram: Mapped[dict[str, int]] = mapped_column(JSON)
    # Bits per second times milliseconds, over the playing time with a known bitrate.
    bitrate_weighted: Mapped[float] = mapped_column(Float)
    bitrate_time_ms: Mapped[int] = mapped_column(BigInteger)
    upscale_weighted: Mapped[float] = mapped_column(Float)
    upscale_time_ms: Mapped[int] = mapped_column(BigInteger)
    startup_score_sum: Mapped[float] = mapped_column(Float)
    smoothness_score_sum: Mapped[float] = mapped_column(Float)
    smoothness_views: Mapped[int] = mapped_column(Integer)
    quality_score_sum: Mapped[float] = mapped_column(Float)
    quality_views: Mapped[int] = mapped_column(Integer)


class AnalyticsDailyViewer(Base):
    """Who watched a title on a day (UTC): unique viewers over any range of days."""

    __tablename__ = "analytics_daily_viewers"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    title_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    # The profile, or the household for a session without one.
    viewer: Mapped[str] = mapped_column(String(32), primary_key=True)
    # Both go with the account and the profile (the rollups hold no one's id).
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    profile_id: Mapped[str | None] = mapped_column(
        ForeignKey("profiles.id", ondelete="CASCADE"), index=True
    )


class AnalyticsConcurrency(Base):
    """Views with events in one minute (client time) per title: peak concurrent viewers."""

    __tablename__ = "analytics_concurrency"

    minute: Mapped[datetime] = mapped_column(primary_key=True)
    title_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    viewers: Mapped[int] = mapped_column(Integer)
