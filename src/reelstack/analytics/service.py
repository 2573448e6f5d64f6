"""Beacon ingest (validate, bind to a playback session, deduplicate, store) and the QoE
metrics read from the stored events.

Ingest keeps the good events of a batch and reports the bad ones by index; it commits
before it returns, so an accepted event is stored (202 means committed). Replays are
idempotent: ``(view_id, event_id)`` is unique and rows are inserted with ON CONFLICT DO
NOTHING (SQLite and PostgreSQL alike).

One view's metrics are computed on read from its raw events
(``reelstack.analytics.metrics``); aggregates read the hourly rollups
(``reelstack.analytics.reports``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from reelstack.accounts.schemas import Principal
from reelstack.analytics import history
from reelstack.analytics.metrics import Event, ViewMetrics, views_metrics
from reelstack.analytics.models import AnalyticsEvent, AnalyticsView
from reelstack.analytics.schemas import (
    EventIn,
    EventsAccepted,
    Rejection,
    RejectReason,
    ViewMetricsOut,
)
from reelstack.db import serialized_writes, utcnow
from reelstack.errors import NotFound
from reelstack.playback.models import PlaybackSession

# Core tables: the inserts below skip the ORM (plain rows, no objects).
_EVENTS = AnalyticsEvent.__table__
_VIEWS = AnalyticsView.__table__


@dataclass(frozen=True)
class IngestRules:
    # How far an event's client time may lie behind or ahead of the server's clock.
    max_age: timedelta = timedelta(hours=24)
    max_lead: timedelta = timedelta(minutes=5)
    # How long after its URLs expire a playback session still takes events (late
    # batches: page-hide beacons, retries after a network loss).
    session_grace: timedelta = timedelta(hours=24)


DEFAULT_RULES = IngestRules()


def _describe(exc: ValidationError) -> str:
    first = exc.errors(include_url=False)[0]
    where = ".".join(str(part) for part in first["loc"])
    message = str(first["msg"]).removeprefix("Value error, ")
    return f"{where}: {message}" if where else message


def _insert_new(session: Session, table: Any, keys: list[str]) -> Insert:
    """An INSERT that skips rows whose ``keys`` are taken (ON CONFLICT DO NOTHING), in
    the session's SQL dialect. Run with a list of rows: one cached statement, sent in
    multi-row batches (SQLAlchemy's "insertmanyvalues"), not compiled per batch size."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing(index_elements=keys)
    return sqlite.insert(table).on_conflict_do_nothing(index_elements=keys)


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _ms_of(delta: timedelta) -> int:
    return int(delta.total_seconds() * 1000)


def ingest(
    *,
    session: Session,
    principal: Principal | None,
    items: Sequence[Any],
    country: str | None,
    rules: IngestRules = DEFAULT_RULES,
) -> EventsAccepted:
    """Store the valid events of a batch; report the others by index.

    An event must name a playback session that exists and still takes events; with an
    access token, a session of the caller's household. Without one the session id is the
    credential (unguessable, like the session's manifest URLs), so ``navigator.sendBeacon``
    can post. A view id is bound to the session of its first event. ``country`` (the
    trusted edge's) and the receive time are stored with each event.
    """
    now = utcnow()
    now_ms = _ms(now)
    rejected: list[Rejection] = []

    def reject(index: int, reason: RejectReason, detail: str) -> None:
        rejected.append(Rejection(index=index, reason=reason, detail=detail))

    valid: list[tuple[int, EventIn]] = []
    for index, raw in enumerate(items):
        try:
            event = EventIn.model_validate(raw)
        except ValidationError as exc:
            reject(index, RejectReason.INVALID, _describe(exc))
            continue
        if event.ts < now_ms - _ms_of(rules.max_age):
            reject(
                index,
                RejectReason.TOO_OLD,
                f"ts is more than {rules.max_age} before the server's clock",
            )
        elif event.ts > now_ms + _ms_of(rules.max_lead):
            reject(
                index,
                RejectReason.IN_FUTURE,
                f"ts is more than {rules.max_lead} ahead of the server's clock",
            )
        else:
            valid.append((index, event))

    sessions = _sessions(session, {event.session_id for _, event in valid})
    kept: list[tuple[int, EventIn]] = []
    for index, event in valid:
        row = sessions.get(event.session_id)
        if row is None:
            reject(
                index,
                RejectReason.UNKNOWN_SESSION,
                f"playback session {event.session_id} does not exist",
            )
        elif principal is not None and row.user_id != principal.user_id:
            reject(
                index,
                RejectReason.OTHER_HOUSEHOLD,
                "this playback session belongs to another household",
            )
        elif row.expires_at + rules.session_grace < now:
            reject(
                index,
                RejectReason.SESSION_CLOSED,
                "this playback session ended too long ago to take events",
            )
        else:
            kept.append((index, event))

    accepted = duplicates = 0
    if kept:
        with serialized_writes(session):
            bound = _bind_views(session, kept, sessions, country, now)
            rows: dict[tuple[str, str], dict[str, Any]] = {}
            positions: list[history.Position] = []
            for index, event in kept:
                if bound.get(event.view_id) != event.session_id:
                    reject(
                        index,
                        RejectReason.VIEW_CONFLICT,
                        f"view {event.view_id} belongs to another playback session",
                    )
                    continue
                accepted += 1
                facts = sessions[event.session_id]
                if (
                    facts.profile_id is not None
                    and event.playhead_ms is not None
                    and history.takes_position(event.type)
                ):
                    positions.append(
                        history.Position(
                            profile_id=facts.profile_id,
                            user_id=facts.user_id,
                            title_id=facts.title_id,
                            position_ms=event.playhead_ms,
                            ts_ms=event.ts,
                        )
                    )
                rows.setdefault(
                    (event.view_id, event.event_id),
                    {
                        "view_id": event.view_id,
                        "event_id": event.event_id,
                        "type": event.type,
                        "ts_ms": event.ts,
                        "playhead_ms": event.playhead_ms,
                        "data": event.data,
                        "received_at": now,
                        "country": country,
                    },
                )
            stored = 0
            if rows:
                # In batch order: ``seq`` orders events of the same client millisecond.
                insert = _insert_new(session, _EVENTS, ["view_id", "event_id"])
                # RETURNING names the rows really inserted (the others were stored before);
                # rowcount is not reliable for a multi-row insert on every driver.
                result = session.connection().execute(
                    insert.returning(_EVENTS.c.seq), list(rows.values())
                )
                stored = len(result.all())
            duplicates = accepted - stored
            history.record(session=session, positions=positions, now=now)
            # Committed here, under the writer lock: a 202 is never sent for lost rows.
            session.commit()
    rejected.sort(key=lambda r: r.index)
    return EventsAccepted(accepted=accepted, duplicates=duplicates, rejected=rejected)


@dataclass(frozen=True)
class _SessionFacts:
    id: str
    user_id: str
    title_id: str
    profile_id: str | None
    device_id: str | None
    expires_at: datetime


def _sessions(session: Session, ids: set[str]) -> dict[str, _SessionFacts]:
    if not ids:
        return {}
    rows = session.execute(
        select(
            PlaybackSession.id,
            PlaybackSession.user_id,
            PlaybackSession.title_id,
            PlaybackSession.profile_id,
            PlaybackSession.device_id,
            PlaybackSession.expires_at,
        ).where(PlaybackSession.id.in_(ids))
    )
    return {row.id: _SessionFacts(*row) for row in rows}


def _bind_views(
    session: Session,
    events: Sequence[tuple[int, EventIn]],
    sessions: dict[str, _SessionFacts],
    country: str | None,
    now: datetime,
) -> dict[str, str]:
    """Create the batch's new views (bound to the session of their first event; a
    concurrent batch may win the race, the insert skips it) and return every view's
    session id."""
    first: dict[str, str] = {}
    for _, event in events:
        first.setdefault(event.view_id, event.session_id)
    values = []
    # In key order, so concurrent batches take the unique-index locks in the same order.
    for view_id, session_id in sorted(first.items()):
        facts = sessions[session_id]
        values.append(
            {
                "id": view_id,
                "session_id": session_id,
                "title_id": facts.title_id,
                "user_id": facts.user_id,
                "profile_id": facts.profile_id,
                "device_id": facts.device_id,
                "country": country,
                "started_at": now,
            }
        )
    session.connection().execute(_insert_new(session, _VIEWS, ["id"]), values)
    bound = session.execute(
        select(AnalyticsView.id, AnalyticsView.session_id).where(AnalyticsView.id.in_(first))
    )
    return {row.id: row.session_id for row in bound}


# --- metrics --------------------------------------------------------------------------------


def _event(type_: Any, ts_ms: int, playhead_ms: int | None, data: Any) -> Event:
    return Event(type=type_, ts_ms=ts_ms, playhead_ms=playhead_ms, data=data or {})


_EVENT_COLUMNS = (
    AnalyticsEvent.type,
    AnalyticsEvent.ts_ms,
    AnalyticsEvent.playhead_ms,
    AnalyticsEvent.data,
)


def _view_out(view: AnalyticsView, metrics: ViewMetrics, parts: int) -> ViewMetricsOut:
    return ViewMetricsOut(
        parts=parts,
        view_id=view.id,
        session_id=view.session_id,
        title_id=view.title_id,
        user_id=view.user_id,
        profile_id=view.profile_id,
        device_id=view.device_id,
        country=view.country,
        started_at=view.started_at,
        **{name: getattr(metrics, name) for name in ViewMetrics.__dataclass_fields__},
    )


def get_view(*, session: Session, view_id: str) -> ViewMetricsOut:
    """One view's QoE metrics, computed from its stored events (404 for an unknown view)."""
    view = session.get(AnalyticsView, view_id)
    if view is None:
        raise NotFound(f"view {view_id} does not exist")
    rows = session.execute(
        select(*_EVENT_COLUMNS)
        .where(AnalyticsEvent.view_id == view_id)
        .order_by(AnalyticsEvent.seq)
    )
    parts = views_metrics((_event(*row) for row in rows), now_ms=_ms(utcnow()))
    if not parts:
        raise NotFound(f"view {view_id} has no events")
    return _view_out(view, parts[0], len(parts))
