"""Row factories per domain."""

from __future__ import annotations

from reelstack.assets.models import Asset, AssetStatus


def make_asset(status: AssetStatus) -> Asset:
    return Asset(
        status=status,
        source_key="assets/x/source/original.mp4",
        size_bytes=1,
        duration_s=1.0,
        width=320,
        height=180,
        fps=30.0,
        video_codec="h264",
        probe={},
        renditions=[],
        audio_tracks=[],
    )
