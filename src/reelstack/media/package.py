"""Transcode a source into an HLS + DASH CMAF ladder with one FFmpeg process."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from uuid import UUID

from reelstack.media.encrypt import (
    CENC_INIT_TEMPLATE,
    CENC_MEDIA_TEMPLATE,
    ContentKey,
    EncryptionSpec,
    encrypt_hls_track,
    hls_keys_for,
    new_key,
    write_cenc_copy,
)
from reelstack.media.errors import InvalidSource, ProcessingFailed
from reelstack.media.ffmpeg import (
    FFMPEG_MPD_NAME,
    INIT_SEG_TEMPLATE,
    MAX_AUDIO_TRACKS,
    MEDIA_SEG_TEMPLATE,
    MPD_NAME,
    POSTER_NAME,
    AudioOutput,
    build_transcode_argv,
    ffmpeg_exe,
    run_ffmpeg,
)
from reelstack.media.ladder import LADDERS, plan_renditions
from reelstack.media.languages import is_commentary, to_bcp47, track_names
from reelstack.media.manifests import (
    AudioRendition,
    AudioRole,
    SegmentKey,
    Track,
    build_variants,
    media_playlist_name,
    render_master,
    render_media_playlist,
    target_duration,
)
from reelstack.media.mpd import ContentProtection, cenc_protection, clearkey_protection, render_mpd
from reelstack.media.mpd_vod import vod_presentation
from reelstack.media.probe import AudioInfo, ProbeResult, probe, require_video
from reelstack.media.segments import MeasuredTrack, measure_track

MASTER_NAME = "master.m3u8"
SEGMENT_S = 6
GOP_S = 2
# Share of the progress bar given to FFmpeg; the rest is manifest writing.
_ENCODE_SHARE = 99.0


@dataclass(frozen=True, slots=True)
class RenditionResult:
    """One video variant as declared in the master playlist (audio included in rates)."""

    name: str
    width: int
    height: int
    bandwidth: int
    average_bandwidth: int
    codecs: str
    playlist: str


@dataclass(frozen=True, slots=True)
class AudioTrackResult:
    """One audio rendition (source order) as declared in the master playlist and MPD.

    ``language`` is BCP-47 (``und`` when unknown); ``name`` is unique per title;
    ``channels`` is what was encoded (2); ``bandwidth``/``average_bandwidth`` are
    measured; ``role`` is the DASH Role (``main`` on the first track, else
    ``alternate`` or ``commentary``); only the first is ``default``.
    """

    language: str
    name: str
    channels: int
    bandwidth: int
    average_bandwidth: int
    codecs: str
    playlist: str
    role: str
    default: bool
    source_index: int


@dataclass(frozen=True, slots=True)
class PackageResult:
    """Paths and measured figures of a packaged title.

    ``audio`` is True when at least one audio track was packaged;
    ``audio_tracks`` lists them in source order. ``keys`` are the content keys of an
    encrypted title (empty when clear): the caller must keep them, nothing else does.
    """

    master_path: Path
    mpd_path: Path
    poster_path: Path | None
    renditions: list[RenditionResult]
    duration_s: float
    audio: bool
    audio_tracks: list[AudioTrackResult] = field(default_factory=list)
    keys: tuple[ContentKey, ...] = ()


@dataclass(frozen=True, slots=True)
class AudioPlan:
    """One source audio stream chosen for packaging, with its declared identity."""

    source_index: int
    language: str
    name: str
    role: AudioRole


def plan_audio(audio: list[AudioInfo], *, limit: int = MAX_AUDIO_TRACKS) -> list[AudioPlan]:
    """Choose the source audio streams to package and name them.

    Decodable streams only, in source order, at most ``limit``. Language is the
    stream's tag as BCP-47; name its title, else the language's name, made unique;
    role ``main`` for the first, ``commentary`` when the title or disposition says
    so, else ``alternate``.
    """
    chosen = [(k, a) for k, a in enumerate(audio) if a.decodable][:limit]
    languages = [to_bcp47(a.language) for _, a in chosen]
    names = track_names(languages, [a.title for _, a in chosen])
    plans = []
    for j, ((k, info), lang, name) in enumerate(zip(chosen, languages, names, strict=True)):
        role: AudioRole
        if info.commentary or is_commentary(info.title):
            role = "commentary"
        else:
            role = "main" if j == 0 else "alternate"
        plans.append(AudioPlan(source_index=k, language=lang, name=name, role=role))
    return plans


def transcode_and_package(
    *,
    source: Path,
    out_dir: Path,
    ladder: str = "default",
    on_progress: Callable[[float], None] | None = None,
    cancel: threading.Event | None = None,
    probe_result: ProbeResult | None = None,
    preset: str = "veryfast",
    encryption: EncryptionSpec | None = None,
) -> PackageResult:
    """Probe, plan the ladder, run ONE FFmpeg (segments only), then measure the
    segments and write the HLS playlists and our MPD from those measurements.

    ``out_dir`` must be missing or empty: this function owns it. On any failure
    or cancellation everything written there is removed (a directory this call
    created is removed too), so a retry starts clean.
    Raises ``InvalidSource`` for unusable sources, ``ProcessingFailed`` when
    FFmpeg or packaging fails and ``TranscodeCancelled`` when ``cancel`` is set.

    With ``encryption`` no clear media segment is left: HLS gets AES-128 segments and
    DASH a CENC copy (``media.encrypt``); the keys come back in the result.
    """
    if ladder not in LADDERS:
        raise ValueError(f"unknown ladder {ladder!r}; known: {sorted(LADDERS)}")
    created = not out_dir.exists()
    if not created and any(out_dir.iterdir()):
        raise FileExistsError(f"output directory is not empty: {out_dir}")

    info = probe_result if probe_result is not None else probe(source)
    video = require_video(info)
    renditions = plan_renditions(
        ladder=LADDERS[ladder],
        src_width=video.display_width,
        src_height=video.display_height,
        src_fps=video.fps,
    )
    if not renditions:
        raise InvalidSource("No rendition can be planned for this source.")
    fps = renditions[0].fps
    # ~10% in avoids black openings, capped so long titles stay cheap to seek.
    poster_at_s = min(max(info.duration_s * 0.1, 0.0), 10.0)
    if poster_at_s >= info.duration_s:
        poster_at_s = 0.0

    audio_plan = plan_audio(info.audio)

    out_dir.mkdir(parents=True, exist_ok=True)
    try:
        argv = build_transcode_argv(
            ffmpeg=ffmpeg_exe(),
            source=source,
            out_dir=out_dir,
            renditions=renditions,
            audio=bool(audio_plan),
            audio_streams=[AudioOutput(a.source_index, a.language) for a in audio_plan],
            fps=fps,
            source_fps=video.fps,
            segment_s=SEGMENT_S,
            gop_s=GOP_S,
            preset=preset,
            poster_at_s=poster_at_s,
            deinterlace=video.interlaced,
            filter_threads=filter_threads_for(os.cpu_count() or 1),
            video_stream=video.stream_index,
        )
        scaled = None if on_progress is None else _scaled(on_progress)
        run_ffmpeg(argv, duration_s=info.duration_s, on_progress=scaled, cancel=cancel)
        (out_dir / FFMPEG_MPD_NAME).unlink(missing_ok=True)
        result = _write_manifests(
            out_dir, [r.name for r in renditions], info.duration_s, audio_plan, encryption
        )
    except BaseException:
        # BaseException on purpose: a KeyboardInterrupt must not leave half a ladder.
        _clean(out_dir, remove_dir=created)
        raise
    if on_progress is not None:
        on_progress(100.0)
    return result


def filter_threads_for(cpus: int) -> int | None:
    """Filter-graph threads: 1 on small machines, FFmpeg's default (one per CPU) above.

    On 2 cores, slice-threaded scaling competes with six x264 encoders: one filter thread
    measured ~4 % faster overall (bench/transcode.py). Larger machines were not measured,
    so they keep FFmpeg's default.
    """
    return 1 if cpus <= 4 else None


def _scaled(on_progress: Callable[[float], None]) -> Callable[[float], None]:
    def report(percent: float) -> None:
        on_progress(percent * _ENCODE_SHARE / 100.0)

    return report


def _measure(
    out_dir: Path,
    count: int,
    expected: list[str],
    *,
    media_template: str = MEDIA_SEG_TEMPLATE,
    init_template: str = INIT_SEG_TEMPLATE,
) -> list[MeasuredTrack]:
    # Representation ids are the output stream indexes (see ffmpeg.MEDIA_SEG_TEMPLATE).
    measured = [
        measure_track(out_dir, str(k), media_template=media_template, init_template=init_template)
        for k in range(count)
    ]
    kinds = [m.track.kind for m in measured]
    if kinds != expected:
        raise ProcessingFailed(f"FFmpeg wrote tracks {kinds}, expected {expected}.")
    return measured


def _audio_renditions(tracks: list[Track], audio_plan: list[AudioPlan]) -> list[AudioRendition]:
    # Audio representations follow the video ones in output-stream (= plan) order.
    audio_tracks = tracks[len(tracks) - len(audio_plan) :]
    return [
        AudioRendition(track, plan.language, plan.name, default=j == 0, role=plan.role)
        for j, (track, plan) in enumerate(zip(audio_tracks, audio_plan, strict=True))
    ]


def _write_manifests(
    out_dir: Path,
    names: list[str],
    duration_s: float,
    audio_plan: list[AudioPlan],
    encryption: EncryptionSpec | None = None,
) -> PackageResult:
    expected = ["video"] * len(names) + ["audio"] * len(audio_plan)
    measured = _measure(out_dir, len(expected), expected)
    tracks = [m.track for m in measured]
    dash_measured = measured
    keys: tuple[ContentKey, ...] = ()
    segment_keys: list[list[SegmentKey] | None] = [None] * len(tracks)
    protection: tuple[ContentProtection, ...] = ()
    dash_templates = {"media_template": MEDIA_SEG_TEMPLATE, "init_template": INIT_SEG_TEMPLATE}
    if encryption is not None:
        # The CENC copy first: it is made from the clear segments HLS then encrypts.
        cenc = new_key("cenc")
        write_cenc_copy(
            ffmpeg=ffmpeg_exe(), out_dir=out_dir, tracks=tracks, segment_s=SEGMENT_S, key=cenc
        )
        dash_templates = {
            "media_template": CENC_MEDIA_TEMPLATE,
            "init_template": CENC_INIT_TEMPLATE,
        }
        dash_measured = _measure(out_dir, len(expected), expected, **dash_templates)
        hls_keys = hls_keys_for(tracks, encryption)
        sealed = [encrypt_hls_track(out_dir, t, hls_keys, encryption) for t in tracks]
        tracks = [track for track, _ in sealed]
        segment_keys = [declared for _, declared in sealed]
        keys = (*hls_keys, cenc)
        kid = UUID(bytes=cenc.kid)
        protection = (cenc_protection(kid), clearkey_protection(None))
    target = target_duration(tracks)
    for track, declared in zip(tracks, segment_keys, strict=True):
        (out_dir / media_playlist_name(track)).write_text(
            render_media_playlist(track, target_duration_s=target, keys=declared),
            encoding="utf-8",
        )
    variants, _ = build_variants(tracks)
    audio = _audio_renditions(tracks, audio_plan)
    master_path = out_dir / MASTER_NAME
    master_path.write_text(render_master(variants, audio), encoding="utf-8")
    dash_tracks = [m.track for m in dash_measured]
    presentation = vod_presentation(
        dash_tracks,
        _audio_renditions(dash_tracks, audio_plan),
        cmaf=all(m.cmaf for m in dash_measured),
        protection=protection,
        **dash_templates,
    )
    mpd_path = out_dir / MPD_NAME
    mpd_path.write_text(render_mpd(presentation), encoding="utf-8")
    poster = out_dir / POSTER_NAME
    # Representation ids are the ladder indexes (see ffmpeg.MEDIA_SEG_TEMPLATE).
    by_id = dict(enumerate(names))
    return PackageResult(
        master_path=master_path,
        mpd_path=mpd_path,
        poster_path=poster if poster.is_file() else None,
        renditions=[
            RenditionResult(
                name=by_id.get(int(v.track.rep_id), v.track.rep_id),
                width=v.track.width or 0,
                height=v.track.height or 0,
                bandwidth=v.bandwidth,
                average_bandwidth=v.average_bandwidth,
                codecs=v.codecs,
                playlist=v.uri,
            )
            for v in variants
        ],
        duration_s=duration_s,
        audio=bool(audio),
        audio_tracks=[
            AudioTrackResult(
                language=a.language,
                name=a.name,
                channels=a.track.channels or 2,
                bandwidth=a.track.peak_bitrate,
                average_bandwidth=a.track.average_bitrate,
                codecs=a.track.codecs,
                playlist=a.uri,
                role=a.role,
                default=a.default,
                source_index=plan.source_index,
            )
            for a, plan in zip(audio, audio_plan, strict=True)
        ],
        keys=keys,
    )


def _clean(out_dir: Path, *, remove_dir: bool) -> None:
    if remove_dir:
        shutil.rmtree(out_dir, ignore_errors=True)
        return
    for child in out_dir.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)
