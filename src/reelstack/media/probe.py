"""Probe a media file with PyAV and refuse what we cannot transcode.

Validation decodes real frames rather than trusting the container header: a
truncated upload can carry a complete ``moov`` box and still have no data.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import av.audio.stream
import av.container
import av.stream
import av.video.stream

from reelstack.media.errors import InvalidSource

# How close to the end we look for real data when checking for truncation.
_TAIL_CHECK_S = 1.0


# Sample aspect ratios outside this range are treated as broken metadata (square).
_SAR_MIN = Fraction(1, 4)
_SAR_MAX = Fraction(4)

# AVFieldOrder values (libavcodec/defs.h) -> our names.
_FIELD_ORDERS = {1: "progressive", 2: "tff", 3: "bff", 4: "tff", 5: "bff"}


@dataclass(frozen=True, slots=True)
class VideoInfo:
    """The main video stream (cover art and other attached pictures never count).

    ``stream_index`` is its position among the file's video streams (``0:v:K``).

    ``width``/``height`` are the coded size (storage pixels, before rotation).
    ``display_width``/``display_height`` are the size a player shows, in square
    pixels: the coded width is stretched by ``sample_aspect_ratio`` (height kept,
    as FFmpeg and players do), then the display rotation is applied (90/270 swap
    the two). So ``display_width / display_height`` is the display aspect ratio
    and the ladder is planned from it.

    ``interlaced`` is True when the first decoded frame is interlaced or the
    codec declares a field order other than progressive; ``field_order`` is
    ``"progressive"``, ``"tff"``, ``"bff"`` or ``"unknown"``.
    """

    codec: str
    width: int
    height: int
    fps: float
    rotation: int
    display_width: int
    display_height: int
    bit_rate: int | None
    frame_count: int
    sample_aspect_ratio: Fraction = Fraction(1)
    interlaced: bool = False
    field_order: str = "progressive"
    stream_index: int = 0


@dataclass(frozen=True, slots=True)
class AudioInfo:
    """One audio stream, in the order of the source's audio streams (``0:a:K``).

    ``title`` is the stream's ``title`` (Matroska) or ``name`` (MP4 ``udta``) tag;
    ``decodable`` is False when FFmpeg has no decoder for it or it declares no
    channels or sample rate; ``commentary`` reflects the stream's comment
    disposition.
    """

    codec: str
    channels: int
    sample_rate: int
    language: str | None
    bit_rate: int | None
    title: str | None = None
    decodable: bool = True
    commentary: bool = False


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """What the transcoder needs to know about a source file."""

    duration_s: float
    format_name: str
    size_bytes: int
    video: VideoInfo | None
    audio: list[AudioInfo]


def probe(path: Path) -> ProbeResult:
    """Probe ``path`` and check it is decodable.

    Raises ``InvalidSource`` (never a raw PyAV error) for a missing or empty file,
    a file that is not media, a truncated file, or a video stream whose frames do
    not decode.
    """
    if not path.is_file():
        raise InvalidSource(f"File not found: {path.name}")
    size_bytes = path.stat().st_size
    if size_bytes == 0:
        raise InvalidSource("The file is empty (0 bytes).")
    try:
        container = av.open(str(path), mode="r")
    except Exception as exc:
        raise InvalidSource(
            "The file is not a recognised audio/video file, or it is truncated "
            "(for MP4: the index ('moov' box) is missing)."
        ) from exc
    try:
        return _probe_container(container, size_bytes)
    except InvalidSource:
        raise
    except Exception as exc:
        raise InvalidSource(f"The file could not be decoded: {exc}") from exc
    finally:
        container.close()


def require_video(result: ProbeResult) -> VideoInfo:
    """Return the video stream info, or raise ``InvalidSource`` for audio-only files."""
    if result.video is None:
        raise InvalidSource("The file has no video stream (audio-only files are not accepted).")
    return result.video


def _probe_container(container: av.container.InputContainer, size_bytes: int) -> ProbeResult:
    main_video = _main_video_stream(container)
    if main_video is None and not container.streams.audio:
        raise InvalidSource("The file contains no audio or video stream.")
    duration_s = _duration_s(container)
    if duration_s <= 0:
        if main_video is not None and main_video.codec_context.name in _PICTURE_CODECS:
            raise InvalidSource("The file is a still image, not a video.")
        raise InvalidSource("The file's duration is unknown or zero.")

    video: VideoInfo | None = None
    if main_video is not None:
        video = _probe_video(container, main_video, duration_s)

    audio = [_probe_audio(stream) for stream in container.streams.audio]
    return ProbeResult(
        duration_s=duration_s,
        format_name=container.format.name,
        size_bytes=size_bytes,
        video=video,
        audio=audio,
    )


def _duration_s(container: av.container.InputContainer) -> float:
    if container.duration is not None and container.duration > 0:
        return container.duration / av.time_base
    longest = 0.0
    for stream in container.streams:
        if stream.duration is not None and stream.time_base is not None:
            longest = max(longest, float(stream.duration * stream.time_base))
    return longest


def _probe_audio(stream: av.audio.stream.AudioStream) -> AudioInfo:
    ctx = stream.codec_context
    try:
        codec = ctx.codec
        decodable = bool(codec is not None and codec.is_decoder)
    except Exception:
        decodable = False
    channels = ctx.channels or 0
    sample_rate = ctx.sample_rate or 0
    title = stream.metadata.get("title") or stream.metadata.get("name") or None
    try:
        commentary = bool(stream.disposition & av.stream.Disposition.comment)
    except Exception:
        commentary = False
    return AudioInfo(
        codec=ctx.name,
        channels=channels,
        sample_rate=sample_rate,
        language=_language(stream),
        bit_rate=stream.bit_rate or None,
        title=title.strip() or None if title else None,
        decodable=decodable and channels > 0 and sample_rate > 0,
        commentary=commentary,
    )


def _language(stream: av.stream.Stream) -> str | None:
    lang = stream.language or stream.metadata.get("language")
    return None if lang in (None, "", "und") else lang


def _probe_video(
    container: av.container.InputContainer,
    stream: av.video.stream.VideoStream,
    duration_s: float,
) -> VideoInfo:
    rate = stream.average_rate or stream.guessed_rate or stream.base_rate
    fps = float(rate) if rate else 0.0
    if fps <= 0 or fps > 1000:
        raise InvalidSource("The video frame rate is unknown or implausible.")

    first = None
    try:
        for frame in container.decode(stream):
            first = frame
            break
    except av.FFmpegError as exc:
        raise InvalidSource("The first video frames cannot be decoded.") from exc
    if first is None:
        raise InvalidSource("The video stream contains no decodable frame.")

    rotation = _rotation(stream, first.rotation)
    _check_tail(container, stream, duration_s)

    width = stream.codec_context.width or first.width
    height = stream.codec_context.height or first.height
    sar = _sample_aspect_ratio(stream)
    # Square-pixel size before rotation: stretch (or squeeze) the width, keep the height.
    square_width = max(1, round(width * sar))
    turned = rotation in (90, 270)
    field_order = _FIELD_ORDERS.get(int(stream.codec_context.field_order or 0), "unknown")
    interlaced = bool(first.interlaced_frame) or field_order in ("tff", "bff")
    if interlaced and field_order == "progressive":
        field_order = "unknown"
    frame_count = stream.frames or round(duration_s * fps)
    return VideoInfo(
        codec=stream.codec_context.name,
        width=width,
        height=height,
        fps=round(fps, 3),
        rotation=rotation,
        display_width=height if turned else square_width,
        display_height=square_width if turned else height,
        bit_rate=stream.bit_rate or None,
        frame_count=frame_count,
        sample_aspect_ratio=sar,
        interlaced=interlaced,
        field_order=field_order,
        stream_index=list(container.streams.video).index(stream),
    )


# Codecs that carry pictures, not motion, when a file also has a real video stream.
_PICTURE_CODECS = frozenset({"mjpeg", "png", "bmp", "tiff", "webp", "jpeg2000"})


def _main_video_stream(
    container: av.container.InputContainer,
) -> av.video.stream.VideoStream | None:
    """The stream to transcode: never an attached picture (an MP3's cover art); among the
    rest a motion codec beats a picture codec, then the larger picture wins, then order."""
    real = [
        s for s in container.streams.video if not s.disposition & av.stream.Disposition.attached_pic
    ]
    if not real:
        return None
    return max(
        real,
        key=lambda s: (
            s.codec_context.name not in _PICTURE_CODECS,
            (s.width or 0) * (s.height or 0),
            -real.index(s),
        ),
    )


def _sample_aspect_ratio(stream: av.video.stream.VideoStream) -> Fraction:
    """Pixel aspect ratio: the container's (e.g. MP4 ``pasp``) first, then the codec's.

    Same precedence as FFmpeg's ``av_guess_sample_aspect_ratio``; unset, zero or
    implausible values mean square pixels.
    """
    for candidate in (stream.sample_aspect_ratio, stream.codec_context.sample_aspect_ratio):
        if candidate is None or candidate.numerator <= 0 or candidate.denominator <= 0:
            continue
        sar = Fraction(candidate.numerator, candidate.denominator)
        return sar if _SAR_MIN <= sar <= _SAR_MAX else Fraction(1)
    return Fraction(1)


def _rotation(stream: av.video.stream.VideoStream, frame_rotation: float | int) -> int:
    """Clockwise display rotation in degrees, snapped to 0/90/180/270.

    The display matrix (exposed on decoded frames) is authoritative; old files
    only carry the ``rotate`` tag. PyAV reports the matrix angle counterclockwise
    (FFmpeg's ``av_display_rotation_get``) while the legacy tag is clockwise, so
    the matrix angle is negated: a phone's portrait clip (tag ``rotate=90``) reads
    90 either way.
    """
    degrees = -float(frame_rotation or 0)
    if not degrees:
        tag = stream.metadata.get("rotate")
        if tag is not None:
            try:
                degrees = float(tag)
            except ValueError:
                degrees = 0.0
    return (round(degrees / 90) * 90) % 360


def _check_tail(
    container: av.container.InputContainer,
    stream: av.video.stream.VideoStream,
    duration_s: float,
) -> None:
    """Seek near the end and require a real packet there.

    A file cut after upload keeps its header (e.g. a fast-start ``moov``) but the
    sample data past the cut is missing: the demuxer then yields only empty packets.
    """
    if duration_s <= 2 * _TAIL_CHECK_S or stream.time_base is None:
        return
    # pts count from the stream's start time, not from zero.
    start = stream.start_time or 0
    target = start + int((duration_s - _TAIL_CHECK_S) / Fraction(stream.time_base))
    try:
        container.seek(target, stream=stream, backward=True)
        # The seek lands on the keyframe before the target, which may be far
        # before the cut: walk packets (no decoding) until the target is reached.
        for packet in container.demux(stream):
            if packet.size == 0:
                break
            if packet.pts is not None and packet.pts >= target:
                return
    except av.FFmpegError as exc:
        raise InvalidSource("The file is truncated: the end of the video cannot be read.") from exc
    raise InvalidSource("The file is truncated: the end of the video cannot be read.")
