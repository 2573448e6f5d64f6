"""The CMS's asset links: what a title plays (main) and its trailers and extras."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from reelstack.assets import service as assets_service
from reelstack.catalog import audit, service
from reelstack.catalog.admin_schemas import AssetLinkIn, AssetLinkOut
from reelstack.catalog.audit import ChangedBy
from reelstack.catalog.errors import invalid
from reelstack.catalog.metadata import get_row
from reelstack.catalog.models import AssetRole, TitleAsset, TitleKind
from reelstack.errors import NotFound


def links(*, session: Session, title_id: str) -> list[AssetLinkOut]:
    get_row(session, title_id)
    rows = session.scalars(
        select(TitleAsset)
        .where(TitleAsset.title_id == title_id)
        .order_by(TitleAsset.role, TitleAsset.position)
    )
    return [AssetLinkOut(asset_id=r.asset_id, role=r.role, position=r.position) for r in rows]


def link(
    *, session: Session, title_id: str, body: AssetLinkIn, by: ChangedBy
) -> list[AssetLinkOut]:
    """Link an asset in a role (a new main one replaces the old); a series plays nothing
    itself (422 naming ``role`` for a main asset); an unknown asset is 422 naming
    ``asset_id``."""
    row = get_row(session, title_id)
    if row.kind is TitleKind.SERIES and body.role is AssetRole.MAIN:
        raise invalid("role", "a series plays its episodes: link its trailers and extras")
    if not assets_service.summaries(session=session, asset_ids=[body.asset_id]):
        raise invalid("asset_id", f"asset {body.asset_id} does not exist")
    existing = session.get(TitleAsset, (title_id, body.asset_id))
    if existing is not None:
        session.delete(existing)
        session.flush()
    service.link_asset(session=session, title_id=title_id, asset_id=body.asset_id, role=body.role)
    audit.record(
        session,
        by=by,
        action="link",
        entity_type="asset_link",
        entity_id=body.asset_id,
        title_id=title_id,
        before=None,
        after={"asset_id": body.asset_id, "role": body.role.value},
    )
    return links(session=session, title_id=title_id)


def unlink(*, session: Session, title_id: str, asset_id: str, by: ChangedBy) -> None:
    row = session.get(TitleAsset, (title_id, asset_id))
    if row is None:
        raise NotFound(f"asset {asset_id} is not linked to title {title_id}")
    audit.record(
        session,
        by=by,
        action="unlink",
        entity_type="asset_link",
        entity_id=asset_id,
        title_id=title_id,
        before={"asset_id": asset_id, "role": row.role.value},
        after=None,
    )
    session.delete(row)
    session.flush()
