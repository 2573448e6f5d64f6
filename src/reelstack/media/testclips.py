"""Synthetic clips from FFmpeg's lavfi sources, for tests, the demo seed and the bench."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path

from reelstack.errors import MediaProcessingError
from reelstack.media.ffmpeg import ffmpeg_exe


def make_test_clip(
    path: Path,
    *,
    width: int = 320,
    height: int = 180,
    duration_s: float = 4,
    fps: float = 30,
    audio: bool = True,
    video: bool = True,
    codec: str = "libx264",
    preset: str = "ultrafast",
    crf: int | None = None,
    extra_args: Sequence[str] = (),
    input_args: Sequence[str] = (),
) -> Path:
    """Write a ``testsrc2`` (+ 440 Hz ``sine``) clip to ``path`` and return it.

    ``extra_args`` go before the output name (e.g. ``["-movflags", "+faststart"]``);
    ``input_args`` go before the first input.
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
        argv += ["-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={duration_s}"]
    if video:
        argv += ["-c:v", codec, "-pix_fmt", "yuv420p"]
        if codec == "libx264":
            argv += ["-preset", preset]
            if crf is not None:
                argv += ["-crf", str(crf)]
    if audio:
        argv += ["-c:a", "aac", "-b:a", "128k", "-ac", "2"]
    argv += [*extra_args, str(path)]
    result = subprocess.run(argv, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise MediaProcessingError(f"make_test_clip failed: {result.stderr.strip()[-2000:]}")
    return path
