"""Playback sessions: the gate between a play request and the stream URLs."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from reelstack.assets import service as assets_service
from reelstack.catalog import service as catalog_service
from reelstack.db import utcnow
from reelstack.delivery import urls
from reelstack.errors import AssetNotReady
from reelstack.playback.models import PlaybackSession
from reelstack.playback.schemas import PlaybackOut


def start_playback(*, session: Session, title_id: str, ttl_s: int) -> PlaybackOut:
    """Open a session for a playable title; 409 ``asset_not_ready`` when it is not.

    The URLs name the asset's current published version, so a session keeps playing
    the bytes it started on even if a reprocess publishes a new version meanwhile.
    Later issues add entitlement, maturity, geo, device and stream-lease checks here.
    """
    asset_id = catalog_service.main_asset_id(session=session, title_id=title_id)
    asset = None
    if asset_id is not None:
        asset = assets_service.summaries(session=session, asset_ids=[asset_id]).get(asset_id)
    if asset is None or not asset.playable or asset.version is None:
        state = "no_media" if asset is None else asset.status
        raise AssetNotReady(
            f"title {title_id} cannot be played yet: its media is {state}", asset_status=state
        )
    row = PlaybackSession(
        title_id=title_id, asset_id=asset.id, expires_at=utcnow() + timedelta(seconds=ttl_s)
    )
    session.add(row)
    session.flush()
    return PlaybackOut(
        session_id=row.id,
        title_id=row.title_id,
        hls=urls.hls_url(asset.id, asset.version),
        dash=urls.dash_url(asset.id, asset.version),
        poster=urls.poster_url(asset.id, asset.version),
        expires_at=row.expires_at,
    )
