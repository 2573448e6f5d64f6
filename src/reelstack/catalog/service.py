"""Catalog: titles, the assets they link by role, and their playable state.

The catalog never reads asset rows: it links asset ids and asks the assets service for
typed summaries.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import and_, bindparam, or_, select
from sqlalchemy.orm import Session

from reelstack.assets import service as assets_service
from reelstack.assets.schemas import AssetSummary
from reelstack.catalog.models import AssetRole, Title, TitleAsset, TitleKind
from reelstack.catalog.schemas import PlayableTitle, TitleOut
from reelstack.delivery.urls import poster_url
from reelstack.errors import BadRequest, NotFound, ValidationFailed
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
) -> Title:
    """Add a title; the caller's transaction commits it. An unknown rating is refused
    (422); an unrated title is for adults only."""
    if (rating_system is None) != (rating is None):
        raise ValidationFailed("rating_system and rating go together")
    if rating_system is not None and rating is not None:
        if not known_rating(rating_system, rating):
            raise ValidationFailed(f"{rating!r} is not a rating of {rating_system!r}")
        rating_system, rating = rating_system.upper(), rating.upper()
    row = Title(
        title=title,
        kind=kind,
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


# Built once (bound parameters): this runs on every play request.
_PLAYABLE = (
    select(Title.id, Title.free, Title.maturity_level, TitleAsset.asset_id)
    .outerjoin(TitleAsset, (TitleAsset.title_id == Title.id) & (TitleAsset.role == AssetRole.MAIN))
    .where(Title.id == bindparam("tid"))
)


def playable(*, session: Session, title_id: str, max_maturity: int | None = None) -> PlayableTitle:
    """What playback needs of a title: its rights flags and its main asset.

    A title above ``max_maturity`` is 404 like a missing one (a kids profile never
    learns it exists); the maturity check proper happens in the entitlement decision.
    """
    row = session.execute(_PLAYABLE, {"tid": title_id}).first()
    if row is None or (max_maturity is not None and row.maturity_level > max_maturity):
        raise NotFound(f"title {title_id} does not exist")
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


def _views(session: Session, titles: list[Title]) -> list[TitleOut]:
    mains = _main_ids(session, [t.id for t in titles])
    summaries = assets_service.summaries(session=session, asset_ids=mains.values())
    return [_out(t, summaries.get(mains.get(t.id, ""))) for t in titles]


def titles_by_id(*, session: Session, title_ids: Iterable[str]) -> dict[str, TitleOut]:
    """The titles of ``title_ids`` that exist, by id (for other domains' listings)."""
    ids = sorted(set(title_ids))
    if not ids:
        return {}
    rows = list(session.scalars(select(Title).where(Title.id.in_(ids))))
    return {title.id: title for title in _views(session, rows)}


def get_title(*, session: Session, title_id: str, max_maturity: int | None = None) -> TitleOut:
    """One title; above ``max_maturity`` (a kids profile's ceiling) it does not exist."""
    row = _get(session, title_id)
    if max_maturity is not None and row.maturity_level > max_maturity:
        raise NotFound(f"title {title_id} does not exist")
    return _views(session, [row])[0]


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
    *,
    session: Session,
    limit: int = 50,
    cursor: str | None = None,
    q: str | None = None,
    max_maturity: int | None = None,
) -> tuple[list[TitleOut], str | None]:
    """Newest first, keyset-paginated on (created_at, id) so pages never skip or repeat.
    ``max_maturity`` (a profile's ceiling) hides the titles above it."""
    stmt = select(Title)
    if max_maturity is not None:
        stmt = stmt.where(Title.maturity_level <= max_maturity)
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
    rows = list(session.scalars(stmt))
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = _encode_cursor(rows[-1].created_at, rows[-1].id)
    return _views(session, rows), next_cursor
