"""Absolute-path URLs of a published media version (file names fixed by media.package).

The version is part of the path, so every URL names immutable bytes: edges and players
may cache all of it for a year, and a re-publish never changes what a URL returns.
"""

from __future__ import annotations

from reelstack.media.ffmpeg import MPD_NAME, POSTER_NAME
from reelstack.media.package import MASTER_NAME

MEDIA_ROOT = "/media"


def media_url(asset_id: str, version: int, name: str) -> str:
    return f"{MEDIA_ROOT}/{asset_id}/v{version}/{name}"


def signed_media_url(token: str, asset_id: str, version: int, name: str) -> str:
    """The same file behind a signed token (reelstack.delivery.signing)."""
    return f"/s/{token}/{asset_id}/v{version}/{name}"


COOKIE_ROOT = "/m"


def cookie_media_url(asset_id: str, version: int, name: str) -> str:
    """The same file for players holding the version's signed cookie
    (reelstack.delivery.signing.COOKIE_NAME) instead of a token in the path."""
    return f"{COOKIE_ROOT}/{asset_id}/v{version}/{name}"


def hls_url(asset_id: str, version: int) -> str:
    return media_url(asset_id, version, MASTER_NAME)


def dash_url(asset_id: str, version: int) -> str:
    return media_url(asset_id, version, MPD_NAME)


def poster_url(asset_id: str, version: int) -> str:
    return media_url(asset_id, version, POSTER_NAME)
