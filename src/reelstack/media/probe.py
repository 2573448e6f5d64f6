"""Probe a media file with PyAV and refuse what we cannot transcode.

Validation decodes real frames rather than trusting the container header: a
truncated upload can carry a complete ``moov`` box and still have no data.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import av.container
import av.stream
import av.video.stream

from reelstack.errors import InvalidMedia

# How close to the end we look for real data when checking for truncation.
_TAIL_CHECK_S = 1.0


@dataclass(frozen=True, slots=True)
class VideoInfo:
    """The first video stream. ``width``/``height`` are the coded size."""

    codec: str
    width: int
    height: int
    fps: float
    rotation: int
    display_width: int
    display_height: int
    bit_rate: int | None
    frame_count: int


@dataclass(frozen=True, slots=True)
class AudioInfo:
    """One audio stream."""

    codec: str
    channels: int
    sample_rate: int
    language: str | None
    bit_rate: int | None


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

    Raises ``InvalidMedia`` (never a raw PyAV error) for a missing or empty file,
    a file that is not media, a truncated file, or a video stream whose frames do
    not decode.
    """
    if not path.is_file():
        raise InvalidMedia(f"File not found: {path.name}")
    size_bytes = path.stat().st_size
    if size_bytes == 0:
        raise InvalidMedia("The file is empty (0 bytes).")
    try:
        container = av.open(str(path), mode="r")
    except Exception as exc:
        raise InvalidMedia(
            "The file is not a recognised audio/video file, or it is truncated "
            "(for MP4: the index ('moov' box) is missing)."
        ) from exc
    try:
        return _probe_container(container, size_bytes)
    except InvalidMedia:
        raise
    except Exception as exc:
        raise InvalidMedia(f"The file could not be decoded: {exc}") from exc
    finally:
        container.close()


def require_video(result: ProbeResult) -> VideoInfo:
    """Return the video stream info, or raise ``InvalidMedia`` for audio-only files."""
    if result.video is None:
        raise InvalidMedia("The file has no video stream (audio-only files are not accepted).")
    return result.video


def _probe_container(container: av.container.InputContainer, size_bytes: int) -> ProbeResult:
    if not container.streams.video and not container.streams.audio:
        raise InvalidMedia("The file contains no audio or video stream.")
    duration_s = _duration_s(container)
    if duration_s <= 0:
        raise InvalidMedia("The file's duration is unknown or zero.")

    video: VideoInfo | None = None
    if container.streams.video:
        video = _probe_video(container, container.streams.video[0], duration_s)

    audio = [
        AudioInfo(
            codec=stream.codec_context.name,
            channels=stream.codec_context.channels,
            sample_rate=stream.codec_context.sample_rate,
            language=_language(stream),
            bit_rate=stream.bit_rate or None,
        )
        for stream in container.streams.audio
    ]
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
        raise InvalidMedia("The video frame rate is unknown or implausible.")

    first = None
    try:
        for frame in container.decode(stream):
            first = frame
            break
    except av.FFmpegError as exc:
        raise InvalidMedia("The first video frames cannot be decoded.") from exc
    if first is None:
        raise InvalidMedia("The video stream contains no decodable frame.")

    rotation = _rotation(stream, first.rotation)
    _check_tail(container, stream, duration_s)

    width = stream.codec_context.width or first.width
    height = stream.codec_context.height or first.height
    turned = rotation in (90, 270)
    frame_count = stream.frames or round(duration_s * fps)
    return VideoInfo(
        codec=stream.codec_context.name,
        width=width,
        height=height,
        fps=round(fps, 3),
        rotation=rotation,
        display_width=height if turned else width,
        display_height=width if turned else height,
        bit_rate=stream.bit_rate or None,
        frame_count=frame_count,
    )


def _rotation(stream: av.video.stream.VideoStream, frame_rotation: float | int) -> int:
    """Clockwise display rotation in degrees, snapped to 0/90/180/270.

    The display matrix (exposed on decoded frames) is authoritative; old files
    only carry the ``rotate`` tag.
    """
    degrees = float(frame_rotation or 0)
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
        raise InvalidMedia("The file is truncated: the end of the video cannot be read.") from exc
    raise InvalidMedia("The file is truncated: the end of the video cannot be read.")
