from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from reelstack.media.ffmpeg import (
    DEINTERLACE_FILTER,
    MAX_AUDIO_TRACKS,
    AudioOutput,
    ProgressParser,
    build_transcode_argv,
    parse_progress,
)
from reelstack.media.ladder import LADDERS, plan_renditions

PLAN = plan_renditions(ladder=LADDERS["default"], src_width=1920, src_height=1080, src_fps=30)


def argv_for(**overrides: object) -> list[str]:
    kwargs: dict[str, Any] = {
        "ffmpeg": "ffmpeg",
        "source": Path("/in/src.mp4"),
        "out_dir": Path("/out"),
        "renditions": PLAN,
        "audio": True,
        "fps": 30.0,
        "source_fps": 30.0,
    }
    kwargs.update(overrides)
    return build_transcode_argv(**kwargs)


def value(argv: list[str], flag: str) -> str:
    return argv[argv.index(flag) + 1]


def all_values(argv: list[str], flag: str) -> list[str]:
    return [argv[i + 1] for i, a in enumerate(argv) if a == flag]


def test_one_input_split_into_one_branch_per_rung() -> None:
    argv = argv_for()
    assert all_values(argv, "-i") == ["/in/src.mp4"]
    graph = value(argv, "-filter_complex")
    assert graph.startswith("[0:v:0]format=yuv420p,split=6[v0][v1][v2][v3][v4][v5];")
    for k, r in enumerate(PLAN):
        assert f"[v{k}]scale={r.width}:{r.height},setsar=1[o{k}]" in graph
    assert "fps=" not in graph
    assert "bwdif" not in graph


def test_maps_and_per_output_rates() -> None:
    argv = argv_for()
    assert all_values(argv, "-map") == [f"[o{k}]" for k in range(6)] + ["0:a:0"]
    for k, r in enumerate(PLAN):
        assert value(argv, f"-b:v:{k}") == f"{r.video_kbps}k"
        assert value(argv, f"-maxrate:v:{k}") == f"{r.maxrate_kbps}k"
        assert value(argv, f"-bufsize:v:{k}") == f"{r.bufsize_kbps}k"
        assert value(argv, f"-profile:v:{k}") == r.profile


def test_fixed_closed_gop_aligned_keyframes() -> None:
    argv = argv_for()
    assert value(argv, "-g") == "60"
    assert value(argv, "-keyint_min") == "60"
    assert value(argv, "-sc_threshold") == "0"
    assert value(argv, "-force_key_frames") == "expr:gte(t,n_forced*2)"
    assert value(argv, "-flags") == "+cgop"
    assert value(argv, "-c:v") == "libx264"
    assert value(argv, "-pix_fmt") == "yuv420p"
    assert value(argv_for(fps=25.0, source_fps=25.0), "-g") == "50"


def test_audio_encoded_once_aac_stereo() -> None:
    argv = argv_for()
    assert argv.count("0:a:0") == 1
    assert value(argv, "-c:a") == "aac"
    assert value(argv, "-b:a") == "128k"
    assert value(argv, "-ac") == "2"
    assert value(argv, "-ar") == "48000"
    # The one audio stream is output stream 6 (after the six rungs), in its own set.
    assert value(argv, "-adaptation_sets") == "id=0,streams=v id=1,streams=6"
    assert all_values(argv, "-metadata:s:a:0") == ["language=und"]


def test_every_audio_stream_mapped_once_with_language_and_own_adaptation_set() -> None:
    tracks = [AudioOutput(0, "en"), AudioOutput(2, "es"), AudioOutput(3, "und")]
    argv = argv_for(audio_streams=tracks)
    maps = all_values(argv, "-map")
    # Video rungs first, then each chosen source audio stream exactly once, in order.
    assert maps == [f"[o{k}]" for k in range(6)] + ["0:a:0", "0:a:2", "0:a:3"]
    assert "0:a:1" not in argv
    assert argv.count("-c:a") == 1  # one AAC-LC stereo 48k setting for every track
    assert value(argv, "-ac") == "2" and value(argv, "-ar") == "48000"
    assert value(argv, "-b:a") == "128k"
    # Metadata index counts OUTPUT audio streams (0, 1, 2), not source indexes.
    assert all_values(argv, "-metadata:s:a:0") == ["language=en"]
    assert all_values(argv, "-metadata:s:a:1") == ["language=es"]
    assert all_values(argv, "-metadata:s:a:2") == ["language=und"]
    assert (
        value(argv, "-adaptation_sets")
        == "id=0,streams=v id=1,streams=6 id=2,streams=7 id=3,streams=8"
    )
    # Audio never goes through the video graph: one decode of the source.
    assert all_values(argv, "-i") == ["/in/src.mp4"]
    assert "[0:a" not in value(argv, "-filter_complex")


def test_audio_streams_override_flag_and_are_capped() -> None:
    assert "0:a:0" not in argv_for(audio=True, audio_streams=[])
    with pytest.raises(ValueError):
        argv_for(audio_streams=[AudioOutput(k) for k in range(MAX_AUDIO_TRACKS + 1)])
    with pytest.raises(ValueError):
        argv_for(audio_streams=[AudioOutput(1), AudioOutput(1)])


def test_no_audio_when_source_has_none() -> None:
    argv = argv_for(audio=False)
    assert "0:a:0" not in argv
    assert "-c:a" not in argv
    assert value(argv, "-adaptation_sets") == "id=0,streams=v"


def test_dash_cmaf_output_and_progress() -> None:
    argv = argv_for()
    assert value(argv, "-f") == "dash"
    assert value(argv, "-seg_duration") == "6"
    assert value(argv, "-progress") == "pipe:1"
    assert "-nostats" in argv
    # The segments carry the CMAF brand; FFmpeg's own MPD is scratch, never published.
    assert value(argv, "-format_options") == "movflags=+cmaf"
    assert argv[-1] == "/out/ffmpeg-scratch.mpd"
    assert "/out/manifest.mpd" not in argv


def test_fps_cap_applied_once_before_split() -> None:
    graph = value(argv_for(fps=60.0, source_fps=120.0), "-filter_complex")
    assert graph.startswith("[0:v:0]fps=60,format=yuv420p,split=6")


def test_every_branch_outputs_square_pixels() -> None:
    # A source is planned on its display aspect, so a 16:9 ladder is square-pixel
    # on every rung (scale alone would carry an anamorphic source's SAR over).
    assert all(f",setsar=1[o{k}]" in value(argv_for(), "-filter_complex") for k in range(6))


def test_deinterlace_once_before_split() -> None:
    graph = value(argv_for(deinterlace=True), "-filter_complex")
    assert graph.startswith(
        "[0:v:0]bwdif=mode=send_frame:parity=auto:deint=all,format=yuv420p,split=6["
    )
    assert graph.count("bwdif") == 1
    assert DEINTERLACE_FILTER in graph
    # Deinterlace first (on the source's fields), then the rate cap, then 4:2:0.
    capped = value(argv_for(deinterlace=True, fps=60.0, source_fps=120.0), "-filter_complex")
    assert capped.startswith(f"[0:v:0]{DEINTERLACE_FILTER},fps=60,format=yuv420p,split=6")


def test_29_97_source_keeps_rate_and_2s_gop() -> None:
    argv = argv_for(fps=29.97, source_fps=29.97)
    assert "fps=" not in value(argv, "-filter_complex")
    assert value(argv, "-g") == value(argv, "-keyint_min") == "60"
    assert value(argv, "-force_key_frames") == "expr:gte(t,n_forced*2)"


def test_poster_branch() -> None:
    argv = argv_for(poster_at_s=2.0)
    graph = value(argv, "-filter_complex")
    assert "split=7" in graph
    assert "[v6]trim=start=2.000,setpts=PTS-STARTPTS,scale=1920:1080,setsar=1[poster]" in graph
    assert argv[-7:-1] == ["-frames:v", "1", "-update", "1", "-q:v", "3"]
    assert argv[-1] == "/out/poster.jpg"
    assert all_values(argv, "-map")[-1] == "[poster]"


def test_segment_must_be_multiple_of_gop() -> None:
    with pytest.raises(ValueError):
        argv_for(segment_s=5, gop_s=2)
    with pytest.raises(ValueError):
        argv_for(renditions=[])


PROGRESS = """frame=10
fps=0.0
out_time_us=N/A
progress=continue
frame=60
out_time_us=2000000
out_time=00:00:02.000000
progress=continue
out_time_us=1000000
progress=continue
out_time_us=4000000
progress=end
""".splitlines()


def test_parse_progress_blocks() -> None:
    assert parse_progress(PROGRESS, duration_s=4.0) == [0.0, 50.0, 50.0, 100.0]


def test_progress_parser_never_reaches_100_before_end() -> None:
    parser = ProgressParser(duration_s=1.0)
    parser.feed("out_time_us=5000000")
    assert parser.feed("progress=continue") == pytest.approx(99.9)
    assert not parser.done
    assert parser.feed("garbage line") is None
    assert parser.feed("progress=end") == 100.0
    assert parser.done


def test_filter_threads_only_when_asked() -> None:
    assert "-filter_complex_threads" not in argv_for()
    argv = argv_for(filter_threads=1)
    assert value(argv, "-filter_complex_threads") == "1"
    # A global option: it must come before the graph it applies to.
    assert argv.index("-filter_complex_threads") < argv.index("-filter_complex")


def test_filter_threads_rule() -> None:
    from reelstack.media.package import filter_threads_for

    assert [filter_threads_for(n) for n in (1, 2, 4, 8, 16)] == [1, 1, 1, None, None]


def test_main_video_stream_is_the_one_filtered() -> None:
    graph = value(argv_for(video_stream=1), "-filter_complex")
    assert graph.startswith("[0:v:1]format=yuv420p,split=")
