"""Playback sessions: the gate between a play request and the stream URLs."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from reelstack.assets.models import AssetStatus
from reelstack.catalog import service as catalog_service
from reelstack.db import utcnow
from reelstack.errors import AssetNotReady
from reelstack.playback.models import PlaybackSession


def start_playback(*, session: Session, title_id: str, ttl_s: int) -> PlaybackSession:
    """Open a session for a playable title; 409 ``asset_not_ready`` when it is not.

    Later issues add entitlement, maturity, geo, device and stream-lease checks here.
    """
    title, asset = catalog_service.get_title(session=session, title_id=title_id)
    if asset is None or asset.status is not AssetStatus.READY:
        state = "no_media" if asset is None else asset.status.value
        raise AssetNotReady(
            f"title {title_id} cannot be played yet: its media is {state}", asset_status=state
        )
    row = PlaybackSession(
        title_id=title.id, asset_id=asset.id, expires_at=utcnow() + timedelta(seconds=ttl_s)
    )
    session.add(row)
    session.flush()
    return row
