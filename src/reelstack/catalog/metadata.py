"""Titles in the CMS: create, read, update and delete their metadata, with the checks
that keep it whole (unique slug, known genres and ratings, episodes in one season with
unique numbers). Every change writes an audit entry; metadata changes also a revision.

Every check runs before the first write, so a refused request leaves nothing behind
(and the request's unit of work rolls back whatever an error interrupts).
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from reelstack.catalog import audit
from reelstack.catalog.admin_schemas import (
    AssetLinkOut,
    EpisodeCreate,
    TitleAdminOut,
    TitleCreate,
    TitleText,
    TitleUpdate,
)
from reelstack.catalog.audit import ChangedBy
from reelstack.catalog.errors import NotDeletable, duplicate, invalid
from reelstack.catalog.localization import normalize
from reelstack.catalog.models import (
    ExternalId,
    Genre,
    Season,
    Title,
    TitleAsset,
    TitleGenre,
    TitleKind,
    TitleState,
)
from reelstack.db import utcnow
from reelstack.errors import NotFound
from reelstack.ratings import RATING_SYSTEMS, maturity_of

_EXTERNAL_ID = {
    "imdb": re.compile(r"^tt[0-9]{7,10}$"),
    "tmdb": re.compile(r"^[0-9]{1,10}$"),
    "tvdb": re.compile(r"^[0-9]{1,10}$"),
    "eidr": re.compile(r"^10\.5240/[0-9A-F]{4}(-[0-9A-F]{4}){4}-[0-9A-Z]$"),
}
CUSTOM_FIELDS_MAX_BYTES = 16 * 1024
_ARTICLES = ("the ", "a ", "an ")


def _ids(ids: Mapping[Any, str]) -> dict[str, str]:
    return {str(k): v for k, v in ids.items()}


def get_row(session: Session, title_id: str) -> Title:
    row = session.get(Title, title_id)
    if row is None:
        raise NotFound(f"title {title_id} does not exist")
    return row


def sort_title_of(title: str) -> str:
    """The title without a leading English article ("The Wire" sorts as "Wire")."""
    lowered = title.lower()
    for article in _ARTICLES:
        if lowered.startswith(article) and len(title) > len(article):
            return title[len(article) :]
    return title


def check_rating(system: str | None, rating: str | None) -> tuple[str | None, str | None, int]:
    """(system, rating, maturity level): both or neither; an unknown one is 422."""
    if system is None and rating is None:
        return None, None, int(maturity_of(None, None))
    if system is None:
        raise invalid("rating_system", "a rating needs its rating_system")
    if system.upper() not in RATING_SYSTEMS:
        known = ", ".join(sorted(RATING_SYSTEMS))
        raise invalid("rating_system", f"{system!r} is not a known system ({known})")
    if rating is None:
        raise invalid("rating", f"a rating of {system!r} is needed")
    if rating.upper() not in RATING_SYSTEMS[system.upper()]:
        raise invalid("rating", f"{rating!r} is not a rating of {system.upper()!r}")
    return system.upper(), rating.upper(), int(maturity_of(system, rating))


def _check_slug(session: Session, slug: str, title_id: str | None) -> None:
    other = session.scalar(select(Title.id).where(Title.slug == slug))
    if other is not None and other != title_id:
        raise duplicate("slug", f"{slug!r} is taken by another title")


def genre_ids(session: Session, slugs: list[str]) -> list[str]:
    """The ids of ``slugs`` in order; any unknown one is 422 naming ``genres``."""
    wanted = list(dict.fromkeys(slugs))
    found = dict(session.execute(select(Genre.slug, Genre.id).where(Genre.slug.in_(wanted))).all())
    unknown = [s for s in wanted if s not in found]
    if unknown:
        raise invalid("genres", f"unknown genre(s): {', '.join(unknown)}")
    return [str(found[s]) for s in wanted]


def _check_external_ids(session: Session, ids: dict[str, str], title_id: str | None) -> None:
    for system, value in ids.items():
        if not _EXTERNAL_ID[system].match(value):
            raise invalid(f"external_ids.{system}", f"{value!r} is not a {system} id")
        owner = session.scalar(
            select(ExternalId.title_id).where(
                ExternalId.system == system, ExternalId.value == value
            )
        )
        if owner is not None and owner != title_id:
            raise duplicate(f"external_ids.{system}", f"{value!r} belongs to title {owner}")


def _check_custom_fields(fields: dict[str, Any]) -> None:
    if len(json.dumps(fields)) > CUSTOM_FIELDS_MAX_BYTES:
        raise invalid("custom_fields", f"larger than {CUSTOM_FIELDS_MAX_BYTES} bytes as JSON")


def _translations(texts: dict[str, TitleText], default_language: str) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for tag, text in texts.items():
        language = normalize(tag)
        if language is None or language == default_language:
            raise invalid(f"translations.{tag}", "not a language other than the default")
        out[language] = {k: v for k, v in text.model_dump().items() if v is not None}
    return out


def _episode_place(
    session: Session, kind: TitleKind, season_id: str | None, number: int | None, title_id: str
) -> tuple[str | None, int | None]:
    """(season id, episode number) of an episode, checked; (None, None) for other kinds."""
    if kind is not TitleKind.EPISODE:
        if season_id is not None:
            raise invalid("season_id", f"a {kind.value} belongs to no season")
        if number is not None:
            raise invalid("episode_number", f"a {kind.value} has no episode number")
        return None, None
    if season_id is None:
        raise invalid("season_id", "an episode belongs to exactly one season")
    if session.get(Season, season_id) is None:
        raise invalid("season_id", f"season {season_id} does not exist")
    if number is None:
        top = session.scalar(
            select(func.max(Title.episode_number)).where(Title.season_id == season_id)
        )
        return season_id, (top or 0) + 1
    clash = session.scalar(
        select(Title.id).where(Title.season_id == season_id, Title.episode_number == number)
    )
    if clash is not None and clash != title_id:
        raise duplicate("episode_number", f"season {season_id} has an episode {number}")
    return season_id, number


def snapshot(session: Session, row: Title) -> dict[str, Any]:
    """The title's metadata as one JSON-able dict (revisions and the audit log)."""
    genres = session.scalars(
        select(Genre.slug)
        .join(TitleGenre, TitleGenre.genre_id == Genre.id)
        .where(TitleGenre.title_id == row.id)
        .order_by(TitleGenre.position)
    ).all()
    external = dict(
        session.execute(
            select(ExternalId.system, ExternalId.value).where(ExternalId.title_id == row.id)
        ).all()
    )
    data: dict[str, Any] = audit.jsonable(
        {
            "kind": row.kind,
            "title": row.title,
            "slug": row.slug,
            "sort_title": row.sort_title,
            "short_synopsis": row.short_synopsis,
            "description": row.description,
            "default_language": row.default_language,
            "translations": row.translations,
            "original_language": row.original_language,
            "release_date": row.release_date,
            "year": row.year,
            "runtime_s": row.runtime_s,
            "genres": list(genres),
            "tags": row.tags,
            "studios": row.studios,
            "external_ids": {str(k): str(v) for k, v in sorted(external.items())},
            "custom_fields": row.custom_fields,
            "rating_system": row.rating_system,
            "rating": row.rating,
            "maturity_level": row.maturity_level,
            "free": row.free,
            "season_id": row.season_id,
            "episode_number": row.episode_number,
        }
    )
    return data


def _set_genres(session: Session, title_id: str, ids: list[str]) -> None:
    for old in session.scalars(select(TitleGenre).where(TitleGenre.title_id == title_id)):
        session.delete(old)
    session.flush()
    for position, genre_id in enumerate(ids):
        session.add(TitleGenre(title_id=title_id, genre_id=genre_id, position=position))


def _set_external_ids(session: Session, title_id: str, ids: dict[str, str]) -> None:
    for old in session.scalars(select(ExternalId).where(ExternalId.title_id == title_id)):
        session.delete(old)
    session.flush()
    for system, value in ids.items():
        session.add(ExternalId(system=system, value=value, title_id=title_id))


def create_title(
    *,
    session: Session,
    body: TitleCreate | EpisodeCreate,
    by: ChangedBy,
    default_language: str,
    season_id: str | None = None,
) -> TitleAdminOut:
    """A new draft title (``EpisodeCreate`` with ``season_id``: an episode of that season)."""
    if isinstance(body, TitleCreate):
        kind, season_id = body.kind, body.season_id
    else:
        kind = TitleKind.EPISODE
    language = normalize(body.default_language or default_language) or "en"
    system, rating, maturity = check_rating(body.rating_system, body.rating)
    if body.slug is not None:
        _check_slug(session, body.slug, None)
    genres = genre_ids(session, body.genres)
    _check_external_ids(session, _ids(body.external_ids), None)
    _check_custom_fields(body.custom_fields)
    translations = _translations(body.translations, language)
    release = body.release_date
    if body.year is not None and release is not None and body.year != release.year:
        raise invalid("year", "differs from the release date's year")
    season, number = _episode_place(session, kind, season_id, body.episode_number, "")
    row = Title(
        kind=kind,
        state=TitleState.DRAFT,
        title=body.title,
        sort_title=body.sort_title or sort_title_of(body.title),
        slug=body.slug,
        short_synopsis=body.short_synopsis,
        description=body.description,
        default_language=language,
        translations=translations,
        original_language=normalize(body.original_language) if body.original_language else None,
        release_date=body.release_date,
        year=body.year or (body.release_date.year if body.release_date else None),
        runtime_s=body.runtime_s,
        tags=list(dict.fromkeys(body.tags)),
        studios=list(dict.fromkeys(body.studios)),
        custom_fields=body.custom_fields,
        rating_system=system,
        rating=rating,
        maturity_level=maturity,
        free=body.free,
        season_id=season,
        episode_number=number,
        revision=1,
    )
    session.add(row)
    session.flush()
    _set_genres(session, row.id, genres)
    _set_external_ids(session, row.id, _ids(body.external_ids))
    session.flush()
    data = snapshot(session, row)
    audit.add_revision(session, title_id=row.id, revision=1, by=by, data=data)
    audit.record(
        session,
        by=by,
        action="create",
        entity_type="title",
        entity_id=row.id,
        title_id=row.id,
        before=None,
        after={"state": row.state.value, **data},
    )
    return admin_outs(session, [row])[0]


def update_title(
    *, session: Session, title_id: str, body: TitleUpdate, by: ChangedBy
) -> TitleAdminOut:
    """Change the fields sent; a new revision when anything changed."""
    row = get_row(session, title_id)
    sent = body.model_fields_set
    before = snapshot(session, row)
    if "title" in sent and body.title is None:
        raise invalid("title", "a title cannot be empty")
    if "slug" in sent and body.slug is not None:
        _check_slug(session, body.slug, row.id)
    if {"rating_system", "rating"} & sent:
        system = body.rating_system if "rating_system" in sent else row.rating_system
        rating = body.rating if "rating" in sent else row.rating
        row.rating_system, row.rating, row.maturity_level = check_rating(system, rating)
    genres = genre_ids(session, body.genres) if body.genres is not None else None
    if body.external_ids is not None:
        _check_external_ids(session, _ids(body.external_ids), row.id)
    if body.custom_fields is not None:
        _check_custom_fields(body.custom_fields)
    language = row.default_language
    if "default_language" in sent:
        if body.default_language is None:
            raise invalid("default_language", "a title has a default language")
        language = normalize(body.default_language) or language
    if body.translations is not None:
        translations = _translations(body.translations, language)
    elif language in row.translations:
        raise invalid("default_language", f"the title has a translation into {language!r}")
    if {"season_id", "episode_number"} & sent:
        season = body.season_id if "season_id" in sent else row.season_id
        number = body.episode_number if "episode_number" in sent else None
        row.season_id, row.episode_number = _episode_place(
            session, row.kind, season, number, row.id
        )
    release = body.release_date if "release_date" in sent else row.release_date
    year = body.year if "year" in sent else row.year
    if "release_date" in sent and "year" not in sent and release is not None:
        year = release.year
    if year is not None and release is not None and year != release.year:
        raise invalid("year", "differs from the release date's year")
    for field in ("short_synopsis", "description", "runtime_s"):
        if field in sent:
            setattr(row, field, getattr(body, field))
    if body.title is not None:
        row.title = body.title
        if "sort_title" not in sent and row.sort_title == sort_title_of(before["title"]):
            row.sort_title = sort_title_of(body.title)
    if "sort_title" in sent:
        row.sort_title = body.sort_title or sort_title_of(row.title)
    if "slug" in sent:
        row.slug = body.slug
    if "original_language" in sent:
        original = body.original_language
        row.original_language = normalize(original) if original else None
    if body.free is not None:
        row.free = body.free
    if body.tags is not None:
        row.tags = list(dict.fromkeys(body.tags))
    if body.studios is not None:
        row.studios = list(dict.fromkeys(body.studios))
    if body.custom_fields is not None:
        row.custom_fields = body.custom_fields
    if body.translations is not None:
        row.translations = translations
    row.default_language, row.release_date, row.year = language, release, year
    if genres is not None:
        _set_genres(session, row.id, genres)
    if body.external_ids is not None:
        _set_external_ids(session, row.id, _ids(body.external_ids))
    session.flush()
    after = snapshot(session, row)
    old, new = audit.diff(before, after)
    if new:
        row.revision += 1
        row.updated_at = utcnow()
        audit.add_revision(session, title_id=row.id, revision=row.revision, by=by, data=after)
        audit.record(
            session,
            by=by,
            action="update",
            entity_type="title",
            entity_id=row.id,
            title_id=row.id,
            before=old,
            after=new,
        )
        session.flush()
    return admin_outs(session, [row])[0]


def published_episodes(session: Session, series_id: str) -> list[str]:
    return list(
        session.scalars(
            select(Title.id)
            .join(Season, Season.id == Title.season_id)
            .where(Season.series_id == series_id, Title.state == TitleState.PUBLISHED)
        )
    )


def check_deletable(session: Session, row: Title) -> None:
    """A published title (or a series with a published episode) must be withdrawn first."""
    if row.state is TitleState.PUBLISHED:
        raise NotDeletable(f"title {row.id} is published: unpublish it first", state=row.state)
    if row.kind is TitleKind.SERIES and published_episodes(session, row.id):
        raise NotDeletable(f"series {row.id} has published episodes: unpublish them first")


def delete_title(*, session: Session, title_id: str, by: ChangedBy) -> None:
    """Delete a title that is not published; a series goes with its seasons and episodes."""
    row = get_row(session, title_id)
    check_deletable(session, row)
    before = {"state": row.state.value, **snapshot(session, row)}
    if row.kind is TitleKind.SERIES:
        before["episodes"] = list(
            session.scalars(
                select(Title.id)
                .join(Season, Season.id == Title.season_id)
                .where(Season.series_id == row.id)
            )
        )
    audit.record(
        session,
        by=by,
        action="delete",
        entity_type="title",
        entity_id=row.id,
        title_id=row.id,
        before=before,
        after=None,
    )
    session.delete(row)
    session.flush()


def get_admin(*, session: Session, title_id: str) -> TitleAdminOut:
    return admin_outs(session, [get_row(session, title_id)])[0]


def admin_outs(session: Session, rows: list[Title]) -> list[TitleAdminOut]:
    """The CMS view of ``rows`` (four queries whatever their number)."""
    ids = [r.id for r in rows]
    genres: dict[str, list[str]] = defaultdict(list)
    external: dict[str, dict[str, str]] = defaultdict(dict)
    assets: dict[str, list[AssetLinkOut]] = defaultdict(list)
    series: dict[str, str] = {}
    if ids:
        for tid, slug in session.execute(
            select(TitleGenre.title_id, Genre.slug)
            .join(Genre, Genre.id == TitleGenre.genre_id)
            .where(TitleGenre.title_id.in_(ids))
            .order_by(TitleGenre.position)
        ):
            genres[tid].append(slug)
        for ext in session.scalars(select(ExternalId).where(ExternalId.title_id.in_(ids))):
            external[ext.title_id][ext.system] = ext.value
        for link in session.scalars(
            select(TitleAsset)
            .where(TitleAsset.title_id.in_(ids))
            .order_by(TitleAsset.role, TitleAsset.position)
        ):
            assets[link.title_id].append(
                AssetLinkOut(asset_id=link.asset_id, role=link.role, position=link.position)
            )
        season_ids = {r.season_id for r in rows if r.season_id is not None}
        if season_ids:
            series = {
                str(sid): str(ser)
                for sid, ser in session.execute(
                    select(Season.id, Season.series_id).where(Season.id.in_(season_ids))
                )
            }
    return [
        TitleAdminOut(
            id=r.id,
            kind=r.kind,
            state=r.state,
            revision=r.revision,
            title=r.title,
            slug=r.slug,
            sort_title=r.sort_title,
            short_synopsis=r.short_synopsis,
            description=r.description,
            default_language=r.default_language,
            translations=r.translations,
            original_language=r.original_language,
            release_date=r.release_date,
            year=r.year,
            runtime_s=r.runtime_s,
            genres=genres[r.id],
            tags=r.tags,
            studios=r.studios,
            external_ids=dict(sorted(external[r.id].items())),
            custom_fields=r.custom_fields,
            rating_system=r.rating_system,
            rating=r.rating,
            maturity_level=r.maturity_level,
            free=r.free,
            series_id=series.get(r.season_id) if r.season_id else None,
            season_id=r.season_id,
            episode_number=r.episode_number,
            assets=assets[r.id],
            published_at=r.published_at,
            created_at=r.created_at,
            updated_at=r.updated_at,
        )
        for r in rows
    ]
