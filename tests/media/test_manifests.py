from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest

from reelstack.media.errors import ProcessingFailed
from reelstack.media.manifests import (
    AudioRendition,
    Segment,
    Track,
    build_variants,
    parse_mpd,
    render_master,
    render_media_playlist,
    target_duration,
)

# Written by FFmpeg 9 (dash muxer) for a 13 s clip, two tracks: read back with parse_mpd.
MPD = (Path(__file__).parent / "data" / "ffmpeg.mpd").read_text(encoding="utf-8")

SIZES = {
    "seg-0-00001.m4s": 225_000,  # 300 kb/s over 6 s
    "seg-0-00002.m4s": 300_000,  # 400 kb/s: the peak
    "seg-0-00003.m4s": 25_000,  # 200 kb/s over 1 s
    "seg-1-00001.m4s": 95_232,
    "seg-1-00002.m4s": 95_915,
    "seg-1-00003.m4s": 16_853,
}


def tracks() -> list[Track]:
    return parse_mpd(MPD, size_of=SIZES.__getitem__)


def test_parse_expands_timeline_and_templates() -> None:
    video, audio = tracks()
    assert video.kind == "video" and audio.kind == "audio"
    assert video.init_uri == "init-0.m4s"
    assert [s.uri for s in video.segments] == [f"seg-0-0000{i}.m4s" for i in (1, 2, 3)]
    assert [s.duration_s for s in video.segments] == [6.0, 6.0, 1.0]
    assert (video.width, video.height, video.frame_rate) == (320, 180, Fraction(30))
    assert video.timescale == 15360
    assert [(s.start_ticks, s.duration_ticks) for s in video.segments] == [
        (0, 92160),
        (92160, 92160),
        (184320, 15360),
    ]
    assert audio.sample_rate == 48000
    assert video.codecs == "avc1.64000d"
    assert audio.segments[0].duration_s == pytest.approx(5.952)
    assert audio.channels == 2
    assert audio.language is None


def test_peak_and_average_bitrates() -> None:
    video, _ = tracks()
    assert video.peak_bitrate == 400_000
    assert video.average_bitrate == round((225_000 + 300_000 + 25_000) * 8 / 13 + 0.5)


def test_target_duration_is_max_rounded_extinf_over_all_tracks() -> None:
    assert target_duration(tracks()) == 6
    long = Track("9", "audio", "mp4a.40.2", "i.m4s", (Segment("a", 6.5, 1),))
    assert target_duration([*tracks(), long]) == 7
    short = Track("9", "audio", "mp4a.40.2", "i.m4s", (Segment("a", 6.49, 1),))
    assert target_duration([short]) == 6


def test_media_playlist() -> None:
    video, audio = tracks()
    text = render_media_playlist(audio, target_duration_s=7)
    lines = text.splitlines()
    assert lines[:7] == [
        "#EXTM3U",
        "#EXT-X-VERSION:7",
        "#EXT-X-TARGETDURATION:7",
        "#EXT-X-MEDIA-SEQUENCE:0",
        "#EXT-X-PLAYLIST-TYPE:VOD",
        "#EXT-X-INDEPENDENT-SEGMENTS",
        '#EXT-X-MAP:URI="init-1.m4s"',
    ]
    assert lines[7:9] == ["#EXTINF:5.952000,", "seg-1-00001.m4s"]
    assert lines[-1] == "#EXT-X-ENDLIST"
    assert text.endswith("\n")
    assert render_media_playlist(video, target_duration_s=6).count("#EXTINF:") == 3


def test_master_declares_video_plus_audio_rates_and_real_codecs() -> None:
    video, audio = tracks()
    variants, audio_track = build_variants(tracks())
    text = render_master(variants, audio_track)
    assert "#EXT-X-INDEPENDENT-SEGMENTS" in text
    assert (
        '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aac",NAME="Default",DEFAULT=YES,AUTOSELECT=YES,'
        'CHANNELS="2",URI="audio_1.m3u8"'
    ) in text
    assert "LANGUAGE=" not in text  # und: no LANGUAGE attribute
    inf = next(line for line in text.splitlines() if line.startswith("#EXT-X-STREAM-INF:"))
    assert f"BANDWIDTH={video.peak_bitrate + audio.peak_bitrate}," in inf
    assert f"AVERAGE-BANDWIDTH={video.average_bitrate + audio.average_bitrate}," in inf
    assert 'CODECS="avc1.64000d,mp4a.40.2"' in inf
    assert "RESOLUTION=320x180" in inf
    assert "FRAME-RATE=30.000" in inf
    assert 'AUDIO="aac"' in inf
    assert text.splitlines()[-1] == "video_180p_0.m3u8"


def test_master_without_audio() -> None:
    video, _ = tracks()
    variants, audio = build_variants([video])
    text = render_master(variants, audio)
    assert "EXT-X-MEDIA" not in text
    assert "AUDIO=" not in text
    assert f"BANDWIDTH={video.peak_bitrate}," in text
    assert 'CODECS="avc1.64000d"' in text


def test_parse_rejects_garbage() -> None:
    with pytest.raises(ProcessingFailed):
        parse_mpd("not xml", size_of=lambda _uri: 0)
    with pytest.raises(ProcessingFailed):
        parse_mpd('<MPD xmlns="urn:mpeg:dash:schema:mpd:2011"/>', size_of=lambda _uri: 0)


# --- Several audio tracks ---------------------------------------------------------

# The same MPD with a second audio AdaptationSet (Representation 2), as FFmpeg
# writes it for -adaptation_sets "id=0,streams=v id=1,streams=1 id=2,streams=2".
_SECOND = MPD[MPD.index('\t\t<AdaptationSet id="1"') : MPD.index("\t</Period>")]
MULTI_MPD = MPD.replace(
    "\t</Period>",
    _SECOND.replace('id="1"', 'id="2"').replace('lang="und"', 'lang="spa"') + "\t</Period>",
)
MULTI_SIZES = {
    **SIZES,
    # Peak 160 kb/s on segment 2 (5.995 s), average below the first track's.
    "seg-2-00001.m4s": 80_000,
    "seg-2-00002.m4s": 119_900,
    "seg-2-00003.m4s": 2_000,
}


def multi_tracks() -> list[Track]:
    return parse_mpd(MULTI_MPD, size_of=MULTI_SIZES.__getitem__)


def renditions(tracks: list[Track]) -> list[AudioRendition]:
    audio = [t for t in tracks if t.kind == "audio"]
    return [
        AudioRendition(audio[0], "en", "English", default=True, role="main"),
        AudioRendition(audio[1], "es", "Spanish", default=False, role="alternate"),
    ]


def test_master_one_media_per_track_default_only_on_first() -> None:
    tracks = multi_tracks()
    assert [t.language for t in tracks] == [None, None, "spa"]
    variants, _ = build_variants(tracks)
    text = render_master(variants, renditions(tracks))
    media = [line for line in text.splitlines() if line.startswith("#EXT-X-MEDIA:")]
    assert media == [
        '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aac",LANGUAGE="en",NAME="English",DEFAULT=YES,'
        'AUTOSELECT=YES,CHANNELS="2",URI="audio_1.m3u8"',
        '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aac",LANGUAGE="es",NAME="Spanish",DEFAULT=NO,'
        'AUTOSELECT=YES,CHANNELS="2",URI="audio_2.m3u8"',
    ]
    # Renditions come before the variants that reference their group.
    assert text.index("#EXT-X-MEDIA") < text.index("#EXT-X-STREAM-INF")


def test_variant_bandwidth_uses_largest_audio_peak_and_average() -> None:
    tracks = multi_tracks()
    video, english, spanish = tracks
    # Spanish has the larger peak, English the larger average: each figure takes its max.
    assert spanish.peak_bitrate > english.peak_bitrate
    assert english.average_bitrate > spanish.average_bitrate
    variants, first = build_variants(tracks)
    assert first is english
    (variant,) = variants
    assert variant.bandwidth == video.peak_bitrate + spanish.peak_bitrate
    assert variant.average_bandwidth == video.average_bitrate + english.average_bitrate
    assert variant.codecs == "avc1.64000d,mp4a.40.2"  # one codec listed once
    inf = render_master(variants, renditions(tracks)).splitlines()[-2]
    assert inf.startswith(f"#EXT-X-STREAM-INF:BANDWIDTH={variant.bandwidth},")
    assert f"AVERAGE-BANDWIDTH={variant.average_bandwidth}," in inf
    assert inf.endswith('AUDIO="aac"')


def test_same_target_duration_across_all_audio_playlists() -> None:
    tracks = multi_tracks()
    target = target_duration(tracks)
    for track in tracks:
        assert f"#EXT-X-TARGETDURATION:{target}\n" in render_media_playlist(
            track, target_duration_s=target
        )
