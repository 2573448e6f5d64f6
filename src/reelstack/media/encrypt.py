"""Media encryption: HLS AES-128 (whole segment) and DASH CENC (``cenc``, AES-CTR).

The two cannot share segment bytes, so an encrypted title is stored twice (about twice
the storage of a clear one), and never in the clear:

- HLS: each fMP4 media segment encrypted whole with AES-128-CBC (PKCS#7 padding) under
  the key of its rotation period and an IV of its own, declared by an
  ``#EXT-X-KEY:METHOD=AES-128,URI="keys/<kid>.key",IV=0x...`` before it. The key URI is
  relative, so it inherits the playlist's signed path prefix. Init segments hold no
  media and stay clear (the ``EXT-X-MAP`` comes before the first key).
- DASH: FFmpeg remuxes the clear CMAF tracks into ``cenc-*`` segments with its mp4
  muxer's Common Encryption (``cenc-aes-ctr``: ``senc``/``saio``/``saiz`` per fragment,
  ``tenc`` with the default KID in ``encv``/``enca``; H.264 NAL headers left clear),
  one key for every track. The MPD declares it with ``mp4protection`` + ClearKey.

Keys are random (``os.urandom``), 16 bytes, with random 16-byte key ids; nothing here
stores them: the caller keeps them (encrypted at rest) and serves them behind a
playback session. AES comes from ``cryptography``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from reelstack.media.errors import ProcessingFailed
from reelstack.media.manifests import SegmentKey, Track

KeyScheme = Literal["aes128", "cenc"]
KEY_BYTES = 16
# Where an HLS key is fetched, relative to the media playlist (so under its signed
# prefix): keys/<32 hex digits of the key id>.key.
KEY_DIR = "keys"
KEY_SUFFIX = ".key"
# The CENC copy of every track, beside the HLS one (DASH SegmentTemplate names).
CENC_INIT_TEMPLATE = "cenc-init-$RepresentationID$.m4s"
CENC_MEDIA_TEMPLATE = "cenc-seg-$RepresentationID$-$Number%05d$.m4s"
CENC_MPD_SCRATCH = "ffmpeg-cenc-scratch.mpd"


@dataclass(frozen=True, slots=True)
class ContentKey:
    """One content key: ``aes128`` (HLS, one per rotation period) or ``cenc`` (DASH).

    ``period`` is the rotation period an ``aes128`` key covers (segments
    ``period * N`` to ``period * N + N - 1`` of every track); 0 for ``cenc``.
    """

    scheme: KeyScheme
    kid: bytes
    key: bytes
    period: int = 0

    def __post_init__(self) -> None:
        if len(self.kid) != KEY_BYTES or len(self.key) != KEY_BYTES:
            raise ValueError("content keys and key ids are 16 bytes")

    def __repr__(self) -> str:  # never print key material
        return f"ContentKey(scheme={self.scheme!r}, kid={self.kid.hex()}, period={self.period})"


def new_key(scheme: KeyScheme, period: int = 0) -> ContentKey:
    return ContentKey(scheme, os.urandom(KEY_BYTES), os.urandom(KEY_BYTES), period)


@dataclass(frozen=True, slots=True)
class EncryptionSpec:
    """Encrypt a title: HLS AES-128 with a new key every ``rotation_segments`` segments
    (0: one key for the whole title) and DASH CENC with one key."""

    rotation_segments: int = 0

    def __post_init__(self) -> None:
        if self.rotation_segments < 0:
            raise ValueError("rotation_segments must be 0 (off) or more")


def hls_key_uri(kid: bytes) -> str:
    """The key's URI as the media playlists carry it (relative)."""
    return f"{KEY_DIR}/{kid.hex()}{KEY_SUFFIX}"


def aes128_encrypt(data: bytes, key: bytes, iv: bytes) -> bytes:
    """HLS ``METHOD=AES-128``: AES-128-CBC over the whole segment, PKCS#7 padded."""
    padder = padding.PKCS7(128).padder()
    padded = padder.update(data) + padder.finalize()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return encryptor.update(padded) + encryptor.finalize()


def aes128_decrypt(data: bytes, key: bytes, iv: bytes) -> bytes:
    """What a player does with an AES-128 segment (tests use it)."""
    decryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    padded = decryptor.update(data) + decryptor.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    return unpadder.update(padded) + unpadder.finalize()


def hls_keys_for(tracks: Sequence[Track], spec: EncryptionSpec) -> tuple[ContentKey, ...]:
    """The AES-128 keys a title needs: one per rotation period of its longest track."""
    count = max((len(t.segments) for t in tracks), default=1)
    if spec.rotation_segments <= 0:
        return (new_key("aes128"),)
    periods = -(-count // spec.rotation_segments)
    return tuple(new_key("aes128", period) for period in range(max(periods, 1)))


def encrypt_hls_track(
    out_dir: Path, track: Track, keys: Sequence[ContentKey], spec: EncryptionSpec
) -> tuple[Track, list[SegmentKey]]:
    """Encrypt the track's media segments in place (AES-128, an IV per segment); returns
    the track with the encrypted sizes and each segment's key declaration."""
    declared: list[SegmentKey] = []
    segments = []
    for index, segment in enumerate(track.segments):
        period = index // spec.rotation_segments if spec.rotation_segments > 0 else 0
        key = keys[min(period, len(keys) - 1)]
        iv = os.urandom(16)
        path = out_dir / segment.uri
        sealed = aes128_encrypt(path.read_bytes(), key.key, iv)
        path.write_bytes(sealed)
        declared.append(SegmentKey(uri=hls_key_uri(key.kid), iv=iv))
        segments.append(replace(segment, size_bytes=len(sealed)))
    return replace(track, segments=tuple(segments)), declared


def cenc_remux_argv(
    *,
    ffmpeg: str,
    inputs: Sequence[Path],
    audio_indexes: Sequence[int],
    out_dir: Path,
    segment_s: int,
    key: ContentKey,
) -> list[str]:
    """FFmpeg argv: the clear tracks (one fMP4 file each, in output-stream order) copied
    into CENC-encrypted CMAF segments named by :data:`CENC_INIT_TEMPLATE` and
    :data:`CENC_MEDIA_TEMPLATE`, same representation ids and adaptation sets."""
    argv = [ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-y"]
    for path in inputs:
        argv += ["-i", str(path)]
    for k in range(len(inputs)):
        argv += ["-map", f"{k}:0"]
    videos = [k for k in range(len(inputs)) if k not in set(audio_indexes)]
    sets = [f"id=0,streams={','.join(str(k) for k in videos)}"]
    sets += [f"id={j + 1},streams={k}" for j, k in enumerate(audio_indexes)]
    options = (
        "movflags=+cmaf:encryption_scheme=cenc-aes-ctr"
        f":encryption_key={key.key.hex()}:encryption_kid={key.kid.hex()}"
    )
    argv += [
        "-c", "copy",
        "-f", "dash",
        "-seg_duration", str(segment_s),
        "-use_template", "1", "-use_timeline", "1",
        "-adaptation_sets", " ".join(sets),
        "-init_seg_name", CENC_INIT_TEMPLATE,
        "-media_seg_name", CENC_MEDIA_TEMPLATE,
        "-dash_segment_type", "mp4",
        "-format_options", options,
        str(out_dir / CENC_MPD_SCRATCH),
    ]  # fmt: skip
    return argv


def write_cenc_copy(
    *, ffmpeg: str, out_dir: Path, tracks: Sequence[Track], segment_s: int, key: ContentKey
) -> None:
    """Write the CENC copy of the clear ``tracks`` (read from ``out_dir``) beside them.

    Each track's init and media segments are joined into one fragmented MP4 in a
    scratch folder (removed after), which FFmpeg copies (no re-encode) into encrypted
    segments. Raises ``ProcessingFailed`` when FFmpeg fails.
    """
    scratch = out_dir / ".cenc-scratch"
    scratch.mkdir()
    try:
        inputs = []
        for track in tracks:
            joined = scratch / f"track-{track.rep_id}.mp4"
            with joined.open("wb") as sink:
                for uri in (track.init_uri, *(s.uri for s in track.segments)):
                    with (out_dir / uri).open("rb") as part:
                        shutil.copyfileobj(part, sink)
            inputs.append(joined)
        argv = cenc_remux_argv(
            ffmpeg=ffmpeg,
            inputs=inputs,
            audio_indexes=[k for k, t in enumerate(tracks) if t.kind == "audio"],
            out_dir=out_dir,
            segment_s=segment_s,
            key=key,
        )
        result = subprocess.run(argv, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise ProcessingFailed(f"CENC packaging failed: {result.stderr.strip()[-2000:]}")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        (out_dir / CENC_MPD_SCRATCH).unlink(missing_ok=True)
