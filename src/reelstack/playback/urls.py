"""Absolute-path URLs of a packaged asset's files (names fixed by media.package)."""

from __future__ import annotations

from reelstack.media.ffmpeg import MPD_NAME, POSTER_NAME
from reelstack.media.package import MASTER_NAME


def media_url(asset_id: str, name: str) -> str:
    return f"/media/{asset_id}/{name}"


def hls_url(asset_id: str) -> str:
    return media_url(asset_id, MASTER_NAME)


def dash_url(asset_id: str) -> str:
    return media_url(asset_id, MPD_NAME)


def poster_url(asset_id: str) -> str:
    return media_url(asset_id, POSTER_NAME)
