"""One encrypted title for the key and licence tests: packaged once per module (FFmpeg
on a tiny clip), then published into each test's own database and storage."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from reelstack.assets import keys as media_keys
from reelstack.assets.models import Asset, AssetStatus
from reelstack.db import session_scope
from reelstack.media.encrypt import ContentKey, EncryptionSpec
from reelstack.media.package import PackageResult, transcode_and_package
from reelstack.media.testclips import make_test_clip
from reelstack.runtime import Runtime
from reelstack.storage import media_version_prefix
from tests.catalog.factories import make_title_with_asset

KEY_LINE = re.compile(r'#EXT-X-KEY:METHOD=AES-128,URI="([^"]+)",IV=0x([0-9A-F]{32})')


@dataclass(frozen=True)
class Packaged:
    media: Path
    result: PackageResult

    @property
    def hls_keys(self) -> list[ContentKey]:
        return [k for k in self.result.keys if k.scheme == "aes128"]

    @property
    def cenc_key(self) -> ContentKey:
        return next(k for k in self.result.keys if k.scheme == "cenc")


def package_encrypted(root: Path, *, rotation_segments: int = 1) -> Packaged:
    """An 8 s 320x180 clip (two 6 s segments per track) packaged encrypted."""
    clip = make_test_clip(root / "clip.mp4", width=320, height=180, duration_s=8)
    media = root / "media"
    result = transcode_and_package(
        source=clip,
        out_dir=media,
        ladder="tiny",
        encryption=EncryptionSpec(rotation_segments=rotation_segments),
    )
    return Packaged(media, result)


def publish(
    rt: Runtime, packaged: Packaged, title: str = "Encrypted", *, free: bool = True
) -> tuple[str, str]:
    """A title (free unless told) playing the packaged media as version 1 of a new
    asset, its keys stored; returns ``(title_id, asset_id)``."""
    with session_scope(rt.sessions) as s:
        title_id, asset_id = make_title_with_asset(s, title, AssetStatus.READY, free=free)
        asset = s.get(Asset, asset_id)
        assert asset is not None
        asset.encryption = "clearkey"
        media_keys.store(
            session=s,
            secret=rt.settings.media_key_secret.get_secret_value(),
            asset_id=asset_id,
            version=1,
            keys=packaged.result.keys,
        )
    rt.storage.put_tree(media_version_prefix(asset_id, 1), packaged.media)
    return title_id, asset_id
