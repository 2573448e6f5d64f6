"""The CMS title list: every state, filtered, sorted, keyset-paginated.

The cursor carries the sort and the last row's (sort value, id), so a page never skips
or repeats rows whatever is inserted meanwhile; a cursor used with another sort is 400.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from reelstack.catalog.admin_schemas import TitleAdminPage, TitleSort
from reelstack.catalog.metadata import admin_outs
from reelstack.catalog.models import Genre, Title, TitleGenre, TitleKind, TitleState
from reelstack.errors import BadRequest

_COLUMNS: dict[str, Any] = {"created_at": Title.created_at, "sort_title": Title.sort_title}


def _encode(sort: str, value: Any, title_id: str) -> str:
    if isinstance(value, datetime):
        value = value.isoformat()
    raw = json.dumps([sort, value, title_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str, sort: str) -> tuple[Any, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        cursor_sort, value, title_id = json.loads(raw)
        if cursor_sort != sort or not isinstance(value, str) or not isinstance(title_id, str):
            raise ValueError("another sort")
        if sort.lstrip("-") == "created_at":
            return datetime.fromisoformat(value), title_id
        return value, title_id
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError) as exc:
        raise BadRequest(
            "cursor is not one this API returned for this sort", field="cursor"
        ) from exc


def list_titles(
    *,
    session: Session,
    sort: TitleSort = "-created_at",
    cursor: str | None = None,
    limit: int = 50,
    kind: TitleKind | None = None,
    state: TitleState | None = None,
    genre: str | None = None,
    year: int | None = None,
    q: str | None = None,
    season_id: str | None = None,
) -> TitleAdminPage:
    """Titles in any state, ``sort`` ascending (``-`` for descending), ties by id."""
    column = _COLUMNS[sort.lstrip("-")]
    descending = sort.startswith("-")
    stmt = select(Title)
    if kind is not None:
        stmt = stmt.where(Title.kind == kind)
    if state is not None:
        stmt = stmt.where(Title.state == state)
    if year is not None:
        stmt = stmt.where(Title.year == year)
    if season_id is not None:
        stmt = stmt.where(Title.season_id == season_id)
    if q:
        stmt = stmt.where(Title.title.icontains(q, autoescape=True))
    if genre:
        stmt = stmt.where(
            Title.id.in_(
                select(TitleGenre.title_id)
                .join(Genre, Genre.id == TitleGenre.genre_id)
                .where(Genre.slug == genre)
            )
        )
    if cursor:
        value, title_id = _decode(cursor, sort)
        if descending:
            after = or_(column < value, and_(column == value, Title.id < title_id))
        else:
            after = or_(column > value, and_(column == value, Title.id > title_id))
        stmt = stmt.where(after)
    if descending:
        stmt = stmt.order_by(column.desc(), Title.id.desc())
    else:
        stmt = stmt.order_by(column.asc(), Title.id.asc())
    rows = list(session.scalars(stmt.limit(limit + 1)))
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = _encode(sort, getattr(last, sort.lstrip("-")), last.id)
    return TitleAdminPage(items=admin_outs(session, rows), next_cursor=next_cursor)
