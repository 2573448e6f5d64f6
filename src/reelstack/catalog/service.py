"""Catalog: titles, the assets they link by role, and their playable state.

The catalog never reads asset rows: it links asset ids and asks the assets service for
typed summaries. The CMS lives beside this module (``metadata``, ``series``, ``people``,
``availability``, ``workflow``, ``audit``); the viewer's reads are in ``browse``.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import String, bindparam, select
from sqlalchemy.orm import Session, aliased

from reelstack.assets import service as assets_service
from reelstack.assets.schemas import AssetSummary
from reelstack.catalog.availability import open_clause
from reelstack.catalog.errors import NotAvailable, invalid
from reelstack.catalog.metadata import sort_title_of
from reelstack.catalog.models import AssetRole, Season, Title, TitleAsset, TitleKind, TitleState
from reelstack.catalog.schemas import PlayableTitle, TitleOut
from reelstack.db import UTCDateTime, utcnow
from reelstack.delivery.urls import poster_url
from reelstack.errors import NotFound, ValidationFailed
from reelstack.ratings import Maturity, known_rating, maturity_of


def create_title(
    *,
    session: Session,
    title: str,
    kind: TitleKind = TitleKind.MOVIE,
    description: str | None = None,
    rating_system: str | None = None,
    rating: str | None = None,
    free: bool = False,
    state: TitleState = TitleState.PUBLISHED,
) -> Title:
    """Add a title straight to viewers (uploads, the demo seed, tests); the caller's
    transaction commits it. The CMS (``metadata.create_title``) makes drafts instead.
    An unknown rating is refused (422); an unrated title is for adults only; an episode
    needs a season, so only the CMS makes one (422 naming ``season_id``)."""
    if kind is TitleKind.EPISODE:
        raise invalid("season_id", "an episode belongs to a season: create it in the CMS")
    if (rating_system is None) != (rating is None):
        raise ValidationFailed("rating_system and rating go together")
    if rating_system is not None and rating is not None:
        if not known_rating(rating_system, rating):
            raise ValidationFailed(f"{rating!r} is not a rating of {rating_system!r}")
        rating_system, rating = rating_system.upper(), rating.upper()
    row = Title(
        title=title,
        sort_title=sort_title_of(title),
        kind=kind,
        state=state,
        published_at=utcnow() if state is TitleState.PUBLISHED else None,
        description=description,
        rating_system=rating_system,
        rating=rating,
        maturity_level=int(maturity_of(rating_system, rating)),
        free=free,
    )
    session.add(row)
    session.flush()
    return row


def set_rating(*, session: Session, title_id: str, rating_system: str, rating: str) -> None:
    """Rate a title in a known system (422 for an unknown rating)."""
    if not known_rating(rating_system, rating):
        raise ValidationFailed(f"{rating!r} is not a rating of {rating_system!r}")
    row = _get(session, title_id)
    row.rating_system, row.rating = rating_system.upper(), rating.upper()
    row.maturity_level = int(maturity_of(rating_system, rating))


def link_asset(
    *, session: Session, title_id: str, asset_id: str, role: AssetRole = AssetRole.MAIN
) -> TitleAsset:
    """Link an asset to a title in ``role``; a new main asset replaces the old link."""
    _get(session, title_id)
    if role is AssetRole.MAIN:
        for old in session.scalars(
            select(TitleAsset).where(
                TitleAsset.title_id == title_id, TitleAsset.role == AssetRole.MAIN
            )
        ):
            session.delete(old)
        session.flush()
    position = len(
        session.scalars(
            select(TitleAsset.asset_id).where(
                TitleAsset.title_id == title_id, TitleAsset.role == role
            )
        ).all()
    )
    link = TitleAsset(title_id=title_id, asset_id=asset_id, role=role, position=position)
    session.add(link)
    session.flush()
    return link


def _get(session: Session, title_id: str) -> Title:
    row = session.get(Title, title_id)
    if row is None:
        raise NotFound(f"title {title_id} does not exist")
    return row


def main_asset_id(*, session: Session, title_id: str) -> str | None:
    """The asset that plays for ``title_id`` (404 when the title does not exist)."""
    _get(session, title_id)
    return _main_ids(session, [title_id]).get(title_id)


# Built once (bound parameters): this runs on every play request. One statement: the
# title, its main asset, its state and availability, and for an episode its series'.
_SERIES = aliased(Title)
_COUNTRY = bindparam("country", type_=String())
_NOW = bindparam("now", type_=UTCDateTime())
_PLAYABLE = (
    select(
        Title.id,
        Title.free,
        Title.maturity_level,
        Title.state,
        TitleAsset.asset_id,
        open_clause(Title.id, _COUNTRY, _NOW).label("open"),
        _SERIES.state.label("series_state"),
        open_clause(_SERIES.id, _COUNTRY, _NOW).label("series_open"),
    )
    .outerjoin(TitleAsset, (TitleAsset.title_id == Title.id) & (TitleAsset.role == AssetRole.MAIN))
    .outerjoin(Season, Season.id == Title.season_id)
    .outerjoin(_SERIES, _SERIES.id == Season.series_id)
    .where(Title.id == bindparam("tid"))
)
# Never shown to viewers: such a title does not exist for them.
_UNRELEASED = frozenset({TitleState.DRAFT, TitleState.IN_REVIEW})


def playable(
    *,
    session: Session,
    title_id: str,
    max_maturity: int | None = None,
    country: str | None = None,
) -> PlayableTitle:
    """What playback needs of a title: its rights flags and its main asset.

    A title above ``max_maturity`` (a kids profile never learns it exists), a draft or
    one in review is 404 like a missing one. A withdrawn title (unpublished, archived),
    one outside its availability windows in ``country`` (the viewer's, None when
    unknown), or an episode whose series is either, is 403 ``not_available``. The
    maturity check proper happens in the entitlement decision.
    """
    row = session.execute(_PLAYABLE, {"tid": title_id, "country": country, "now": utcnow()}).first()
    if (
        row is None
        or row.state in _UNRELEASED
        or (max_maturity is not None and row.maturity_level > max_maturity)
    ):
        raise NotFound(f"title {title_id} does not exist")
    withdrawn = row.state is not TitleState.PUBLISHED or not row.open
    if row.series_state is not None:
        withdrawn = withdrawn or row.series_state is not TitleState.PUBLISHED
        withdrawn = withdrawn or not row.series_open
    if withdrawn:
        where = f" in {country}" if country else ""
        raise NotAvailable(
            f"title {title_id} is not available{where} now", title_id=title_id, country=country
        )
    return PlayableTitle(
        id=row.id,
        free=row.free,
        maturity=Maturity(row.maturity_level),
        main_asset_id=row.asset_id,
    )


def _main_ids(session: Session, title_ids: list[str]) -> dict[str, str]:
    if not title_ids:
        return {}
    rows = session.execute(
        select(TitleAsset.title_id, TitleAsset.asset_id).where(
            TitleAsset.title_id.in_(title_ids), TitleAsset.role == AssetRole.MAIN
        )
    )
    return {str(t): str(a) for t, a in rows}


def _out(title: Title, asset: AssetSummary | None) -> TitleOut:
    out = TitleOut(
        id=title.id,
        kind=title.kind,
        title=title.title,
        description=title.description,
        rating_system=title.rating_system,
        rating=title.rating,
        maturity_level=Maturity(title.maturity_level),
        free=title.free,
        status="no_media",
        duration_s=None,
        audio_languages=[],
        poster_url=None,
        created_at=title.created_at,
        slug=title.slug,
        short_synopsis=title.short_synopsis,
        language=title.default_language,
        year=title.year,
        release_date=title.release_date,
        runtime_s=title.runtime_s,
        episode_number=title.episode_number,
    )
    if asset is not None:
        out.status = asset.status
        out.duration_s = asset.duration_s
        if asset.playable and asset.version is not None:
            out.status = "ready"
            out.poster_url = poster_url(asset.id, asset.version)
            out.audio_languages = asset.audio_languages
        elif asset.status == "ready":
            out.status = "processing"
    return out


def views(session: Session, titles: list[Title]) -> list[TitleOut]:
    """The viewer's view of ``titles`` in their default language (one query for their
    main assets, one summaries call)."""
    mains = _main_ids(session, [t.id for t in titles])
    summaries = assets_service.summaries(session=session, asset_ids=mains.values())
    return [_out(t, summaries.get(mains.get(t.id, ""))) for t in titles]


def titles_by_id(*, session: Session, title_ids: Iterable[str]) -> dict[str, TitleOut]:
    """The titles of ``title_ids`` that exist, by id (for other domains' listings)."""
    ids = sorted(set(title_ids))
    if not ids:
        return {}
    rows = list(session.scalars(select(Title).where(Title.id.in_(ids))))
    return {title.id: title for title in views(session, rows)}


def get_title(*, session: Session, title_id: str, max_maturity: int | None = None) -> TitleOut:
    """One published title in its default language; above ``max_maturity`` (a kids
    profile's ceiling) it does not exist. (The viewer's page, with availability, genres,
    credits and seasons, is ``browse.get_title``.)"""
    row = session.get(Title, title_id)
    if (
        row is None
        or row.state is not TitleState.PUBLISHED
        or (max_maturity is not None and row.maturity_level > max_maturity)
    ):
        raise NotFound(f"title {title_id} does not exist")
    return views(session, [row])[0]
