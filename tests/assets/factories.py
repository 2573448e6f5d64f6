"""Row factories for the assets domain."""

from __future__ import annotations

from reelstack.assets.models import Asset, AssetStatus
from reelstack.assets.schemas import Rendition


def make_asset(
    status: AssetStatus, *, version: int | None = None, heights: tuple[int, ...] = ()
) -> Asset:
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
        renditions=[
            Rendition(
                name=f"{h}p",
                width=h * 16 // 9,
                height=h,
                bandwidth=h * 1000,
                average_bandwidth=h * 900,
                codecs="avc1.64001f",
                playlist=f"video-{k}.m3u8",
            )
            for k, h in enumerate(heights)
        ],
        audio_tracks=[],
    )
