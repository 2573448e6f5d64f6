"""Row factories for the catalog domain."""

from __future__ import annotations

from sqlalchemy.orm import Session

from reelstack.assets.models import AssetStatus
from reelstack.catalog import service as catalog
from tests.assets.factories import make_asset


def make_title_with_asset(
    session: Session,
    title: str,
    status: AssetStatus,
    *,
    rating: tuple[str, str] | None = None,
    free: bool = False,
    heights: tuple[int, ...] = (),
) -> tuple[str, str]:
    """A title playing a new asset in ``status``; returns ``(title_id, asset_id)``.

    ``rating`` is (system, rating); ``heights`` gives the asset renditions of those
    heights (rows only, no media files)."""
    asset = make_asset(status, heights=heights)
    session.add(asset)
    session.flush()
    row = catalog.create_title(
        session=session,
        title=title,
        rating_system=rating[0] if rating else None,
        rating=rating[1] if rating else None,
        free=free,
    )
    catalog.link_asset(session=session, title_id=row.id, asset_id=asset.id)
    return row.id, asset.id
