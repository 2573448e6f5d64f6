"""The track model both manifests are written from, and the HLS writer.

One fMP4 segment set serves both protocols: each :class:`Track` holds its
segments' measured times (``media.segments``) and sizes, so the HLS playlists
and our MPD (``media.mpd``) declare what was written, not the encoder targets.
:func:`parse_mpd` / :func:`read_mpd` read a published MPD back into tracks.

Everything except :func:`read_mpd` is a pure function over data.
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Literal

from reelstack.media.errors import ProcessingFailed

_NS = {"mpd": "urn:mpeg:dash:schema:mpd:2011"}
_NUMBER_RE = re.compile(r"\$Number(%0(\d+)d)?\$")

TrackKind = Literal["video", "audio"]


@dataclass(frozen=True, slots=True)
class Segment:
    """One media segment file as HLS/DASH reference it.

    ``start_ticks``/``duration_ticks`` are its presentation times in the track's
    timescale (the MPD's SegmentTimeline); ``duration_s`` is the same duration in
    seconds (HLS EXTINF).
    """

    uri: str
    duration_s: float
    size_bytes: int
    start_ticks: int = 0
    duration_ticks: int = 0

    @property
    def bitrate(self) -> float:
        """Bits per second of this segment."""
        return self.size_bytes * 8 / self.duration_s if self.duration_s > 0 else 0.0


@dataclass(frozen=True, slots=True)
class Track:
    """One DASH Representation = one HLS media playlist."""

    rep_id: str
    kind: TrackKind
    codecs: str
    init_uri: str
    segments: tuple[Segment, ...]
    width: int | None = None
    height: int | None = None
    frame_rate: Fraction | None = None
    channels: int | None = None
    language: str | None = None
    timescale: int = 1
    sample_rate: int | None = None

    @property
    def peak_bitrate(self) -> int:
        """Max over segments of size*8/duration, rounded up (bits/s).

        Exact (integer arithmetic on ticks) when the segments carry their ticks, so
        the MPD's @bandwidth is exactly what a checker recomputes from the files.
        """
        if self.segments and all(s.duration_ticks > 0 for s in self.segments):
            return max(
                -(-s.size_bytes * 8 * self.timescale // s.duration_ticks) for s in self.segments
            )
        return math.ceil(max((s.bitrate for s in self.segments), default=0.0))

    @property
    def average_bitrate(self) -> int:
        """Total bytes*8 / total duration, rounded up (bits/s)."""
        total_s = sum(s.duration_s for s in self.segments)
        total_bits = sum(s.size_bytes for s in self.segments) * 8
        return math.ceil(total_bits / total_s) if total_s > 0 else 0

    @property
    def duration_s(self) -> float:
        """Sum of segment durations."""
        return sum(s.duration_s for s in self.segments)


def expand_template(template: str, rep_id: str, number: int | None = None) -> str:
    """A DASH segment template with ``$RepresentationID$`` and ``$Number%0Nd$`` filled in."""
    out = template.replace("$RepresentationID$", rep_id)
    if number is not None:

        def repl(match: re.Match[str]) -> str:
            width = match.group(2)
            return f"{number:0{int(width)}d}" if width else str(number)

        out = _NUMBER_RE.sub(repl, out)
    return out.replace("$$", "$")


def _frame_rate(value: str | None) -> Fraction | None:
    if not value:
        return None
    return Fraction(value)


def parse_mpd(text: str, *, size_of: Callable[[str], int]) -> list[Track]:
    """Parse an MPD written with SegmentTemplate + SegmentTimeline (one Period).

    ``size_of`` maps a segment URI to its size in bytes (``os.stat`` in
    production, a dict in tests).
    """
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise ProcessingFailed(f"Unreadable MPD: {exc}") from exc
    tracks: list[Track] = []
    for aset in root.iterfind("mpd:Period/mpd:AdaptationSet", _NS):
        for rep in aset.iterfind("mpd:Representation", _NS):
            tracks.append(_parse_representation(aset, rep, size_of))
    if not tracks:
        raise ProcessingFailed("The MPD has no representation.")
    return tracks


def _parse_representation(
    aset: ET.Element, rep: ET.Element, size_of: Callable[[str], int]
) -> Track:
    rep_id = rep.get("id", "")
    template = rep.find("mpd:SegmentTemplate", _NS)
    if template is None:
        template = aset.find("mpd:SegmentTemplate", _NS)
    timeline = template.find("mpd:SegmentTimeline", _NS) if template is not None else None
    if template is None or timeline is None:
        raise ProcessingFailed(f"Representation {rep_id} has no SegmentTimeline.")
    timescale = int(template.get("timescale", "1"))
    number = int(template.get("startNumber", "1"))
    media = template.get("media", "")

    segments: list[Segment] = []
    at = int(template.get("presentationTimeOffset", "0"))
    for entry in timeline.iterfind("mpd:S", _NS):
        duration = int(entry.get("d", "0"))
        at = int(entry.get("t", str(at)))
        for _ in range(int(entry.get("r", "0")) + 1):
            uri = expand_template(media, rep_id, number)
            segments.append(Segment(uri, duration / timescale, size_of(uri), at, duration))
            number += 1
            at += duration

    content = aset.get("contentType") or rep.get("mimeType", "").split("/")[0]
    kind: TrackKind = "audio" if content == "audio" else "video"
    channels_el = rep.find("mpd:AudioChannelConfiguration", _NS)
    if channels_el is None:
        channels_el = aset.find("mpd:AudioChannelConfiguration", _NS)
    width = rep.get("width")
    height = rep.get("height")
    lang = aset.get("lang")
    rate = rep.get("audioSamplingRate") or aset.get("audioSamplingRate")
    return Track(
        rep_id=rep_id,
        kind=kind,
        codecs=rep.get("codecs") or aset.get("codecs") or "",
        init_uri=expand_template(template.get("initialization", ""), rep_id),
        segments=tuple(segments),
        width=int(width) if width else None,
        height=int(height) if height else None,
        frame_rate=_frame_rate(rep.get("frameRate") or aset.get("frameRate")),
        channels=int(channels_el.get("value", "2")) if channels_el is not None else None,
        language=None if lang in (None, "und") else lang,
        timescale=timescale,
        sample_rate=int(rate) if rate else None,
    )


def read_mpd(path: Path) -> tuple[str, list[Track]]:
    """Read an MPD and measure its segments next to it; returns (text, tracks)."""
    base = path.parent

    def size_of(uri: str) -> int:
        try:
            return (base / uri).stat().st_size
        except OSError as exc:
            raise ProcessingFailed(f"Segment listed in the MPD is missing: {uri}") from exc

    text = path.read_text(encoding="utf-8")
    return text, parse_mpd(text, size_of=size_of)


def _round_half_up(value: float) -> int:
    return math.floor(value + 0.5)


def target_duration(tracks: Sequence[Track]) -> int:
    """EXT-X-TARGETDURATION shared by every playlist: max round(EXTINF) over all."""
    return (
        max(
            (_round_half_up(s.duration_s) for t in tracks for s in t.segments),
            default=1,
        )
        or 1
    )


@dataclass(frozen=True, slots=True)
class SegmentKey:
    """The AES-128 key of one encrypted segment: its (relative) URI and explicit IV."""

    uri: str
    iv: bytes


def render_media_playlist(
    track: Track, *, target_duration_s: int, keys: Sequence[SegmentKey] | None = None
) -> str:
    """An HLS v7 VOD media playlist over the track's fMP4 segments.

    With ``keys`` (one per segment) each segment is declared AES-128 encrypted: an
    ``EXT-X-KEY`` with its key URI and IV before it (after the ``EXT-X-MAP``, so the
    init segment stays clear). A key line is repeated only when it changes.
    """
    if keys is not None and len(keys) != len(track.segments):
        raise ValueError("one key per segment expected")
    lines = [
        "#EXTM3U",
        "#EXT-X-VERSION:7",
        f"#EXT-X-TARGETDURATION:{target_duration_s}",
        "#EXT-X-MEDIA-SEQUENCE:0",
        "#EXT-X-PLAYLIST-TYPE:VOD",
        "#EXT-X-INDEPENDENT-SEGMENTS",
        f'#EXT-X-MAP:URI="{track.init_uri}"',
    ]
    previous: SegmentKey | None = None
    for k, segment in enumerate(track.segments):
        if keys is not None and keys[k] != previous:
            previous = keys[k]
            lines.append(
                f'#EXT-X-KEY:METHOD=AES-128,URI="{previous.uri}",IV=0x{previous.iv.hex().upper()}'
            )
        lines.append(f"#EXTINF:{segment.duration_s:.6f},")
        lines.append(segment.uri)
    lines.append("#EXT-X-ENDLIST")
    return "\n".join(lines) + "\n"


@dataclass(frozen=True, slots=True)
class Variant:
    """One EXT-X-STREAM-INF entry: a video track plus the audio group, as declared."""

    track: Track
    uri: str
    bandwidth: int
    average_bandwidth: int
    codecs: str


def media_playlist_name(track: Track) -> str:
    """File name of a track's media playlist."""
    if track.kind == "audio":
        return f"audio_{track.rep_id}.m3u8"
    return f"video_{track.height}p_{track.rep_id}.m3u8"


def build_variants(tracks: Sequence[Track]) -> tuple[list[Variant], Track | None]:
    """Pair each video track with the audio group; sums measured rates.

    A player may pick any audio rendition of the group with any variant, so each
    variant declares the video's peak plus the LARGEST audio peak (and likewise
    the largest audio average). Returns the variants (by rising peak) and the
    first audio track (None without audio).
    """
    audios = [t for t in tracks if t.kind == "audio"]
    audio_peak = max((a.peak_bitrate for a in audios), default=0)
    audio_average = max((a.average_bitrate for a in audios), default=0)
    audio_codecs = list(dict.fromkeys(a.codecs for a in audios if a.codecs))
    variants = []
    for track in sorted((t for t in tracks if t.kind == "video"), key=lambda t: t.peak_bitrate):
        bandwidth = track.peak_bitrate + audio_peak
        average = track.average_bitrate + audio_average
        codecs = ",".join(c for c in (track.codecs, *audio_codecs) if c)
        variants.append(Variant(track, media_playlist_name(track), bandwidth, average, codecs))
    return variants, audios[0] if audios else None


AudioRole = Literal["main", "alternate", "commentary"]


@dataclass(frozen=True, slots=True)
class AudioRendition:
    """One audio track as the HLS master (EXT-X-MEDIA) and the MPD declare it.

    ``language`` is BCP-47 (``und`` when unknown: no HLS LANGUAGE then);
    ``name`` is unique within the group; only the first rendition is ``default``.
    """

    track: Track
    language: str
    name: str
    default: bool
    role: AudioRole = "main"

    @property
    def uri(self) -> str:
        """The rendition's media playlist."""
        return media_playlist_name(self.track)


def _single_rendition(track: Track) -> AudioRendition:
    language = track.language or "und"
    return AudioRendition(track, language, track.language or "Default", default=True)


def render_master(
    variants: Sequence[Variant], audio: Track | Sequence[AudioRendition] | None
) -> str:
    """The HLS master playlist: one EXT-X-MEDIA per audio rendition in group "aac"
    (DEFAULT=YES on the first only), then the variants, BANDWIDTH = video peak +
    largest audio peak (measured, see :func:`build_variants`)."""
    if audio is None:
        renditions: Sequence[AudioRendition] = []
    elif isinstance(audio, Track):
        renditions = [_single_rendition(audio)]
    else:
        renditions = audio
    lines = ["#EXTM3U", "#EXT-X-VERSION:7", "#EXT-X-INDEPENDENT-SEGMENTS"]
    for rendition in renditions:
        lang = f'LANGUAGE="{rendition.language}",' if rendition.language != "und" else ""
        default = "YES" if rendition.default else "NO"
        lines.append(
            f'#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aac",{lang}NAME="{rendition.name}",'
            f'DEFAULT={default},AUTOSELECT=YES,CHANNELS="{rendition.track.channels or 2}",'
            f'URI="{rendition.uri}"'
        )
    for variant in variants:
        track = variant.track
        attrs = [
            f"BANDWIDTH={variant.bandwidth}",
            f"AVERAGE-BANDWIDTH={variant.average_bandwidth}",
            f'CODECS="{variant.codecs}"',
            f"RESOLUTION={track.width}x{track.height}",
        ]
        if track.frame_rate:
            attrs.append(f"FRAME-RATE={float(track.frame_rate):.3f}")
        if renditions:
            attrs.append('AUDIO="aac"')
        lines.append("#EXT-X-STREAM-INF:" + ",".join(attrs))
        lines.append(variant.uri)
    return "\n".join(lines) + "\n"
