"""Availability windows: when and where viewers may see a title.

Semantics (also in the README):
- A title without any window is available everywhere, always (its workflow state
  alone decides): the catalog needs no windows until rights are restricted.
- A title with windows is available in country C at time T when one of its windows
  has ``starts_at <= T < ends_at`` (no ``ends_at``: open-ended) and names C or no
  country (everywhere).
- A viewer whose country is unknown (no trusted header, no GeoIP database) only gets
  the windows that name no country: region-restricted rights fail closed.
- An episode also needs its series to be published and available.

The check is SQL (``open_clause``): the viewer listings filter with it and playback's one
query (``service.playable``) selects it, so neither costs an extra round trip.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BindParameter, ColumnElement, exists, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session, aliased

from reelstack.catalog import audit
from reelstack.catalog.admin_schemas import WindowIn, WindowOut, WindowUpdate
from reelstack.catalog.audit import ChangedBy
from reelstack.catalog.errors import invalid
from reelstack.catalog.metadata import get_row
from reelstack.catalog.models import AvailabilityWindow
from reelstack.catalog.regions import country_code
from reelstack.errors import NotFound


def open_clause(
    title_id: ColumnElement[str] | InstrumentedAttribute[str],
    country: str | BindParameter[str] | None,
    now: datetime | BindParameter[datetime],
) -> ColumnElement[bool]:
    """True where the title ``title_id`` is available in ``country`` at ``now``."""
    any_window = aliased(AvailabilityWindow)
    window = aliased(AvailabilityWindow)
    where: ColumnElement[bool] = window.country.is_(None)
    if country is not None:
        where = or_(where, window.country == country)
    matching = exists(
        select(window.id).where(
            window.title_id == title_id,
            window.starts_at <= now,
            or_(window.ends_at.is_(None), window.ends_at > now),
            where,
        )
    )
    unrestricted = ~exists(select(any_window.id).where(any_window.title_id == title_id))
    return or_(unrestricted, matching)


def _country(value: str | None) -> str | None:
    if value is None:
        return None
    code = country_code(value)
    if code is None:
        raise invalid("country", f"{value!r} is not an ISO 3166 alpha-2 country code")
    return code


def _check_span(starts_at: datetime, ends_at: datetime | None) -> None:
    if ends_at is not None and ends_at <= starts_at:
        raise invalid("ends_at", "a window ends after it starts")


def _out(row: AvailabilityWindow) -> WindowOut:
    return WindowOut(
        id=row.id,
        title_id=row.title_id,
        country=row.country,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
    )


def _snapshot(row: AvailabilityWindow) -> dict[str, object]:
    return {"country": row.country, "starts_at": row.starts_at, "ends_at": row.ends_at}


def add_window(*, session: Session, title_id: str, body: WindowIn, by: ChangedBy) -> WindowOut:
    """A window for the title (422 naming ``ends_at`` when it ends before it starts)."""
    get_row(session, title_id)
    country = _country(body.country)
    _check_span(body.starts_at, body.ends_at)
    row = AvailabilityWindow(
        title_id=title_id, country=country, starts_at=body.starts_at, ends_at=body.ends_at
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        by=by,
        action="create",
        entity_type="window",
        entity_id=row.id,
        title_id=title_id,
        before=None,
        after=_snapshot(row),
    )
    return _out(row)


def _get(session: Session, window_id: str) -> AvailabilityWindow:
    row = session.get(AvailabilityWindow, window_id)
    if row is None:
        raise NotFound(f"availability window {window_id} does not exist")
    return row


def update_window(
    *, session: Session, window_id: str, body: WindowUpdate, by: ChangedBy
) -> WindowOut:
    row = _get(session, window_id)
    sent = body.model_fields_set
    before = _snapshot(row)
    country = _country(body.country) if "country" in sent else row.country
    if "starts_at" in sent and body.starts_at is None:
        raise invalid("starts_at", "a window has a start")
    starts_at = body.starts_at or row.starts_at
    ends_at = body.ends_at if "ends_at" in sent else row.ends_at
    _check_span(starts_at, ends_at)
    row.country, row.starts_at, row.ends_at = country, starts_at, ends_at
    session.flush()
    old, new = audit.diff(audit.jsonable(before), audit.jsonable(_snapshot(row)))
    if new:
        audit.record(
            session,
            by=by,
            action="update",
            entity_type="window",
            entity_id=row.id,
            title_id=row.title_id,
            before=old,
            after=new,
        )
    return _out(row)


def delete_window(*, session: Session, window_id: str, by: ChangedBy) -> None:
    row = _get(session, window_id)
    audit.record(
        session,
        by=by,
        action="delete",
        entity_type="window",
        entity_id=row.id,
        title_id=row.title_id,
        before=_snapshot(row),
        after=None,
    )
    session.delete(row)
    session.flush()


def windows(*, session: Session, title_id: str) -> list[WindowOut]:
    get_row(session, title_id)
    rows = session.scalars(
        select(AvailabilityWindow)
        .where(AvailabilityWindow.title_id == title_id)
        .order_by(AvailabilityWindow.starts_at, AvailabilityWindow.id)
    )
    return [_out(r) for r in rows]


def get_window(*, session: Session, window_id: str) -> WindowOut:
    return _out(_get(session, window_id))
