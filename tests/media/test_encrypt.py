"""Media encryption: HLS AES-128 segments decrypt back to playable fMP4, the DASH CENC
copy decrypts (FFmpeg with the key gives every frame, without it none), the manifests
declare both, and no clear media segment is left."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from reelstack.media.bmff import read_init
from reelstack.media.encrypt import (
    ContentKey,
    EncryptionSpec,
    aes128_decrypt,
    aes128_encrypt,
    hls_key_uri,
)
from reelstack.media.ffmpeg import ffmpeg_exe
from reelstack.media.manifests import Segment, SegmentKey, Track, render_media_playlist
from tests.playback.encrypted import KEY_LINE, Packaged, package_encrypted

FRAMES = 8 * 30  # the 8 s clip at 30 fps


@pytest.fixture(scope="module")
def packaged(tmp_path_factory: pytest.TempPathFactory) -> Packaged:
    return package_encrypted(tmp_path_factory.mktemp("encrypted"))


def _frames(path: Path, *, key: bytes | None = None) -> int:
    """Video frames FFmpeg decodes from ``path`` (0 when it cannot)."""
    argv = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error"]
    if key is not None:
        argv += ["-decryption_key", key.hex()]
    argv += ["-i", str(path), "-map", "0:v:0", "-f", "framemd5", "-"]
    out = subprocess.run(argv, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        return 0
    return sum(1 for line in out.stdout.splitlines() if line and not line.startswith("#"))


def test_aes128_round_trip_pads_to_whole_blocks() -> None:
    key, iv = os.urandom(16), os.urandom(16)
    for size in (0, 1, 15, 16, 17, 1000):
        data = os.urandom(size)
        sealed = aes128_encrypt(data, key, iv)
        assert len(sealed) % 16 == 0 and len(sealed) > size
        assert aes128_decrypt(sealed, key, iv) == data
    with pytest.raises(ValueError):
        ContentKey("aes128", b"short", key)
    assert key.hex() not in repr(ContentKey("aes128", iv, key))


def test_playlist_declares_a_key_before_each_change() -> None:
    segments = tuple(Segment(f"s{k}.m4s", 6.0, 100) for k in range(3))
    track = Track("0", "video", "avc1.4d400d", "init-0.m4s", segments, width=320, height=180)
    a = SegmentKey("keys/a.key", bytes(16))
    b = SegmentKey("keys/b.key", bytes(range(16)))
    text = render_media_playlist(track, target_duration_s=6, keys=[a, a, b])
    lines = text.splitlines()
    assert lines.index('#EXT-X-MAP:URI="init-0.m4s"') < lines.index(
        '#EXT-X-KEY:METHOD=AES-128,URI="keys/a.key",IV=0x00000000000000000000000000000000'
    )
    assert text.count("#EXT-X-KEY") == 2
    assert (
        '#EXT-X-KEY:METHOD=AES-128,URI="keys/b.key",IV=0x000102030405060708090A0B0C0D0E0F' in text
    )
    with pytest.raises(ValueError):
        render_media_playlist(track, target_duration_s=6, keys=[a])


def test_hls_segments_decrypt_to_the_clear_media(packaged: Packaged, tmp_path: Path) -> None:
    media = packaged.media
    keys = {hls_key_uri(k.kid): k.key for k in packaged.hls_keys}
    assert len(keys) == 2  # rotation every segment, two segments
    for playlist in sorted(media.glob("*.m3u8")):
        if playlist.name == "master.m3u8":
            continue
        text = playlist.read_text()
        declared = KEY_LINE.findall(text)
        segments = [line for line in text.splitlines() if line.endswith(".m4s")]
        assert len(declared) == len(segments) == 2
        init = re.search(r'#EXT-X-MAP:URI="([^"]+)"', text)
        assert init is not None
        clear = (media / init.group(1)).read_bytes()
        for (uri, iv), segment in zip(declared, segments, strict=True):
            sealed = (media / segment).read_bytes()
            assert sealed[4:8] not in (b"styp", b"moof", b"sidx")  # nothing stored clear
            clear += aes128_decrypt(sealed, keys[uri], bytes.fromhex(iv))
        if playlist.name.startswith("video_"):
            joined = tmp_path / f"{playlist.stem}.mp4"
            joined.write_bytes(clear)
            assert _frames(joined) == FRAMES


def test_cenc_copy_decrypts_only_with_its_key(packaged: Packaged, tmp_path: Path) -> None:
    media = packaged.media
    init = read_init((media / "cenc-init-0.m4s").read_bytes())
    assert init.protection_scheme == "cenc"
    assert init.codecs.startswith("avc1.")  # the protected format (frma), not "encv"
    joined = tmp_path / "cenc-video.mp4"
    joined.write_bytes(
        b"".join(
            p.read_bytes() for p in [media / "cenc-init-0.m4s", *sorted(media.glob("cenc-seg-0-*"))]
        )
    )
    key = packaged.cenc_key
    assert _frames(joined, key=key.key) == FRAMES
    assert _frames(joined) == 0
    assert _frames(joined, key=os.urandom(16)) < FRAMES


def test_mpd_declares_cenc_and_clearkey_over_the_cenc_copy(packaged: Packaged) -> None:
    mpd = (packaged.media / "manifest.mpd").read_text()
    kid = packaged.cenc_key.kid.hex()
    dashed = f"{kid[:8]}-{kid[8:12]}-{kid[12:16]}-{kid[16:20]}-{kid[20:]}"
    assert mpd.count('schemeIdUri="urn:mpeg:dash:mp4protection:2011" value="cenc"') == 2
    assert mpd.count(f'cenc:default_KID="{dashed}"') == 2
    assert mpd.count('schemeIdUri="urn:uuid:e2719d58-a985-b3c9-781a-b030af78d30e"') == 2
    assert 'initialization="cenc-init-$RepresentationID$.m4s"' in mpd
    assert 'media="cenc-seg-$RepresentationID$-$Number%05d$.m4s"' in mpd
    assert "Laurl" not in mpd  # the licence URL is per session: never in a shared MPD
    assert EncryptionSpec().rotation_segments == 0
