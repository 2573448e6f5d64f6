"""The admin's analytics: summary, breakdown by a dimension, time series, concurrency.

Each reads the hourly rollups of ended views (rows whose hour starts in ``[from, to)``)
and adds the views not rolled up yet, computed from their raw events (views still
playing, and those ended since the job's last run): a large range reads rollups only.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, literal_column, select, union
from sqlalchemy.orm import Session

from reelstack.analytics.history import WATCHED_PROGRESS
from reelstack.analytics.metrics import Event, ViewMetrics, views_metrics
from reelstack.analytics.models import (
    AnalyticsConcurrency,
    AnalyticsDailyViewer,
    AnalyticsEvent,
    AnalyticsRollup,
    AnalyticsView,
)
from reelstack.analytics.rollups import DIMENSIONS, device_types, hour_of
from reelstack.analytics.schemas import (
    BreakdownOut,
    BreakdownRow,
    ConcurrencyOut,
    Dimension,
    Granularity,
    SeriesPoint,
    SummaryOut,
    TimeSeriesOut,
)
from reelstack.analytics.totals import Totals
from reelstack.catalog import service as catalog
from reelstack.db import utcnow

# A view counts as watching now with an event received this recently (players send
# a heartbeat every 10 s, batched every few seconds).
CONCURRENCY_WINDOW = timedelta(seconds=30)

_COLUMN = {
    Dimension.DEVICE: "device_type",
    Dimension.PLAYER: "player_name",
    Dimension.CDN: "cdn",
    Dimension.COUNTRY: "country",
    Dimension.RENDITION: "height",
}


@dataclass(frozen=True)
class Filters:
    """Which views: one title, and dimension values (None: any)."""

    title_id: str | None = None
    device_type: str | None = None
    player_name: str | None = None
    cdn: str | None = None
    country: str | None = None
    height: int | None = None

    def dimensions(self) -> dict[str, Any]:
        return {d: getattr(self, d) for d in DIMENSIONS if getattr(self, d) is not None}


def as_utc(moment: datetime) -> datetime:
    """``moment`` in UTC; a time without a zone is taken as UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@dataclass(frozen=True)
class _Item:
    """One view (or a rollup row) with its dimensions and hour."""

    hour: datetime
    dims: dict[str, Any]
    totals: Totals


def _rollup_items(session: Session, f: Filters, start: datetime, end: datetime) -> Iterator[_Item]:
    where: list[ColumnElement[bool]] = [AnalyticsRollup.hour >= start, AnalyticsRollup.hour < end]
    if f.title_id is not None:
        where.append(AnalyticsRollup.title_id == f.title_id)
    for name, value in f.dimensions().items():
        where.append(getattr(AnalyticsRollup, name) == value)
    names = list(Totals.__dataclass_fields__)
    columns = [getattr(AnalyticsRollup, n) for n in ("hour", *DIMENSIONS, *names)]
    for row in session.execute(select(*columns).where(*where)):
        values = row._mapping
        totals = Totals()
        totals.add({n: values[n] for n in names})
        yield _Item(as_utc(values["hour"]), {d: values[d] for d in DIMENSIONS}, totals)


def _raw_where(f: Filters, start: datetime, end: datetime) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = [
        AnalyticsView.rolled_up_at.is_(None),
        AnalyticsView.started_at >= start,
        AnalyticsView.started_at < end,
    ]
    if f.title_id is not None:
        where.append(AnalyticsView.title_id == f.title_id)
    if f.country is not None:
        where.append(func.coalesce(AnalyticsView.country, "") == f.country)
    return where


def _raw_items(session: Session, f: Filters, start: datetime, end: datetime) -> Iterator[_Item]:
    views = {
        v.id: v for v in session.scalars(select(AnalyticsView).where(*_raw_where(f, start, end)))
    }
    if not views:
        return
    devices = device_types(session, {v.device_id for v in views.values() if v.device_id})
    titles = catalog.titles_by_id(session=session, title_ids={v.title_id for v in views.values()})
    rows = session.execute(
        select(
            AnalyticsEvent.view_id,
            AnalyticsEvent.type,
            AnalyticsEvent.ts_ms,
            AnalyticsEvent.playhead_ms,
            AnalyticsEvent.data,
        )
        .where(AnalyticsEvent.view_id.in_(views))
        .order_by(AnalyticsEvent.view_id, AnalyticsEvent.seq)
    )
    now_ms = int(utcnow().timestamp() * 1000)
    wanted = f.dimensions()
    for view_id, group in itertools.groupby(rows, key=lambda row: row[0]):
        view = views[view_id]
        events = [Event(type=r[1], ts_ms=r[2], playhead_ms=r[3], data=r[4] or {}) for r in group]
        duration = titles[view.title_id].duration_s if view.title_id in titles else None
        parts = views_metrics(events, now_ms=now_ms)
        for part in parts:
            dims = _dims(view, part, parts[0], devices)
            if any(dims[k] != v for k, v in wanted.items()):
                continue
            totals = Totals()
            totals.add_view(part, completed=_completed(part, duration))
            yield _Item(hour_of(view.started_at), dims, totals)


def _dims(
    view: AnalyticsView, part: ViewMetrics, first: ViewMetrics, devices: dict[str, str]
) -> dict[str, Any]:
    return {
        "device_type": devices.get(view.device_id or "", ""),
        "player_name": part.player_name or first.player_name or "",
        "cdn": part.cdn or first.cdn or "",
        "country": view.country or "",
        "height": part.main_height or 0,
    }


def _completed(part: ViewMetrics, duration_s: float | None) -> bool:
    return bool(
        duration_s
        and part.max_playhead_ms is not None
        and part.max_playhead_ms >= WATCHED_PROGRESS * duration_s * 1000
    )


def _items(session: Session, f: Filters, start: datetime, end: datetime) -> Iterator[_Item]:
    yield from _rollup_items(session, f, start, end)
    yield from _raw_items(session, f, start, end)


def _unique(session: Session, f: Filters, start: datetime, end: datetime) -> tuple[int, int]:
    """Distinct viewers and households: the rolled-up days, and the views not yet."""
    daily: list[ColumnElement[bool]] = [
        AnalyticsDailyViewer.day >= start.date(),
        AnalyticsDailyViewer.day < (end + timedelta(days=1)).date(),
    ]
    if f.title_id is not None:
        daily.append(AnalyticsDailyViewer.title_id == f.title_id)
    raw = _raw_where(f, start, end)
    out = []
    for rolled, fresh in (
        (
            AnalyticsDailyViewer.viewer,
            func.coalesce(AnalyticsView.profile_id, AnalyticsView.user_id),
        ),
        (AnalyticsDailyViewer.user_id, AnalyticsView.user_id),
    ):
        both = union(
            select(rolled.label("who")).where(*daily),
            select(fresh.label("who")).where(*raw),
        ).subquery()
        out.append(session.scalar(select(func.count()).select_from(both)) or 0)
    return out[0], out[1]


def summary(*, session: Session, filters: Filters, start: datetime, end: datetime) -> SummaryOut:
    """Aggregates over the views that started in ``[start, end)`` (hour-aligned for
    rolled-up views), of one title or all, with optional dimension filters. Unique
    viewers ignore the dimension filters (they are counted per day and title)."""
    start, end = as_utc(start), as_utc(end)
    total = Totals()
    for item in _items(session, filters, start, end):
        total.add(item.totals)
    viewers, households = _unique(session, filters, start, end)
    return SummaryOut(
        title_id=filters.title_id,
        from_=start,
        to=end,
        unique_viewers=viewers,
        unique_households=households,
        **total.metrics(),  # type: ignore[arg-type]
    )


def breakdown(
    *, session: Session, filters: Filters, dimension: Dimension, start: datetime, end: datetime
) -> BreakdownOut:
    """The same metrics per value of ``dimension``, the most watched first."""
    start, end = as_utc(start), as_utc(end)
    column = _COLUMN[dimension]
    groups: dict[str, Totals] = defaultdict(Totals)
    for item in _items(session, filters, start, end):
        groups[str(item.dims[column])].add(item.totals)
    rows = [
        BreakdownRow(value=value, **totals.metrics())  # type: ignore[arg-type]
        for value, totals in sorted(groups.items(), key=lambda kv: (-kv[1].watch_time_ms, kv[0]))
    ]
    return BreakdownOut(dimension=dimension, from_=start, to=end, rows=rows)


def _period(granularity: Granularity) -> Callable[[datetime], datetime]:
    if granularity is Granularity.HOUR:
        return hour_of
    return lambda moment: hour_of(moment).replace(hour=0)


def time_series(
    *,
    session: Session,
    filters: Filters,
    granularity: Granularity,
    start: datetime,
    end: datetime,
) -> TimeSeriesOut:
    """The metrics per hour or day (UTC) of the views' start, oldest first."""
    start, end = as_utc(start), as_utc(end)
    period = _period(granularity)
    groups: dict[datetime, Totals] = defaultdict(Totals)
    for item in _items(session, filters, start, end):
        groups[period(item.hour)].add(item.totals)
    points = [
        SeriesPoint(time=moment, **groups[moment].metrics())  # type: ignore[arg-type]
        for moment in sorted(groups)
    ]
    return TimeSeriesOut(granularity=granularity, from_=start, to=end, points=points)


def concurrency(
    *, session: Session, title_id: str | None, start: datetime, end: datetime
) -> ConcurrencyOut:
    """Views watching now (an event in the last 30 s) and the peak per minute."""
    start, end = as_utc(start), as_utc(end)
    recent = (
        select(AnalyticsEvent.view_id)
        .where(AnalyticsEvent.received_at >= utcnow() - CONCURRENCY_WINDOW)
        .distinct()
    )
    if title_id is not None:
        recent = recent.join(AnalyticsView, AnalyticsView.id == AnalyticsEvent.view_id).where(
            AnalyticsView.title_id == title_id
        )
    now = session.scalar(select(func.count()).select_from(recent.subquery())) or 0
    where: list[ColumnElement[bool]] = [
        AnalyticsConcurrency.minute >= start,
        AnalyticsConcurrency.minute < end,
    ]
    if title_id is not None:
        where.append(AnalyticsConcurrency.title_id == title_id)
    viewers = func.sum(AnalyticsConcurrency.viewers).label("viewers")
    peak = session.execute(
        select(AnalyticsConcurrency.minute, viewers)
        .where(*where)
        .group_by(AnalyticsConcurrency.minute)
        .order_by(literal_column("viewers").desc(), AnalyticsConcurrency.minute)
        .limit(1)
    ).first()
    return ConcurrencyOut(
        now=now,
        window_s=int(CONCURRENCY_WINDOW.total_seconds()),
        peak=int(peak[1]) if peak else 0,
        peak_at=as_utc(peak[0]) if peak else None,
        from_=start,
        to=end,
    )
