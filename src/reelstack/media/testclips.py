"""Synthetic clips from FFmpeg's lavfi sources, for tests, the demo seed and the bench."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path

from reelstack.media.errors import ProcessingFailed
from reelstack.media.ffmpeg import ffmpeg_exe


def make_test_clip(
    path: Path,
    *,
    width: int = 320,
    height: int = 180,
    duration_s: float = 4,
    fps: float | str = 30,
    audio: bool = True,
    video: bool = True,
    codec: str = "libx264",
    preset: str = "ultrafast",
    crf: int | None = None,
    extra_args: Sequence[str] = (),
    input_args: Sequence[str] = (),
    audio_channels: int = 2,
    audio_sample_rate: int = 48000,
    video_filter: str | None = None,
) -> Path:
    """Write a ``testsrc2`` (+ 440 Hz ``sine``) clip to ``path`` and return it.

    ``extra_args`` go before the output name (e.g. ``["-movflags", "+faststart"]``);
    ``input_args`` go before the first input. ``fps`` may be a rational string
    (``"30000/1001"``). ``audio_channels`` (e.g. 1 or 6 for
    5.1) and ``audio_sample_rate`` shape the audio track; ``video_filter`` is an
    FFmpeg ``-vf`` chain applied to the video (e.g. ``"setsar=12/11"``).
    """
    if not video and not audio:
        raise ValueError("a clip needs video or audio")
    argv = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *input_args]
    if video:
        argv += [
            "-f",
            "lavfi",
            "-i",
            f"testsrc2=size={width}x{height}:rate={fps}:duration={duration_s}",
        ]
    if audio:
        argv += [
            "-f",
            "lavfi",
            "-i",
            f"sine=frequency=440:sample_rate={audio_sample_rate}:duration={duration_s}",
        ]
    if video:
        if video_filter:
            argv += ["-vf", video_filter]
        argv += ["-c:v", codec, "-pix_fmt", "yuv420p"]
        if codec == "libx264":
            argv += ["-preset", preset]
            if crf is not None:
                argv += ["-crf", str(crf)]
    if audio:
        argv += ["-c:a", "aac", "-b:a", "128k", "-ac", str(audio_channels)]
    argv += [*extra_args, str(path)]
    result = subprocess.run(argv, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise ProcessingFailed(f"make_test_clip failed: {result.stderr.strip()[-2000:]}")
    return path


def make_multi_audio_clip(
    path: Path,
    *,
    tracks: Sequence[tuple[int, int, str | None, str | None]],
    width: int = 160,
    height: int = 90,
    duration_s: float = 2,
    fps: float = 30,
) -> Path:
    """Write a ``testsrc2`` clip with one AAC ``sine`` track per entry of ``tracks``.

    Each entry is ``(frequency_hz, channels, language, title)`` (ISO 639-2
    ``language`` such as ``"eng"``; None leaves a tag unset); tracks keep that order.
    """
    argv = [
        ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
        "-f", "lavfi", "-i", f"testsrc2=size={width}x{height}:rate={fps}:duration={duration_s}",
    ]  # fmt: skip
    for freq, _, _, _ in tracks:
        argv += [
            "-f",
            "lavfi",
            "-i",
            f"sine=frequency={freq}:sample_rate=48000:duration={duration_s}",
        ]
    argv += ["-map", "0:v"]
    for k in range(len(tracks)):
        argv += ["-map", f"{k + 1}:a"]
    argv += ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
    argv += ["-c:a", "aac", "-b:a", "128k"]
    for k, (_, channels, language, title) in enumerate(tracks):
        argv += [f"-ac:a:{k}", str(channels)]
        if language:
            argv += [f"-metadata:s:a:{k}", f"language={language}"]
        if title:
            argv += [f"-metadata:s:a:{k}", f"title={title}"]
    argv.append(str(path))
    result = subprocess.run(argv, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise ProcessingFailed(f"make_multi_audio_clip failed: {result.stderr.strip()[-2000:]}")
    return path
