from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from reelstack.media.errors import InvalidSource
from reelstack.media.probe import probe, require_video
from reelstack.media.testclips import make_test_clip


def test_good_clip(landscape_clip: Path) -> None:
    result = probe(landscape_clip)
    video = require_video(result)
    assert result.duration_s == pytest.approx(4.0, abs=0.1)
    assert "mp4" in result.format_name
    assert result.size_bytes == landscape_clip.stat().st_size
    assert (video.codec, video.width, video.height) == ("h264", 320, 180)
    assert video.fps == pytest.approx(30.0)
    assert video.rotation == 0
    assert (video.display_width, video.display_height) == (320, 180)
    assert video.frame_count == 120
    assert len(result.audio) == 1
    audio = result.audio[0]
    assert (audio.codec, audio.channels, audio.sample_rate) == ("aac", 2, 48000)
    assert audio.language is None


def test_rotated_clip_reports_display_size(tmp_path: Path) -> None:
    # -display_rotation (input option) writes a display matrix on stream copy.
    plain = make_test_clip(tmp_path / "plain.mp4", width=320, height=180, duration_s=3)
    rotated = make_test_clip(
        tmp_path / "rotated.mp4",
        width=320,
        height=180,
        duration_s=3,
        audio=False,
        extra_args=["-metadata:s:v:0", "language=eng"],
    )
    rotated.unlink()
    import subprocess

    from reelstack.media.ffmpeg import ffmpeg_exe

    subprocess.run(
        [ffmpeg_exe(), "-loglevel", "error", "-display_rotation", "90", "-i", str(plain),
         "-c", "copy", str(rotated)],
        check=True,
    )  # fmt: skip
    video = require_video(probe(rotated))
    assert video.rotation in (90, 270)
    assert (video.width, video.height) == (320, 180)
    assert (video.display_width, video.display_height) == (180, 320)


def test_text_file_rejected(tmp_path: Path) -> None:
    path = tmp_path / "notes.mp4"
    path.write_text("hello, this is not a video\n" * 50)
    with pytest.raises(InvalidSource, match="not a recognised"):
        probe(path)


def test_zero_length_rejected(tmp_path: Path) -> None:
    path = tmp_path / "empty.mp4"
    path.touch()
    with pytest.raises(InvalidSource, match="empty"):
        probe(path)


def test_missing_file_rejected(tmp_path: Path) -> None:
    with pytest.raises(InvalidSource):
        probe(tmp_path / "nope.mp4")


def test_truncated_mp4_moov_at_end(tmp_path: Path, landscape_clip: Path) -> None:
    data = landscape_clip.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(InvalidSource, match="truncated"):
        probe(cut)


def test_truncated_mp4_faststart(tmp_path: Path) -> None:
    # moov first: the header is complete, the sample data is not.
    clip = make_test_clip(tmp_path / "fs.mp4", duration_s=6, extra_args=["-movflags", "+faststart"])
    probe(clip)  # the intact file is fine
    data = clip.read_bytes()
    cut = tmp_path / "fs_cut.mp4"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(InvalidSource, match="truncated"):
        probe(cut)


def test_audio_only_rejected_by_require_video(tmp_path: Path) -> None:
    clip = make_test_clip(tmp_path / "a.m4a", video=False, duration_s=2)
    result = probe(clip)
    assert result.video is None
    assert result.audio[0].codec == "aac"
    with pytest.raises(InvalidSource, match="no video"):
        require_video(result)


def _ffmpeg(*args: str) -> None:
    from reelstack.media.ffmpeg import ffmpeg_exe

    subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", *args], check=True)


def _still(path: Path) -> Path:
    _ffmpeg("-f", "lavfi", "-i", "testsrc2=size=64x64", "-frames:v", "1", str(path))
    return path


def test_cover_art_is_not_video(tmp_path: Path) -> None:
    """An MP3 with cover art has a one-picture 'video' stream: it is still audio-only."""
    still = _still(tmp_path / "cover.png")
    mp3 = tmp_path / "song.mp3"
    _ffmpeg(
        "-f", "lavfi", "-i", "sine=duration=2", "-i", str(still), "-map", "0:a", "-map", "1:v",
        "-c:a", "libmp3lame", "-c:v", "mjpeg", "-disposition:v", "attached_pic", str(mp3),
    )  # fmt: skip
    result = probe(mp3)
    assert result.video is None and len(result.audio) == 1
    with pytest.raises(InvalidSource, match="audio-only"):
        require_video(result)


def test_main_video_stream_skips_a_leading_still(tmp_path: Path) -> None:
    """A one-frame picture stored first (no attached-picture flag): the real video wins."""
    still = _still(tmp_path / "still.png")
    mkv = tmp_path / "covered.mkv"
    _ffmpeg(
        "-i", str(still), "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=30:duration=2",
        "-map", "0:v", "-map", "1:v", "-c:v:0", "mjpeg", "-c:v:1", "libx264", str(mkv),
    )  # fmt: skip
    video = require_video(probe(mkv))
    assert (video.stream_index, video.codec, video.width) == (1, "h264", 320)
