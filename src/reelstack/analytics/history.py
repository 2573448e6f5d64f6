"""Watch history and resume: where each profile stopped in each title.

Positions come from the player's events, at ingest and in the ingest's transaction (an
accepted batch has moved the history too). The newest event of a profile and title with
a playhead wins; a late batch with older events changes nothing. A play that has not
reached ``HISTORY_MIN_PROGRESS`` of the title is not history: it neither creates a row
nor moves an existing one (a look at the first minutes does not lose the place). A title
is watched once a play reaches ``WATCHED_PROGRESS``; it leaves "continue watching" and
plays from the start again.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Insert, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from reelstack.accounts.models import Profile
from reelstack.accounts.schemas import Principal
from reelstack.analytics.metrics import EventType
from reelstack.analytics.models import WatchHistory
from reelstack.analytics.schemas import (
    ContinueWatchingItem,
    ContinueWatchingOut,
    HistoryItem,
    HistoryOut,
    ResumeOut,
)
from reelstack.catalog import service as catalog
from reelstack.playback.entitlements import ProfileRequired

HISTORY_MIN_PROGRESS = 0.05
WATCHED_PROGRESS = 0.90
# Events sent before the player loads (their playhead is not yet where the play starts).
_NO_POSITION = frozenset({EventType.VIEW_START, EventType.PLAY_REQUESTED})
CONTINUE_WATCHING_LIMIT = 50

_TABLE = WatchHistory.__table__


@dataclass(frozen=True)
class Position:
    """A profile's playhead in a title at a client time (from one event)."""

    profile_id: str
    user_id: str
    title_id: str
    position_ms: int
    ts_ms: int


def takes_position(type_: EventType) -> bool:
    return type_ not in _NO_POSITION


def _upsert(session: Session) -> Insert:
    table: Any = _TABLE
    if session.get_bind().dialect.name == "postgresql":
        insert: Any = postgresql.insert(table)
    else:
        insert = sqlite.insert(table)
    new = insert.excluded
    return insert.on_conflict_do_update(  # type: ignore[no-any-return]
        index_elements=["profile_id", "title_id"],
        set_={
            "position_ms": new.position_ms,
            "duration_ms": new.duration_ms,
            "event_ts_ms": new.event_ts_ms,
            "watched": or_(table.c.watched, new.watched),
            "updated_at": new.updated_at,
        },
        where=table.c.event_ts_ms < new.event_ts_ms,
    )


def record(*, session: Session, positions: Iterable[Position], now: datetime) -> None:
    """Move the history to the newest of ``positions`` per profile and title (called by
    the ingest, inside its transaction)."""
    newest: dict[tuple[str, str], Position] = {}
    for position in positions:
        key = (position.profile_id, position.title_id)
        seen = newest.get(key)
        if seen is None or position.ts_ms >= seen.ts_ms:
            newest[key] = position
    if not newest:
        return
    titles = catalog.titles_by_id(session=session, title_ids={k[1] for k in newest})
    rows = []
    # In key order, so concurrent batches take the row locks in the same order.
    for key in sorted(newest):
        position = newest[key]
        title = titles.get(position.title_id)
        if title is None or not title.duration_s:
            continue
        duration_ms = round(title.duration_s * 1000)
        progress = position.position_ms / duration_ms
        if progress < HISTORY_MIN_PROGRESS:
            continue
        rows.append(
            {
                "profile_id": position.profile_id,
                "title_id": position.title_id,
                "user_id": position.user_id,
                "position_ms": min(position.position_ms, duration_ms),
                "duration_ms": duration_ms,
                "event_ts_ms": position.ts_ms,
                "watched": progress >= WATCHED_PROGRESS,
                "updated_at": now,
            }
        )
    if rows:
        session.connection().execute(_upsert(session), rows)


def _progress(row: WatchHistory) -> float:
    return min(1.0, row.position_ms / row.duration_ms) if row.duration_ms else 0.0


def _in_progress(row: WatchHistory) -> bool:
    return HISTORY_MIN_PROGRESS <= _progress(row) < WATCHED_PROGRESS


def _profile(principal: Principal) -> str:
    if principal.profile_id is None:
        raise ProfileRequired("pick a profile: history is kept per profile")
    return principal.profile_id


def continue_watching(*, session: Session, principal: Principal) -> ContinueWatchingOut:
    """The signed-in profile's titles in progress (5 % to 90 %), newest first."""
    profile_id = _profile(principal)
    rows = [
        row
        for row in session.scalars(
            select(WatchHistory)
            .where(WatchHistory.profile_id == profile_id)
            .order_by(WatchHistory.updated_at.desc(), WatchHistory.title_id)
        )
        if _in_progress(row)
    ][:CONTINUE_WATCHING_LIMIT]
    titles = catalog.titles_by_id(session=session, title_ids=[r.title_id for r in rows])
    items = []
    for row in rows:
        title = titles.get(row.title_id)
        if title is None:
            continue
        items.append(
            ContinueWatchingItem(
                title_id=row.title_id,
                title=title.title,
                poster_url=title.poster_url,
                position_ms=row.position_ms,
                duration_ms=row.duration_ms,
                progress_percentage=100 * _progress(row),
                updated_at=row.updated_at,
            )
        )
    return ContinueWatchingOut(items=items)


def resume(*, session: Session, principal: Principal, title_id: str) -> ResumeOut:
    """Where the signed-in profile's next play of ``title_id`` starts: where it stopped
    while in progress, else from the start."""
    row = session.get(WatchHistory, (_profile(principal), title_id))
    if row is None:
        return ResumeOut(title_id=title_id, resume_ms=0, watched=False)
    start = row.position_ms if _in_progress(row) else 0
    return ResumeOut(title_id=title_id, resume_ms=start, watched=row.watched)


def history(*, session: Session, principal: Principal) -> HistoryOut:
    """The household's own watch history (every profile), newest first: its export."""
    rows = session.execute(
        select(WatchHistory, Profile.name)
        .join(Profile, Profile.id == WatchHistory.profile_id)
        .where(WatchHistory.user_id == principal.user_id)
        .order_by(WatchHistory.updated_at.desc(), WatchHistory.title_id)
    ).all()
    titles = catalog.titles_by_id(session=session, title_ids=[r[0].title_id for r in rows])
    items = [
        HistoryItem(
            profile_id=row.profile_id,
            profile_name=name,
            title_id=row.title_id,
            title=titles[row.title_id].title if row.title_id in titles else "",
            position_ms=row.position_ms,
            duration_ms=row.duration_ms,
            progress_percentage=100 * _progress(row),
            watched=row.watched,
            updated_at=row.updated_at,
        )
        for row, name in rows
    ]
    return HistoryOut(items=items)


def history_csv(out: HistoryOut) -> str:
    """The history as CSV (one header line, then a line per profile and title)."""
    buffer = io.StringIO()
    fields = list(HistoryItem.model_fields)
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(fields)
    for item in out.items:
        values = item.model_dump(mode="json")
        # A cell that a spreadsheet would run as a formula is quoted as text.
        writer.writerow(
            "'" + v if isinstance(v, str) and v[:1] in ("=", "+", "-", "@") else v
            for v in (values[f] for f in fields)
        )
    return buffer.getvalue()
