"""Hourly rollups of ended views, per-minute concurrency, and the raw-event retention.

The rollup job takes views not rolled up yet whose events have ended them (``view_end``,
a fatal error, or an hour without events), computes each view's metrics once and adds
them to the row of its hour, title and dimensions (device type, player, CDN, country,
rendition height); the views are then marked rolled up in the same transaction. Events
that arrive for a view after that are kept but not rolled up again. The unique viewers
of each day and title are kept apart (distinct counts do not add up across hours).
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from reelstack.accounts.models import Device
from reelstack.analytics.history import WATCHED_PROGRESS
from reelstack.analytics.metrics import Event, views_metrics
from reelstack.analytics.models import (
    AnalyticsConcurrency,
    AnalyticsDailyViewer,
    AnalyticsEvent,
    AnalyticsRollup,
    AnalyticsView,
)
from reelstack.analytics.totals import Totals
from reelstack.catalog import service as catalog
from reelstack.db import serialized_writes

# Views examined per transaction of the rollup job.
ROLLUP_BATCH = 2000
# Per-minute concurrency is recounted this far back each run (late batches).
CONCURRENCY_LOOKBACK = timedelta(minutes=15)
# Rows deleted per statement by the retention job.
RETENTION_BATCH = 5000

DIMENSIONS = ("device_type", "player_name", "cdn", "country", "height")
_KEY = ("hour", "title_id", *DIMENSIONS)


def hour_of(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _insert(session: Session, table: Any) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def roll_up(*, session: Session, now: datetime, limit: int = ROLLUP_BATCH) -> int:
    """Roll up to ``limit`` ended views (the oldest first); returns how many views were
    examined (fewer than ``limit``: none left). The caller commits."""
    views = list(
        session.scalars(
            select(AnalyticsView)
            .where(AnalyticsView.rolled_up_at.is_(None))
            .order_by(AnalyticsView.started_at, AnalyticsView.id)
            .limit(limit)
        )
    )
    if not views:
        return 0
    ids = [v.id for v in views]
    rows = session.execute(
        select(
            AnalyticsEvent.view_id,
            AnalyticsEvent.type,
            AnalyticsEvent.ts_ms,
            AnalyticsEvent.playhead_ms,
            AnalyticsEvent.data,
        )
        .where(AnalyticsEvent.view_id.in_(ids))
        .order_by(AnalyticsEvent.view_id, AnalyticsEvent.seq)
    )
    events: dict[str, list[Event]] = {}
    for view_id, group in itertools.groupby(rows, key=lambda row: row[0]):
        events[view_id] = [
            Event(type=r[1], ts_ms=r[2], playhead_ms=r[3], data=r[4] or {}) for r in group
        ]
    devices = device_types(session, {v.device_id for v in views if v.device_id})
    titles = catalog.titles_by_id(session=session, title_ids={v.title_id for v in views})
    now_ms = _ms(now)
    sums: dict[tuple[Any, ...], Totals] = defaultdict(Totals)
    viewers: dict[tuple[Any, ...], dict[str, Any]] = {}
    done: list[str] = []
    for view in views:
        parts = views_metrics(events.get(view.id, []), now_ms=now_ms)
        if parts and not parts[-1].ended:
            continue  # still playing (or paused): next run
        done.append(view.id)
        duration = titles[view.title_id].duration_s if view.title_id in titles else None
        first_ms = parts[0].first_event_ms if parts else None
        for part in parts:
            offset = (part.first_event_ms or 0) - (first_ms or 0)
            started = view.started_at + timedelta(milliseconds=max(0, offset))
            key = (
                hour_of(started),
                view.title_id,
                devices.get(view.device_id or "", ""),
                part.player_name or parts[0].player_name or "",
                part.cdn or parts[0].cdn or "",
                view.country or "",
                part.main_height or 0,
            )
            completed = bool(
                duration
                and part.max_playhead_ms is not None
                and part.max_playhead_ms >= WATCHED_PROGRESS * duration * 1000
            )
            sums[key].add_view(part, completed=completed)
            viewer = view.profile_id or view.user_id
            day = started.astimezone(UTC).date()
            viewers[(day, view.title_id, viewer)] = {
                "day": day,
                "title_id": view.title_id,
                "viewer": viewer,
                "user_id": view.user_id,
                "profile_id": view.profile_id,
            }
    with serialized_writes(session):
        _add(session, sums)
        if viewers:
            insert = _insert(session, AnalyticsDailyViewer.__table__)
            session.execute(
                insert.on_conflict_do_nothing(index_elements=["day", "title_id", "viewer"]),
                [viewers[k] for k in sorted(viewers)],
            )
        if done:
            session.execute(
                update(AnalyticsView)
                .where(AnalyticsView.id.in_(done))
                .values(rolled_up_at=now)
                .execution_options(synchronize_session=False)
            )
    return len(views)


def device_types(session: Session, device_ids: set[str]) -> dict[str, str]:
    if not device_ids:
        return {}
    rows = session.execute(select(Device.id, Device.type).where(Device.id.in_(device_ids)))
    return {row.id: str(row.type.value) for row in rows}


def _add(session: Session, sums: dict[tuple[Any, ...], Totals]) -> None:
    """Add ``sums`` to their rollup rows (read, add, write: one job runs at a time)."""
    if not sums:
        return
    hours = {key[0] for key in sums}
    titles = {key[1] for key in sums}
    existing = {
        tuple(getattr(row, k) for k in _KEY): row
        for row in session.scalars(
            select(AnalyticsRollup).where(
                AnalyticsRollup.hour.in_(hours), AnalyticsRollup.title_id.in_(titles)
            )
        )
    }
    new = []
    for key in sorted(sums, key=lambda k: tuple(str(part) for part in k)):
        found = existing.get(key)
        if found is None:
            new.append({**dict(zip(_KEY, key, strict=True)), **sums[key].columns()})
            continue
        total = Totals()
        total.add(
            {name: getattr(found, name) for name in Totals.__dataclass_fields__},
        )
        total.add(sums[key])
        for name, value in total.columns().items():
            setattr(found, name, value)
    session.flush()
    if new:
        session.execute(insert(AnalyticsRollup), new)


def count_concurrency(*, session: Session, now: datetime) -> None:
    """Recount the views with events in each recent minute (client time), per title."""
    since = now - CONCURRENCY_LOOKBACK
    low = _ms(since) // 60_000 * 60_000
    minute = (AnalyticsEvent.ts_ms // 60_000).label("minute")
    rows = session.execute(
        select(
            AnalyticsView.title_id,
            minute,
            func.count(func.distinct(AnalyticsEvent.view_id)),
        )
        .join(AnalyticsView, AnalyticsView.id == AnalyticsEvent.view_id)
        .where(
            AnalyticsEvent.received_at >= since - timedelta(minutes=5),
            AnalyticsEvent.ts_ms >= low,
            AnalyticsEvent.ts_ms < _ms(now) + 60_000,
        )
        .group_by(AnalyticsView.title_id, minute)
    ).all()
    values = [
        {
            "minute": datetime.fromtimestamp(int(m) * 60, UTC),
            "title_id": title_id,
            "viewers": count,
        }
        for title_id, m, count in rows
    ]
    with serialized_writes(session):
        session.execute(
            delete(AnalyticsConcurrency).where(
                AnalyticsConcurrency.minute >= datetime.fromtimestamp(low / 1000, UTC)
            )
        )
        if values:
            session.execute(insert(AnalyticsConcurrency), values)


def delete_expired(*, session: Session, now: datetime, retention: timedelta) -> int:
    """Delete up to ``RETENTION_BATCH`` rolled-up views older than ``retention`` with
    their events, and older concurrency minutes; returns how many views went."""
    cutoff = now - retention
    ids: Sequence[str] = session.scalars(
        select(AnalyticsView.id)
        .where(and_(AnalyticsView.started_at < cutoff, AnalyticsView.rolled_up_at.is_not(None)))
        .limit(RETENTION_BATCH)
    ).all()
    with serialized_writes(session):
        if ids:
            session.execute(delete(AnalyticsEvent).where(AnalyticsEvent.view_id.in_(ids)))
            session.execute(delete(AnalyticsView).where(AnalyticsView.id.in_(ids)))
        session.execute(delete(AnalyticsConcurrency).where(AnalyticsConcurrency.minute < cutoff))
    return len(ids)
