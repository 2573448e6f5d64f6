"""Row factories per domain."""

from __future__ import annotations

from sqlalchemy.orm import Session

from reelstack.assets.models import Asset, AssetStatus
from reelstack.catalog import service as catalog


def make_asset(status: AssetStatus, *, version: int | None = None) -> Asset:
    """An asset row; a ready one gets version 1 unless told otherwise."""
    if version is None and status is AssetStatus.READY:
        version = 1
    return Asset(
        status=status,
        source_key="assets/x/source/original.mp4",
        size_bytes=1,
        duration_s=1.0,
        width=320,
        height=180,
        fps=30.0,
        video_codec="h264",
        version=version,
        next_version=(version or 0) + 1,
        renditions=[],
        audio_tracks=[],
    )


def make_title_with_asset(session: Session, title: str, status: AssetStatus) -> tuple[str, str]:
    """A title playing a new asset in ``status``; returns ``(title_id, asset_id)``."""
    asset = make_asset(status)
    session.add(asset)
    session.flush()
    row = catalog.create_title(session=session, title=title)
    catalog.link_asset(session=session, title_id=row.id, asset_id=asset.id)
    return row.id, asset.id
