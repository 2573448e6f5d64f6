"""Just enough ISO BMFF (MP4) reading to describe fMP4 init and media segments.

The manifests declare what the segments really hold: brands, timescale, codec
strings, picture size and sample rate come from the init segment; each media
segment's decode time and duration from its ``tfdt`` and ``trun`` boxes. Pure
functions over bytes; malformed input raises :class:`BmffError`.
"""

from __future__ import annotations

import struct
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

HandlerKind = Literal["video", "audio", "text", "other"]

_HANDLERS: dict[bytes, HandlerKind] = {
    b"vide": "video",
    b"soun": "audio",
    b"text": "text",
    b"subt": "text",
}
# Sample entry body sizes before their child boxes (ISO/IEC 14496-12 12.1.3, 12.2.3).
_VISUAL_ENTRY_HEADER = 78
_AUDIO_ENTRY_HEADER = 28
# trun flags.
_TRUN_DATA_OFFSET = 0x1
_TRUN_FIRST_FLAGS = 0x4
_TRUN_DURATION = 0x100
_TRUN_SIZE = 0x200
_TRUN_FLAGS = 0x400
_TRUN_CTS = 0x800
# tfhd flags.
_TFHD_BASE_OFFSET = 0x1
_TFHD_DESCRIPTION = 0x2
_TFHD_DURATION = 0x8


class BmffError(ValueError):
    """The bytes are not the ISO BMFF structure expected."""


@dataclass(frozen=True, slots=True)
class Box:
    """One box: its four-character type and the byte range of its payload."""

    type: bytes
    start: int
    end: int


def iter_boxes(data: bytes, start: int = 0, end: int | None = None) -> Iterator[Box]:
    """The boxes laid end to end in ``data[start:end]`` (payload ranges, header skipped)."""
    end = len(data) if end is None else end
    at = start
    while at < end:
        if end - at < 8:
            raise BmffError(f"truncated box header at byte {at}")
        size, kind = struct.unpack_from(">I4s", data, at)
        header = 8
        if size == 1:
            if end - at < 16:
                raise BmffError(f"truncated large box header at byte {at}")
            (size,) = struct.unpack_from(">Q", data, at + 8)
            header = 16
        elif size == 0:
            size = end - at
        if size < header or at + size > end:
            raise BmffError(f"box {kind!r} at byte {at} overruns its parent")
        yield Box(kind, at + header, at + size)
        at += size


def _child(data: bytes, parent: Box, kind: bytes) -> Box | None:
    return next((b for b in iter_boxes(data, parent.start, parent.end) if b.type == kind), None)


def _path(data: bytes, parent: Box, *kinds: bytes) -> Box:
    box = parent
    for kind in kinds:
        found = _child(data, box, kind)
        if found is None:
            raise BmffError(f"no {kind.decode(errors='replace')} box in {box.type!r}")
        box = found
    return box


def _top(data: bytes, kind: bytes) -> Box | None:
    return next((b for b in iter_boxes(data) if b.type == kind), None)


@dataclass(frozen=True, slots=True)
class FileType:
    """An ``ftyp`` (or ``styp``) box: major brand and compatible brands."""

    major: str
    compatible: tuple[str, ...]


def read_file_type(data: bytes) -> FileType:
    """The ``ftyp``/``styp`` box that opens a segment."""
    first = next(iter_boxes(data), None)
    if first is None or first.type not in (b"ftyp", b"styp"):
        raise BmffError("segment does not start with ftyp or styp")
    body = data[first.start : first.end]
    if len(body) < 8 or len(body) % 4:
        raise BmffError("malformed file type box")
    brands = [body[i : i + 4].decode("latin-1") for i in range(0, len(body), 4)]
    return FileType(major=brands[0], compatible=tuple(brands[2:]))


@dataclass(frozen=True, slots=True)
class InitInfo:
    """What one single-track fMP4 init segment declares."""

    brands: FileType
    track_id: int
    kind: HandlerKind
    timescale: int
    codecs: str
    width: int | None = None
    height: int | None = None
    sample_rate: int | None = None
    channels: int | None = None
    default_sample_duration: int | None = None
    # Media time shown at presentation time 0 (the edit list's shift: AAC priming,
    # B-frame delay), in the track's timescale.
    media_time_offset: int = 0
    # The protection scheme of an encrypted track (``cenc``, ``cbcs``; None: clear).
    protection_scheme: str | None = None


def read_init(data: bytes) -> InitInfo:
    """Describe a single-track fMP4 init segment (``ftyp`` + ``moov``)."""
    brands = read_file_type(data)
    moov = _top(data, b"moov")
    if moov is None:
        raise BmffError("init segment has no moov box")
    traks = [b for b in iter_boxes(data, moov.start, moov.end) if b.type == b"trak"]
    if len(traks) != 1:
        raise BmffError(f"expected one track in the init segment, found {len(traks)}")
    trak = traks[0]
    tkhd = _path(data, trak, b"tkhd")
    tkhd_version = data[tkhd.start]
    (track_id,) = struct.unpack_from(">I", data, tkhd.start + (20 if tkhd_version == 1 else 12))

    mdhd = _path(data, trak, b"mdia", b"mdhd")
    mdhd_version = data[mdhd.start]
    (timescale,) = struct.unpack_from(">I", data, mdhd.start + (20 if mdhd_version == 1 else 12))
    if timescale <= 0:
        raise BmffError("track timescale is zero")
    hdlr = _path(data, trak, b"mdia", b"hdlr")
    kind = _HANDLERS.get(data[hdlr.start + 8 : hdlr.start + 12], "other")

    stsd = _path(data, trak, b"mdia", b"minf", b"stbl", b"stsd")
    entry = next(iter_boxes(data, stsd.start + 8, stsd.end), None)
    if entry is None:
        raise BmffError("stsd has no sample entry")

    offset = _edit_offset(data, moov, trak, timescale)
    default_duration = None
    mvex = _child(data, moov, b"mvex")
    if mvex is not None:
        for trex in iter_boxes(data, mvex.start, mvex.end):
            if trex.type == b"trex":
                tid, _, duration = struct.unpack_from(">III", data, trex.start + 4)
                if tid == track_id:
                    default_duration = duration or None

    fourcc = entry.type.decode("latin-1")
    header = _VISUAL_ENTRY_HEADER if kind == "video" else _AUDIO_ENTRY_HEADER
    fourcc, scheme = _original_format(
        data, fourcc, Box(entry.type, entry.start + header, entry.end)
    )
    if kind == "video":
        width, height = struct.unpack_from(">HH", data, entry.start + 24)
        children = Box(entry.type, entry.start + _VISUAL_ENTRY_HEADER, entry.end)
        return InitInfo(
            brands=brands,
            track_id=track_id,
            kind=kind,
            timescale=timescale,
            codecs=_video_codecs(data, fourcc, children),
            width=width,
            height=height,
            default_sample_duration=default_duration,
            media_time_offset=offset,
            protection_scheme=scheme,
        )
    if kind == "audio":
        (channels,) = struct.unpack_from(">H", data, entry.start + 16)
        (rate_16_16,) = struct.unpack_from(">I", data, entry.start + 24)
        children = Box(entry.type, entry.start + _AUDIO_ENTRY_HEADER, entry.end)
        return InitInfo(
            brands=brands,
            track_id=track_id,
            kind=kind,
            timescale=timescale,
            codecs=_audio_codecs(data, fourcc, children),
            sample_rate=rate_16_16 >> 16,
            channels=channels,
            default_sample_duration=default_duration,
            media_time_offset=offset,
            protection_scheme=scheme,
        )
    return InitInfo(
        brands=brands,
        track_id=track_id,
        kind=kind,
        timescale=timescale,
        codecs=fourcc,
        default_sample_duration=default_duration,
        media_time_offset=offset,
    )


def _original_format(data: bytes, fourcc: str, children: Box) -> tuple[str, str | None]:
    """An encrypted sample entry (``encv``/``enca``, ISO/IEC 14496-12 8.12) as the
    format it protects (``sinf/frma``) and its scheme (``sinf/schm``); others as they are."""
    if fourcc not in ("encv", "enca"):
        return fourcc, None
    sinf = _path(data, children, b"sinf")
    frma = _path(data, sinf, b"frma")
    original = data[frma.start : frma.start + 4].decode("latin-1")
    schm = _child(data, sinf, b"schm")
    scheme = None if schm is None else data[schm.start + 4 : schm.start + 8].decode("latin-1")
    return original, scheme


def _edit_offset(data: bytes, moov: Box, trak: Box, timescale: int) -> int:
    """Media time at presentation time 0 from the track's edit list (0 without one).

    Only the first edits count: an optional empty edit (a delay, in the movie
    timescale) and then the media edit's ``media_time``.
    """
    edts = _child(data, trak, b"edts")
    elst = _child(data, edts, b"elst") if edts is not None else None
    if elst is None:
        return 0
    version = data[elst.start]
    (count,) = struct.unpack_from(">I", data, elst.start + 4)
    row = ">QqI" if version == 1 else ">IiI"
    size = struct.calcsize(row)
    mvhd = _path(data, moov, b"mvhd")
    (movie_timescale,) = struct.unpack_from(
        ">I", data, mvhd.start + (20 if data[mvhd.start] == 1 else 12)
    )
    delay = 0
    for k in range(count):
        duration, media_time, _ = struct.unpack_from(row, data, elst.start + 8 + k * size)
        if media_time == -1:
            delay += duration * timescale // max(movie_timescale, 1)
            continue
        return int(media_time) - delay
    return -delay


def _video_codecs(data: bytes, fourcc: str, entry: Box) -> str:
    if fourcc in ("avc1", "avc3"):
        avcc = _path(data, entry, b"avcC")
        profile, constraints, level = data[avcc.start + 1 : avcc.start + 4]
        return f"{fourcc}.{profile:02x}{constraints:02x}{level:02x}"
    return fourcc


def _descriptor(data: bytes, at: int) -> tuple[int, int, int]:
    """(tag, payload start, payload end) of an MPEG-4 descriptor at ``at``."""
    tag = data[at]
    at += 1
    size = 0
    for _ in range(4):
        byte = data[at]
        at += 1
        size = (size << 7) | (byte & 0x7F)
        if not byte & 0x80:
            break
    return tag, at, at + size


def _audio_codecs(data: bytes, fourcc: str, entry: Box) -> str:
    if fourcc != "mp4a":
        return fourcc
    esds = _path(data, entry, b"esds")
    tag, at, _ = _descriptor(data, esds.start + 4)
    if tag != 0x03:
        raise BmffError("esds does not hold an ES descriptor")
    flags = data[at + 2]
    at += 3
    if flags & 0x80:
        at += 2
    if flags & 0x40:
        at += 1 + data[at]
    if flags & 0x20:
        at += 2
    tag, at, end = _descriptor(data, at)
    if tag != 0x04:
        raise BmffError("ES descriptor has no decoder config")
    object_type = data[at]
    codecs = f"mp4a.{object_type:02X}"
    if object_type == 0x40 and at + 13 < end:
        tag, info, _ = _descriptor(data, at + 13)
        if tag == 0x05:
            audio_object_type = data[info] >> 3
            if audio_object_type == 31:
                audio_object_type = 32 + (((data[info] & 0x07) << 3) | (data[info + 1] >> 5))
            codecs += f".{audio_object_type}"
    return codecs


@dataclass(frozen=True, slots=True)
class FragmentTiming:
    """One media segment's samples, in its track's timescale.

    ``start``/``end`` are presentation times (decode time plus composition offset)
    before any edit list; ``sample_durations`` in decode order.
    """

    decode_time: int
    start: int
    end: int
    sample_durations: tuple[int, ...]


def read_fragment_timing(data: bytes, *, default_sample_duration: int | None) -> FragmentTiming:
    """Timing of a media segment from its ``tfdt`` and ``trun`` boxes.

    A segment may hold several ``moof`` boxes (chunks); their samples all count.
    """
    first_decode: int | None = None
    dts: int | None = None
    start: int | None = None
    end: int | None = None
    durations: list[int] = []
    for moof in iter_boxes(data):
        if moof.type != b"moof":
            continue
        for traf in iter_boxes(data, moof.start, moof.end):
            if traf.type != b"traf":
                continue
            tfhd = _path(data, traf, b"tfhd")
            tfhd_flags = int.from_bytes(data[tfhd.start + 1 : tfhd.start + 4], "big")
            at = tfhd.start + 8
            at += 8 if tfhd_flags & _TFHD_BASE_OFFSET else 0
            at += 4 if tfhd_flags & _TFHD_DESCRIPTION else 0
            default = default_sample_duration
            if tfhd_flags & _TFHD_DURATION:
                (default,) = struct.unpack_from(">I", data, at)
            tfdt = _child(data, traf, b"tfdt")
            if tfdt is not None:
                fmt = ">Q" if data[tfdt.start] == 1 else ">I"
                (dts,) = struct.unpack_from(fmt, data, tfdt.start + 4)
            if dts is None:
                raise BmffError("media segment has no tfdt box")
            if first_decode is None:
                first_decode = dts
            for trun in iter_boxes(data, traf.start, traf.end):
                if trun.type != b"trun":
                    continue
                for duration, offset in _trun_samples(data, trun, default):
                    shown = dts + offset
                    start = shown if start is None else min(start, shown)
                    end = shown + duration if end is None else max(end, shown + duration)
                    durations.append(duration)
                    dts += duration
    if first_decode is None or start is None or end is None:
        raise BmffError("media segment has no samples")
    return FragmentTiming(first_decode, start, end, tuple(durations))


def _trun_samples(data: bytes, trun: Box, default: int | None) -> list[tuple[int, int]]:
    """(duration, composition offset) of each sample of a ``trun``."""
    version = data[trun.start]
    flags = int.from_bytes(data[trun.start + 1 : trun.start + 4], "big")
    (count,) = struct.unpack_from(">I", data, trun.start + 4)
    at = trun.start + 8
    at += 4 if flags & _TRUN_DATA_OFFSET else 0
    at += 4 if flags & _TRUN_FIRST_FLAGS else 0
    if not flags & _TRUN_DURATION and default is None:
        raise BmffError("samples have no duration (no trun, tfhd or trex value)")
    stride = 4 * sum(
        1 for bit in (_TRUN_DURATION, _TRUN_SIZE, _TRUN_FLAGS, _TRUN_CTS) if flags & bit
    )
    if at + stride * count > trun.end:
        raise BmffError("trun overruns its box")
    cts_at = 4 * sum(1 for bit in (_TRUN_DURATION, _TRUN_SIZE, _TRUN_FLAGS) if flags & bit)
    cts_fmt = ">i" if version else ">I"
    samples = []
    for k in range(count):
        row = at + k * stride
        duration = default or 0
        if flags & _TRUN_DURATION:
            (duration,) = struct.unpack_from(">I", data, row)
        offset = struct.unpack_from(cts_fmt, data, row + cts_at)[0] if flags & _TRUN_CTS else 0
        samples.append((duration, offset))
    return samples


def frame_rate(timescale: int, sample_durations: list[int]) -> Fraction | None:
    """The frame rate of constant-rate video: timescale over the most common sample duration."""
    if not sample_durations:
        return None
    duration, _ = Counter(sample_durations).most_common(1)[0]
    return Fraction(timescale, duration) if duration else None
