from __future__ import annotations

import threading
import time
from pathlib import Path

import av
import pytest

from reelstack.media.errors import TranscodeCancelled
from reelstack.media.manifests import Track, read_mpd
from reelstack.media.package import PackageResult, transcode_and_package
from reelstack.media.testclips import make_test_clip
from tests.media.mpd_rules import check_published_mpd, ftyp_brands

pytestmark = pytest.mark.e2e


def package(source: Path, out: Path) -> tuple[PackageResult, list[Track]]:
    out.mkdir()
    seen: list[float] = []
    result = transcode_and_package(
        source=source, out_dir=out, ladder="tiny", on_progress=seen.append
    )
    assert seen and seen[-1] == 100.0
    assert seen == sorted(seen)
    check_published_mpd(result.mpd_path)
    _, tracks = read_mpd(result.mpd_path)
    return result, tracks


def decode_track(track: Track, base: Path, tmp: Path) -> list[av.VideoFrame] | list[av.AudioFrame]:
    joined = tmp / f"joined-{track.rep_id}.mp4"
    with joined.open("wb") as fh:
        for uri in (track.init_uri, *(s.uri for s in track.segments)):
            fh.write((base / uri).read_bytes())
    with av.open(str(joined)) as container:
        if track.kind == "video":
            return list(container.decode(video=0))
        return list(container.decode(audio=0))


def check_package(
    result: PackageResult, tracks: list[Track], tmp: Path, *, size: tuple[int, int]
) -> None:
    out = result.master_path.parent
    assert result.master_path.is_file() and result.mpd_path.is_file()
    assert result.poster_path is not None and result.poster_path.stat().st_size > 0
    videos = [t for t in tracks if t.kind == "video"]
    audio = next(t for t in tracks if t.kind == "audio")
    assert [(t.width, t.height) for t in videos] == [(r.width, r.height) for r in result.renditions]
    assert (videos[-1].width, videos[-1].height) == size

    # Segment boundaries align across rungs.
    reference = [s.duration_s for s in videos[0].segments]
    assert sum(reference) == pytest.approx(4.0, abs=0.05)
    for track in videos:
        assert [s.duration_s for s in track.segments] == reference

    # Every frame decodes; every segment starts on a keyframe at the same time.
    for track in videos:
        frames = decode_track(track, out, tmp)
        assert len(frames) == 120
        starts = [0.0]
        for seg in track.segments[:-1]:
            starts.append(starts[-1] + seg.duration_s)
        for start in starts:
            frame = min(frames, key=lambda f: abs(float(f.time or 0) - start))
            assert float(frame.time or 0) == pytest.approx(start, abs=0.02)
            assert frame.key_frame
        for seg in track.segments:
            with av.open(str(joined_single(track, seg.uri, out, tmp))) as c:
                first = next(c.demux(c.streams.video[0]))
                assert first.is_keyframe
    assert len(decode_track(audio, out, tmp)) > 0

    master = result.master_path.read_text()
    declared = {r.playlist: r for r in result.renditions}
    for track in videos:
        rendition = next(r for r in declared.values() if r.width == track.width)
        per_index_peak = max(
            (v.size_bytes + a.size_bytes) * 8 / v.duration_s
            for v, a in zip(track.segments, audio.segments, strict=True)
        )
        measured_peak = track.peak_bitrate + audio.peak_bitrate
        measured_avg = track.average_bitrate + audio.average_bitrate
        assert rendition.bandwidth >= per_index_peak * 0.98
        assert abs(rendition.bandwidth - measured_peak) <= 0.1 * measured_peak
        assert abs(rendition.average_bandwidth - measured_avg) <= 0.1 * measured_avg
        assert f"BANDWIDTH={rendition.bandwidth}," in master
        assert rendition.codecs.startswith("avc1.") and rendition.codecs.endswith(",mp4a.40.2")

    # Same target duration everywhere, and round(EXTINF) <= target.
    targets = set()
    for playlist in out.glob("*_*.m3u8"):
        lines = playlist.read_text().splitlines()
        target = int(next(x for x in lines if x.startswith("#EXT-X-TARGETDURATION:")).split(":")[1])
        targets.add(target)
        for line in lines:
            if line.startswith("#EXTINF:"):
                assert int(float(line[8:].rstrip(",")) + 0.5) <= target
        assert lines[-1] == "#EXT-X-ENDLIST"
    assert len(targets) == 1


def joined_single(track: Track, uri: str, base: Path, tmp: Path) -> Path:
    path = tmp / f"one-{uri}.mp4"
    path.write_bytes((base / track.init_uri).read_bytes() + (base / uri).read_bytes())
    return path


def test_landscape_package(landscape_clip: Path, tmp_path: Path) -> None:
    result, tracks = package(landscape_clip, tmp_path / "out")
    assert result.audio
    check_package(result, tracks, tmp_path, size=(320, 180))
    # Segments are CMAF: each init segment's ftyp lists the cmfc brand as compatible.
    out = result.mpd_path.parent
    assert len(tracks) == 3
    for track in tracks:
        brands = ftyp_brands(out / track.init_uri)
        assert "cmfc" in brands[1:], brands
    mpd = result.mpd_path.read_text()
    assert "urn:mpeg:dash:profile:cmaf:2019" in mpd
    assert "urn:mpeg:dash:profile:isoff-live:2011" in mpd


def test_portrait_package(portrait_clip: Path, tmp_path: Path) -> None:
    result, tracks = package(portrait_clip, tmp_path / "out")
    check_package(result, tracks, tmp_path, size=(180, 320))
    assert [(r.width, r.height) for r in result.renditions] == [(144, 256), (180, 320)]


def test_rerun_into_emptied_dir_gives_same_layout(landscape_clip: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = transcode_and_package(source=landscape_clip, out_dir=out, ladder="tiny")
    first = sorted(p.name for p in out.iterdir())
    for p in out.iterdir():
        p.unlink()
    transcode_and_package(source=landscape_clip, out_dir=out, ladder="tiny")
    assert sorted(p.name for p in out.iterdir()) == first
    check_published_mpd(result.mpd_path)
    assert result.master_path.name in first


def test_non_empty_out_dir_refused(landscape_clip: Path, tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("x")
    with pytest.raises(FileExistsError):
        transcode_and_package(source=landscape_clip, out_dir=tmp_path)
    assert (tmp_path / "keep.txt").exists()


def test_cancel_kills_ffmpeg_and_cleans_out_dir(tmp_path: Path) -> None:
    source = make_test_clip(tmp_path / "long.mp4", width=640, height=360, duration_s=30)
    out = tmp_path / "out"
    out.mkdir()
    cancel = threading.Event()

    def on_progress(percent: float) -> None:
        if percent > 0:
            cancel.set()

    started = time.monotonic()
    with pytest.raises(TranscodeCancelled):
        transcode_and_package(
            source=source, out_dir=out, ladder="default", on_progress=on_progress, cancel=cancel
        )
    assert time.monotonic() - started < 15
    assert out.is_dir()
    assert list(out.iterdir()) == []
