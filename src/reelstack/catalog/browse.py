"""What viewers read: the title list and a title's page (a series with its seasons and
episodes), published and available titles only, in the language asked for.

Invisible titles (not published, outside their windows, above the profile's ceiling, an
episode of an invisible series) do not exist here: 404, never 403.
"""

from __future__ import annotations

import base64
import binascii
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session, aliased

from reelstack.catalog import service
from reelstack.catalog.availability import open_clause
from reelstack.catalog.localization import localize
from reelstack.catalog.models import (
    Credit,
    Genre,
    Person,
    Season,
    Title,
    TitleGenre,
    TitleKind,
    TitleState,
)
from reelstack.catalog.schemas import (
    CreditOut,
    GenreOut,
    SeasonOut,
    TitleDetail,
    TitleOut,
    TitlePage,
)
from reelstack.db import utcnow
from reelstack.errors import BadRequest, NotFound

_TEXT_FIELDS = ("title", "short_synopsis", "description")


def visible(country: str | None, now: datetime) -> list[ColumnElement[bool]]:
    """The conditions that make a title visible to a viewer in ``country`` at ``now``."""
    return [Title.state == TitleState.PUBLISHED, open_clause(Title.id, country, now)]


def _in_visible_series(country: str | None, now: datetime) -> ColumnElement[bool]:
    series = aliased(Title)
    return Title.season_id.in_(
        select(Season.id)
        .join(series, series.id == Season.series_id)
        .where(series.state == TitleState.PUBLISHED, open_clause(series.id, country, now))
    )


def _genres(
    session: Session, title_ids: list[str], wanted: Sequence[str]
) -> dict[str, list[GenreOut]]:
    found: dict[str, list[GenreOut]] = defaultdict(list)
    if not title_ids:
        return found
    rows = session.execute(
        select(TitleGenre.title_id, Genre.slug, Genre.name, Genre.translations)
        .join(Genre, Genre.id == TitleGenre.genre_id)
        .where(TitleGenre.title_id.in_(title_ids))
        .order_by(TitleGenre.title_id, TitleGenre.position)
    )
    for title_id, slug, name, translations in rows:
        texts = {lang: {"name": text} for lang, text in (translations or {}).items()}
        localized, _ = localize({"name": name}, "", texts, wanted)
        found[title_id].append(GenreOut(slug=slug, name=localized["name"] or name))
    return found


def decorate(session: Session, rows: list[Title], wanted: Sequence[str]) -> list[TitleOut]:
    """The viewer's view of ``rows``: media state, genres, text in the wanted language,
    and an episode's series and season number (a bounded number of queries)."""
    outs = service.views(session, rows)
    genres = _genres(session, [r.id for r in rows], wanted)
    season_ids = {r.season_id for r in rows if r.season_id is not None}
    seasons: dict[str, tuple[str, int]] = {}
    if season_ids:
        seasons = {
            str(sid): (str(series_id), int(number))
            for sid, series_id, number in session.execute(
                select(Season.id, Season.series_id, Season.number).where(Season.id.in_(season_ids))
            )
        }
    for row, out in zip(rows, outs, strict=True):
        base = {field: getattr(row, field) for field in _TEXT_FIELDS}
        texts, out.language = localize(base, row.default_language, row.translations, wanted)
        out.title = texts["title"] or row.title
        out.short_synopsis = texts["short_synopsis"]
        out.description = texts["description"]
        out.genres = genres.get(row.id, [])
        if row.season_id is not None and row.season_id in seasons:
            out.series_id, out.season_number = seasons[row.season_id]
    return outs


def _encode_cursor(created_at: datetime, title_id: str) -> str:
    raw = f"{created_at.isoformat()}|{title_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        stamp, title_id = raw.split("|", 1)
        return datetime.fromisoformat(stamp), title_id
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise BadRequest("cursor is not one this API returned", field="cursor") from exc


def list_titles(
    *,
    session: Session,
    limit: int = 50,
    cursor: str | None = None,
    q: str | None = None,
    max_maturity: int | None = None,
    kind: TitleKind | None = None,
    genre: str | None = None,
    year: int | None = None,
    country: str | None = None,
    wanted: Sequence[str] = (),
) -> TitlePage:
    """Published, available titles, newest first, keyset-paginated on (created_at, id)
    so pages never skip or repeat. Episodes are listed only when ``kind`` asks for
    them; ``max_maturity`` (a profile's ceiling) hides the titles above it."""
    now = utcnow()
    stmt = select(Title).where(*visible(country, now))
    if kind is None:
        stmt = stmt.where(Title.kind != TitleKind.EPISODE)
    else:
        stmt = stmt.where(Title.kind == kind)
        if kind is TitleKind.EPISODE:
            stmt = stmt.where(_in_visible_series(country, now))
    if max_maturity is not None:
        stmt = stmt.where(Title.maturity_level <= max_maturity)
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
    if year is not None:
        stmt = stmt.where(Title.year == year)
    if cursor:
        created_at, title_id = _decode_cursor(cursor)
        stmt = stmt.where(
            or_(
                Title.created_at < created_at,
                and_(Title.created_at == created_at, Title.id < title_id),
            )
        )
    stmt = stmt.order_by(Title.created_at.desc(), Title.id.desc()).limit(limit + 1)
    rows = list(session.scalars(stmt))
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = _encode_cursor(rows[-1].created_at, rows[-1].id)
    return TitlePage(items=decorate(session, rows, wanted), next_cursor=next_cursor)


def _credits(session: Session, title_id: str) -> list[CreditOut]:
    rows = session.execute(
        select(Credit.person_id, Person.name, Credit.role, Credit.character)
        .join(Person, Person.id == Credit.person_id)
        .where(Credit.title_id == title_id)
        .order_by(Credit.position, Credit.id)
    )
    return [
        CreditOut(person_id=pid, name=name, role=role, character=character)
        for pid, name, role, character in rows
    ]


def _seasons(
    session: Session,
    series: Title,
    *,
    max_maturity: int | None,
    country: str | None,
    now: datetime,
    wanted: Sequence[str],
) -> list[SeasonOut]:
    """The series' seasons by number with their visible episodes by number; seasons
    without a visible episode are left out."""
    seasons = list(
        session.scalars(select(Season).where(Season.series_id == series.id).order_by(Season.number))
    )
    if not seasons:
        return []
    stmt = select(Title).where(Title.season_id.in_([s.id for s in seasons]), *visible(country, now))
    if max_maturity is not None:
        stmt = stmt.where(Title.maturity_level <= max_maturity)
    episodes = list(session.scalars(stmt.order_by(Title.episode_number, Title.id)))
    by_season: dict[str, list[TitleOut]] = defaultdict(list)
    for row, out in zip(episodes, decorate(session, episodes, wanted), strict=True):
        by_season[str(row.season_id)].append(out)
    found: list[SeasonOut] = []
    for season in seasons:
        if not by_season.get(season.id):
            continue
        base = {"title": season.title, "synopsis": season.synopsis}
        texts, _ = localize(base, series.default_language, season.translations, wanted)
        found.append(
            SeasonOut(
                id=season.id,
                number=season.number,
                title=texts["title"],
                synopsis=texts["synopsis"],
                year=season.year,
                episodes=by_season[season.id],
            )
        )
    return found


def get_title(
    *,
    session: Session,
    title_id: str,
    max_maturity: int | None = None,
    country: str | None = None,
    wanted: Sequence[str] = (),
) -> TitleDetail:
    """A published, available title with its credits and genres; a series with its
    seasons and their episodes, in order. Anything else is 404."""
    now = utcnow()
    stmt = select(Title).where(Title.id == title_id, *visible(country, now))
    if max_maturity is not None:
        stmt = stmt.where(Title.maturity_level <= max_maturity)
    row = session.scalar(stmt) if title_id and len(title_id) <= 64 else None
    if row is not None and row.kind is TitleKind.EPISODE:
        in_series = select(Title.id).where(Title.id == row.id, _in_visible_series(country, now))
        if session.scalar(in_series) is None:
            row = None
    if row is None:
        raise NotFound(f"title {title_id} does not exist")
    base = decorate(session, [row], wanted)[0]
    detail = TitleDetail(
        **base.model_dump(),
        tags=row.tags,
        studios=row.studios,
        original_language=row.original_language,
        credits=_credits(session, row.id),
    )
    if row.kind is TitleKind.SERIES:
        detail.seasons = _seasons(
            session, row, max_maturity=max_maturity, country=country, now=now, wanted=wanted
        )
    return detail
