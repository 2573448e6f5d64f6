"""Series and their seasons: a season belongs to one series and has a number unique in
it; episodes are titles that name their season (``metadata`` checks and creates them)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from reelstack.catalog import audit
from reelstack.catalog.admin_schemas import SeasonAdminOut, SeasonIn, SeasonUpdate
from reelstack.catalog.audit import ChangedBy
from reelstack.catalog.errors import NotDeletable, duplicate, invalid
from reelstack.catalog.localization import normalize
from reelstack.catalog.metadata import get_row
from reelstack.catalog.models import Season, Title, TitleKind, TitleState
from reelstack.db import utcnow
from reelstack.errors import NotFound


def _get(session: Session, season_id: str) -> Season:
    row = session.get(Season, season_id)
    if row is None:
        raise NotFound(f"season {season_id} does not exist")
    return row


def _check_number(session: Session, series_id: str, number: int, season_id: str | None) -> None:
    clash = session.scalar(
        select(Season.id).where(Season.series_id == series_id, Season.number == number)
    )
    if clash is not None and clash != season_id:
        raise duplicate("number", f"series {series_id} has a season {number}")


def _translations(texts: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for tag, fields in texts.items():
        language = normalize(tag)
        if language is None:
            raise invalid(f"translations.{tag}", "not a language tag")
        out[language] = {str(k): v for k, v in fields.items() if v}
    return out


def _snapshot(row: Season) -> dict[str, Any]:
    return {
        "number": row.number,
        "title": row.title,
        "synopsis": row.synopsis,
        "translations": row.translations,
        "year": row.year,
    }


def season_out(session: Session, row: Season) -> SeasonAdminOut:
    episodes = session.scalars(
        select(Title.id).where(Title.season_id == row.id).order_by(Title.episode_number, Title.id)
    ).all()
    return SeasonAdminOut(
        id=row.id,
        series_id=row.series_id,
        number=row.number,
        title=row.title,
        synopsis=row.synopsis,
        translations=row.translations,
        year=row.year,
        episode_ids=list(episodes),
        created_at=row.created_at,
    )


def create_season(
    *, session: Session, series_id: str, body: SeasonIn, by: ChangedBy
) -> SeasonAdminOut:
    """A season of a series (422 naming ``series_id`` for a title of another kind; 409
    naming ``number`` when the series has that season)."""
    series = get_row(session, series_id)
    if series.kind is not TitleKind.SERIES:
        raise invalid("series_id", f"title {series_id} is a {series.kind.value}, not a series")
    _check_number(session, series_id, body.number, None)
    row = Season(
        series_id=series_id,
        number=body.number,
        title=body.title,
        synopsis=body.synopsis,
        translations=_translations(
            {k: {str(f): t for f, t in v.items()} for k, v in body.translations.items()}
        ),
        year=body.year,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        by=by,
        action="create",
        entity_type="season",
        entity_id=row.id,
        title_id=series_id,
        before=None,
        after=_snapshot(row),
    )
    return season_out(session, row)


def update_season(
    *, session: Session, season_id: str, body: SeasonUpdate, by: ChangedBy
) -> SeasonAdminOut:
    row = _get(session, season_id)
    sent = body.model_fields_set
    before = audit.jsonable(_snapshot(row))
    if "number" in sent:
        if body.number is None:
            raise invalid("number", "a season has a number")
        _check_number(session, row.series_id, body.number, row.id)
        row.number = body.number
    if "title" in sent:
        row.title = body.title
    if "synopsis" in sent:
        row.synopsis = body.synopsis
    if "year" in sent:
        row.year = body.year
    if body.translations is not None:
        row.translations = _translations(
            {k: {str(f): t for f, t in v.items()} for k, v in body.translations.items()}
        )
    session.flush()
    old, new = audit.diff(before, audit.jsonable(_snapshot(row)))
    if new:
        row.updated_at = utcnow()
        audit.record(
            session,
            by=by,
            action="update",
            entity_type="season",
            entity_id=row.id,
            title_id=row.series_id,
            before=old,
            after=new,
        )
    return season_out(session, row)


def delete_season(*, session: Session, season_id: str, by: ChangedBy) -> None:
    """Delete a season and its episodes; refused while one of them is published."""
    row = _get(session, season_id)
    episodes = session.execute(select(Title.id, Title.state).where(Title.season_id == row.id)).all()
    published = [tid for tid, state in episodes if state is TitleState.PUBLISHED]
    if published:
        raise NotDeletable(
            f"season {season_id} has published episodes: unpublish them first",
            episodes=published,
        )
    audit.record(
        session,
        by=by,
        action="delete",
        entity_type="season",
        entity_id=row.id,
        title_id=row.series_id,
        before={**_snapshot(row), "episodes": [tid for tid, _ in episodes]},
        after=None,
    )
    session.delete(row)
    session.flush()


def get_season(*, session: Session, season_id: str) -> SeasonAdminOut:
    return season_out(session, _get(session, season_id))


def seasons(*, session: Session, series_id: str) -> list[SeasonAdminOut]:
    get_row(session, series_id)
    rows = session.scalars(
        select(Season).where(Season.series_id == series_id).order_by(Season.number)
    ).all()
    return [season_out(session, r) for r in rows]
