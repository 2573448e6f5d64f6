"""Catalog: titles and their playable state."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from reelstack.assets.models import Asset
from reelstack.catalog.models import Title, TitleKind
from reelstack.errors import BadRequest, NotFound


def create_title(
    *,
    session: Session,
    title: str,
    kind: TitleKind = TitleKind.MOVIE,
    description: str | None = None,
    asset_id: str | None = None,
) -> Title:
    """Add a title (optionally with its asset); the caller's transaction commits it."""
    row = Title(title=title, kind=kind, description=description, asset_id=asset_id)
    session.add(row)
    session.flush()
    return row


def get_title(*, session: Session, title_id: str) -> tuple[Title, Asset | None]:
    row = session.get(Title, title_id)
    if row is None:
        raise NotFound(f"title {title_id} does not exist")
    asset = session.get(Asset, row.asset_id) if row.asset_id else None
    return row, asset


def _encode_cursor(created_at: datetime, title_id: str) -> str:
    raw = f"{created_at.isoformat()}|{title_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        stamp, title_id = raw.split("|", 1)
        return datetime.fromisoformat(stamp), title_id
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise BadRequest("cursor is not one this API returned", code_hint="cursor") from exc


def list_titles(
    *, session: Session, limit: int = 50, cursor: str | None = None, q: str | None = None
) -> tuple[list[tuple[Title, Asset | None]], str | None]:
    """Newest first, keyset-paginated on (created_at, id) so pages never skip or repeat."""
    stmt = select(Title, Asset).outerjoin(Asset, Asset.id == Title.asset_id)
    if q:
        stmt = stmt.where(Title.title.icontains(q, autoescape=True))
    if cursor:
        created_at, title_id = _decode_cursor(cursor)
        stmt = stmt.where(
            or_(
                Title.created_at < created_at,
                and_(Title.created_at == created_at, Title.id < title_id),
            )
        )
    stmt = stmt.order_by(Title.created_at.desc(), Title.id.desc()).limit(limit + 1)
    rows: list[tuple[Title, Asset | None]] = [(t, a) for t, a in session.execute(stmt)]
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1][0]
        next_cursor = _encode_cursor(last.created_at, last.id)
    return rows, next_cursor
