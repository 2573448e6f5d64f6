"""Real-world sources end to end: rotation, non-square pixels, interlacing, no or
odd audio, odd frame rates. Each test packages a tiny generated clip and decodes
the packaged renditions (init + segments joined) with PyAV."""

from __future__ import annotations

import struct
import subprocess
from fractions import Fraction
from pathlib import Path

import av
import pytest

from reelstack.media.ffmpeg import ffmpeg_exe
from reelstack.media.manifests import Track, read_mpd
from reelstack.media.package import PackageResult, transcode_and_package
from reelstack.media.probe import probe, require_video
from reelstack.media.testclips import make_test_clip
from tests.media.mpd_rules import check_published_mpd

pytestmark = pytest.mark.e2e

Gray = list[list[int]]


def package(source: Path, out: Path, ladder: str = "tiny") -> tuple[PackageResult, list[Track]]:
    result = transcode_and_package(source=source, out_dir=out, ladder=ladder)
    check_published_mpd(result.mpd_path)
    _, tracks = read_mpd(result.mpd_path)
    return result, tracks


def joined(track: Track, base: Path) -> Path:
    path = base / f"joined-{track.rep_id}.mp4"
    with path.open("wb") as fh:
        for uri in (track.init_uri, *(s.uri for s in track.segments)):
            fh.write((base / uri).read_bytes())
    return path


def video_tracks(tracks: list[Track]) -> list[Track]:
    return [t for t in tracks if t.kind == "video"]


def decode_video(path: Path) -> list[av.VideoFrame]:
    with av.open(str(path)) as container:
        return list(container.decode(container.streams.video[0]))


def gray(frame: av.VideoFrame) -> Gray:
    plane = frame.reformat(format="gray").planes[0]
    data = bytes(plane)
    return [
        list(data[y * plane.line_size : y * plane.line_size + frame.width])
        for y in range(frame.height)
    ]


def mean_abs_diff(a: Gray, b: Gray) -> float:
    assert (len(a), len(a[0])) == (len(b), len(b[0]))
    total = sum(
        abs(p - q) for ra, rb in zip(a, b, strict=True) for p, q in zip(ra, rb, strict=True)
    )
    return total / (len(a) * len(a[0]))


def tkhd_matrix(init: Path) -> tuple[int, ...]:
    """The 3x3 display matrix of the (single) track header in an fMP4 init segment."""
    data = init.read_bytes()
    at = data.index(b"tkhd") - 4
    version = data[at + 8]
    # size, type, version+flags, times, track_ID, reserved, duration, reserved(8),
    # layer, alternate_group, volume, reserved(2), then the 9-int matrix.
    offset = at + 8 + 4 + (32 if version == 1 else 20) + 8 + 8
    return struct.unpack(">9i", data[offset : offset + 36])


IDENTITY = (0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)


def keyframe_times(frames: list[av.VideoFrame]) -> list[float]:
    return [round(float(f.time or 0), 3) for f in frames if f.key_frame]


def master_line(result: PackageResult, prefix: str) -> list[str]:
    return [x for x in result.master_path.read_text().splitlines() if x.startswith(prefix)]


# --- Rotation -------------------------------------------------------------------


@pytest.fixture(scope="module")
def upright(clips: Path) -> Path:
    return make_test_clip(clips / "upright.mp4", width=320, height=180, duration_s=2, audio=False)


def rotated(upright: Path, tmp: Path, ccw_degrees: int) -> Path:
    """The same coded 320x180 stream with a display matrix (what phones write)."""
    out = tmp / f"rot{ccw_degrees}.mp4"
    subprocess.run(
        [ffmpeg_exe(), "-loglevel", "error", "-display_rotation", str(ccw_degrees),
         "-i", str(upright), "-c", "copy", str(out)],
        check=True,
    )  # fmt: skip
    return out


def test_rotated_90_gives_portrait_ladder_upright_without_matrix(
    upright: Path, tmp_path: Path
) -> None:
    source = rotated(upright, tmp_path, 90)
    video = require_video(probe(source))
    assert (video.width, video.height) == (320, 180)
    assert video.rotation == 270  # 90 degrees counterclockwise = 270 clockwise
    assert (video.display_width, video.display_height) == (180, 320)

    out = tmp_path / "out"
    result, tracks = package(source, out)
    assert [(r.width, r.height) for r in result.renditions] == [(144, 256), (180, 320)]
    assert master_line(result, "#EXT-X-STREAM-INF")[-1].count("RESOLUTION=180x320") == 1

    src = gray(decode_video(upright)[0])
    h, w = len(src), len(src[0])
    ccw = [[src[x][w - 1 - y] for x in range(h)] for y in range(w)]
    cw = [[src[h - 1 - x][y] for x in range(h)] for y in range(w)]
    for track in video_tracks(tracks):
        # No display matrix left: a player would otherwise rotate it a second time.
        assert tkhd_matrix(out / track.init_uri) == IDENTITY
        frames = decode_video(joined(track, out))
        assert len(frames) == 60
        assert {(f.width, f.height) for f in frames} == {(track.width, track.height)}
        assert {f.rotation for f in frames} == {0}
    top = decode_video(joined(video_tracks(tracks)[-1], out))[0]
    pixels = gray(top)
    # The pixels themselves are turned the way the display matrix asked.
    assert mean_abs_diff(pixels, ccw) < 8 < mean_abs_diff(pixels, cw)


def test_rotated_180_stays_landscape_and_is_turned_upright(upright: Path, tmp_path: Path) -> None:
    source = rotated(upright, tmp_path, 180)
    video = require_video(probe(source))
    assert video.rotation == 180
    assert (video.display_width, video.display_height) == (320, 180)

    out = tmp_path / "out"
    result, tracks = package(source, out)
    assert [(r.width, r.height) for r in result.renditions] == [(256, 144), (320, 180)]
    top = video_tracks(tracks)[-1]
    assert tkhd_matrix(out / top.init_uri) == IDENTITY
    frames = decode_video(joined(top, out))
    assert {(f.width, f.height, f.rotation) for f in frames} == {(320, 180, 0)}
    src = gray(decode_video(upright)[0])
    turned = [row[::-1] for row in src[::-1]]
    assert mean_abs_diff(gray(frames[0]), turned) < 8 < mean_abs_diff(gray(frames[0]), src)


# --- Non-square pixels ----------------------------------------------------------


@pytest.mark.parametrize(
    ("coded", "sar", "display", "planned"),
    [
        # CIF with the PAL 4:3 pixel aspect.
        ((352, 288), "12/11", (384, 288), [(192, 144), (240, 180)]),
        # Anamorphic 16:9 PAL pixels (as 720x576 SAR 64:45), at a small size.
        ((360, 288), "64/45", (512, 288), [(256, 144), (320, 180)]),
    ],
)
def test_non_square_pixels_planned_on_display_aspect_output_square(
    clips: Path,
    tmp_path: Path,
    coded: tuple[int, int],
    sar: str,
    display: tuple[int, int],
    planned: list[tuple[int, int]],
) -> None:
    source = make_test_clip(
        tmp_path / "sar.mp4",
        width=coded[0],
        height=coded[1],
        duration_s=2,
        audio=False,
        video_filter=f"setsar={sar}",
    )
    video = require_video(probe(source))
    assert video.sample_aspect_ratio == Fraction(sar)
    assert (video.width, video.height) == coded
    assert (video.display_width, video.display_height) == display
    aspect = Fraction(coded[0], coded[1]) * Fraction(sar)

    out = tmp_path / "out"
    result, tracks = package(source, out)
    assert [(r.width, r.height) for r in result.renditions] == planned
    for track in video_tracks(tracks):
        path = joined(track, out)
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            frame = next(container.decode(stream))
            out_sar = Fraction(stream.sample_aspect_ratio or 1) or Fraction(1)
        width, height = frame.width, frame.height
        assert (width, height) == (track.width, track.height)
        # Width/height match the display aspect within one even-pixel rounding.
        assert abs(width - height * aspect) <= 2
        assert out_sar == 1  # square pixels


# --- Interlaced -----------------------------------------------------------------


def combing(frames: list[av.VideoFrame]) -> float:
    """Mean |2*row[y] - row[y-1] - row[y+1]|: high when the two fields of a frame
    come from different instants (combing on motion), low once deinterlaced."""
    total = 0.0
    for frame in frames:
        g = gray(frame)
        rows = zip(g[:-2], g[1:-1], g[2:], strict=True)
        total += sum(abs(2 * m - a - b) for r in rows for a, m, b in zip(*r, strict=True))
    return total / sum((f.height - 2) * f.width for f in frames)


def test_interlaced_source_detected_and_deinterlaced(tmp_path: Path) -> None:
    # Real 25i: 50p motion woven into fields (each field from its own instant),
    # coded as interlaced H.264, top field first.
    source = make_test_clip(
        tmp_path / "25i.mp4",
        width=320,
        height=180,
        fps=50,
        duration_s=2,
        audio=False,
        video_filter="interlace=scan=tff",
        extra_args=["-flags", "+ildct+ilme", "-field_order", "tt"],
    )
    source_frames = decode_video(source)
    assert source_frames[0].interlaced_frame  # the clip really is interlaced
    video = require_video(probe(source))
    assert video.interlaced
    assert video.field_order == "tff"
    assert video.fps == 25

    out = tmp_path / "out"
    result, tracks = package(source, out)
    for track in video_tracks(tracks):
        frames = decode_video(joined(track, out))
        assert len(frames) == 50  # send_frame: 25i -> 25p, not 50p
        assert not any(f.interlaced_frame for f in frames)
    assert all("FRAME-RATE=25.000" in x for x in master_line(result, "#EXT-X-STREAM-INF"))
    # Same size as the source on the top rung: the comb is gone, not just the flag.
    top = decode_video(joined(video_tracks(tracks)[-1], out))
    assert (top[0].width, top[0].height) == (320, 180)
    assert combing(top[:10]) < 0.6 * combing(source_frames[:10])


def test_progressive_source_not_flagged_interlaced(landscape_clip: Path) -> None:
    video = require_video(probe(landscape_clip))
    assert not video.interlaced
    assert video.field_order == "progressive"


# --- Audio ----------------------------------------------------------------------


def test_video_only_source_gives_video_only_package(upright: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result, tracks = package(upright, out)
    assert not result.audio
    assert all(t.kind == "video" for t in tracks)
    master = result.master_path.read_text()
    assert "#EXT-X-MEDIA" not in master
    assert "AUDIO=" not in master
    for line in master_line(result, "#EXT-X-STREAM-INF"):
        codecs = line.split('CODECS="')[1].split('"')[0]
        assert codecs.startswith("avc1.") and "," not in codecs
    assert all(r.codecs.startswith("avc1.") and "," not in r.codecs for r in result.renditions)
    mpd = result.mpd_path.read_text()
    assert 'contentType="audio"' not in mpd and "mp4a" not in mpd
    assert not list(out.glob("audio_*.m3u8"))


@pytest.mark.parametrize(("channels", "rate"), [(6, 48000), (1, 44100)])
def test_surround_and_mono_become_aac_lc_stereo_48k(
    tmp_path: Path, channels: int, rate: int
) -> None:
    source = make_test_clip(
        tmp_path / "a.mp4",
        width=160,
        height=90,
        duration_s=2,
        audio_channels=channels,
        audio_sample_rate=rate,
    )
    info = probe(source)
    assert (info.audio[0].channels, info.audio[0].sample_rate) == (channels, rate)

    out = tmp_path / "out"
    result, tracks = package(source, out)
    audio = next(t for t in tracks if t.kind == "audio")
    assert audio.codecs == "mp4a.40.2"  # AAC-LC
    assert audio.channels == 2
    assert 'CHANNELS="2"' in master_line(result, "#EXT-X-MEDIA")[0]
    with av.open(str(joined(audio, out))) as container:
        stream = container.streams.audio[0]
        assert stream.codec_context.profile == "LC"
        frames = list(container.decode(stream))
    assert frames
    assert {(f.layout.nb_channels, f.sample_rate) for f in frames} == {(2, 48000)}
    assert sum(f.samples for f in frames) / 48000 == pytest.approx(2.0, abs=0.1)


# --- Frame rates ----------------------------------------------------------------


def test_ntsc_rate_kept_and_keyframes_aligned_every_2s(tmp_path: Path) -> None:
    source = make_test_clip(tmp_path / "ntsc.mp4", duration_s=5, fps="30000/1001", audio=False)
    assert require_video(probe(source)).fps == pytest.approx(29.97)

    out = tmp_path / "out"
    result, tracks = package(source, out)
    lines = master_line(result, "#EXT-X-STREAM-INF")
    assert len(lines) == 2
    assert all("FRAME-RATE=29.970" in x for x in lines)
    per_rung = []
    for track in video_tracks(tracks):
        assert track.frame_rate == pytest.approx(30000 / 1001)
        frames = decode_video(joined(track, out))
        assert len(frames) == 150
        step = float(frames[1].time or 0) - float(frames[0].time or 0)
        assert step == pytest.approx(1001 / 30000, abs=1e-4)
        per_rung.append(keyframe_times(frames))
    # A keyframe at every 2 s of media time (the first frame at or after it).
    assert per_rung[0] == pytest.approx([0.0, 2.002, 4.004], abs=0.002)
    assert all(times == per_rung[0] for times in per_rung)


def test_60fps_kept_on_default_ladder(tmp_path: Path) -> None:
    source = make_test_clip(tmp_path / "60.mp4", duration_s=3, fps=60, audio=False)
    result, tracks = package(source, tmp_path / "out", ladder="default")
    assert [(r.width, r.height) for r in result.renditions] == [(320, 180)]
    assert all("FRAME-RATE=60.000" in x for x in master_line(result, "#EXT-X-STREAM-INF"))
    for track in video_tracks(tracks):
        frames = decode_video(joined(track, tmp_path / "out"))
        assert len(frames) == 180
        assert keyframe_times(frames) == [0.0, 2.0]


def test_above_60fps_capped_to_60(tmp_path: Path) -> None:
    source = make_test_clip(tmp_path / "120.mp4", duration_s=2, fps=120, audio=False)
    assert require_video(probe(source)).fps == 120
    out = tmp_path / "out"
    result, tracks = package(source, out)
    assert all("FRAME-RATE=60.000" in x for x in master_line(result, "#EXT-X-STREAM-INF"))
    for track in video_tracks(tracks):
        assert track.frame_rate == 60
        frames = decode_video(joined(track, out))
        assert len(frames) == 120
        step = float(frames[1].time or 0) - float(frames[0].time or 0)
        assert step == pytest.approx(1 / 60, abs=1e-4)


# --- Cinema aspect ratios -------------------------------------------------------


@pytest.mark.parametrize(("width", "height"), [(480, 200), (370, 200), (478, 200)])
def test_cinema_aspects_package_with_one_exact_aspect(
    tmp_path: Path, width: int, height: int
) -> None:
    """Scope (2.4:1) and flat (1.85:1) sources: rungs that rounded independently would
    differ in aspect, which FFmpeg's DASH muxer refuses in one adaptation set."""
    source = make_test_clip(
        tmp_path / "cinema.mp4", width=width, height=height, duration_s=2, audio=False
    )
    out = tmp_path / "out"
    result, tracks = package(source, out)
    sizes = [(r.width, r.height) for r in result.renditions]
    assert len(sizes) == 2
    w0, h0 = sizes[0]
    assert all(w * h0 == h * w0 for w, h in sizes)
    assert abs((w0 / h0) / (width / height) - 1) <= 0.005
    for track in video_tracks(tracks):
        frames = decode_video(joined(track, out))
        assert len(frames) == 60
        assert (frames[0].width, frames[0].height) == (track.width, track.height)
