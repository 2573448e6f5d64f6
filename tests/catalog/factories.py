"""Row factories for the catalog domain."""

from __future__ import annotations

from sqlalchemy.orm import Session

from reelstack.assets.models import AssetStatus
from reelstack.catalog import service as catalog
from tests.assets.factories import make_asset


def make_title_with_asset(session: Session, title: str, status: AssetStatus) -> tuple[str, str]:
    """A title playing a new asset in ``status``; returns ``(title_id, asset_id)``."""
    asset = make_asset(status)
    session.add(asset)
    session.flush()
    row = catalog.create_title(session=session, title=title)
    catalog.link_asset(session=session, title_id=row.id, asset_id=asset.id)
    return row.id, asset.id
