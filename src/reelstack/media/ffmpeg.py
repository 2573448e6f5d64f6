"""FFmpeg argv builders, ``-progress`` parsing and a cancellable runner.

The builders are pure (argv in, argv out) so they unit-test without FFmpeg.
"""

from __future__ import annotations

import collections
import contextlib
import queue
import subprocess
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import imageio_ffmpeg

from reelstack.media.errors import ProcessingFailed, TranscodeCancelled
from reelstack.media.ladder import Rendition

MPD_NAME = "manifest.mpd"
# FFmpeg's dash muxer always writes a manifest; ours (MPD_NAME) replaces it, so
# FFmpeg's goes to this scratch name and is deleted unread once it exits.
FFMPEG_MPD_NAME = "ffmpeg-scratch.mpd"
POSTER_NAME = "poster.jpg"
# $RepresentationID$ is the output stream index: 0..N-1 video (ladder order), then
# N..N+M-1 the audio tracks (source order).
INIT_SEG_TEMPLATE = "init-$RepresentationID$.m4s"
MEDIA_SEG_TEMPLATE = "seg-$RepresentationID$-$Number%05d$.m4s"

AUDIO_KBPS = 128
AUDIO_SAMPLE_RATE = 48000
# Most audio tracks packaged from one source; further streams are ignored.
MAX_AUDIO_TRACKS = 8

# Calls to the progress callback are spaced at least this far apart.
PROGRESS_MIN_INTERVAL_S = 0.5
# Lines of stderr kept for the error message.
STDERR_TAIL_LINES = 20
# Grace period between SIGTERM and SIGKILL when cancelling.
TERMINATE_GRACE_S = 3.0
# Motion-adaptive deinterlacer, one progressive frame per frame (25i -> 25p), field
# order taken from each frame; every frame is deinterlaced once the source is
# known to be interlaced (some encoders flag fields inconsistently).
DEINTERLACE_FILTER = "bwdif=mode=send_frame:parity=auto:deint=all"


@dataclass(frozen=True, slots=True)
class AudioOutput:
    """One packaged audio track: source stream ``0:a:<source_index>`` re-encoded once.

    ``language`` (BCP-47, ``und`` when unknown) becomes the stream's ``language``
    metadata (in the segments' ``mdhd``; the MPD's ``lang`` is written by us).
    """

    source_index: int
    language: str = "und"


def ffmpeg_exe() -> str:
    """Path of the FFmpeg binary bundled with imageio-ffmpeg."""
    exe: str = imageio_ffmpeg.get_ffmpeg_exe()
    return exe


def _fmt_rate(value: float) -> str:
    return f"{value:.3f}".rstrip("0").rstrip(".")


def build_transcode_argv(
    *,
    ffmpeg: str,
    source: Path,
    out_dir: Path,
    renditions: Sequence[Rendition],
    audio: bool,
    fps: float,
    source_fps: float | None = None,
    segment_s: int = 6,
    gop_s: int = 2,
    preset: str = "veryfast",
    poster_at_s: float | None = None,
    deinterlace: bool = False,
    filter_threads: int | None = None,
    video_stream: int = 0,
    audio_streams: Sequence[AudioOutput] | None = None,
) -> list[str]:
    """Build ONE FFmpeg command that decodes ``source`` once and writes a CMAF ladder.

    Video is split into one scaled branch per rendition (lower rungs come from the
    source, never from an encoded rung); every encoder uses the same fixed,
    closed GOP of ``gop_s`` seconds with forced keyframes, so segment boundaries
    align across rungs. Audio is encoded once per track to AAC-LC stereo 48 kHz:
    ``audio_streams`` lists the tracks (source order, each in its own DASH
    adaptation set with its language); without it, ``audio`` maps ``0:a:0`` alone.
    The ``dash`` muxer writes the CMAF (``cmfc`` brand) fMP4 init/media segments
    that our HLS playlists and MPD reference as they are; its own manifest goes
    to ``FFMPEG_MPD_NAME``, scratch. With ``poster_at_s`` an extra
    branch writes ``poster.jpg`` at the top rendition's size.

    Before the split: ``deinterlace`` adds ``DEINTERLACE_FILTER`` (first, on the
    source's own chroma layout), then the frame-rate cap, then the 4:2:0
    conversion. FFmpeg's default autorotation turns a rotated source upright
    before the graph and the outputs carry no display matrix, so renditions are
    sized in display orientation. Each branch scales to the exact planned size and
    then sets square pixels (``setsar=1``): the plan already holds the display
    aspect, and ``scale`` alone would carry an anamorphic source's SAR over.
    """
    if not renditions:
        raise ValueError("at least one rendition is required")
    if segment_s % gop_s:
        raise ValueError("segment_s must be a multiple of gop_s so segments start on IDRs")
    if audio_streams is None:
        audio_streams = [AudioOutput(0)] if audio else []
    if len(audio_streams) > MAX_AUDIO_TRACKS:
        raise ValueError(f"at most {MAX_AUDIO_TRACKS} audio tracks")
    if len({a.source_index for a in audio_streams}) != len(audio_streams):
        raise ValueError("each source audio stream may be mapped once")
    n = len(renditions)
    gop_frames = max(1, round(gop_s * fps))

    # Cap the frame rate once, before the split, instead of in every branch.
    pre = DEINTERLACE_FILTER + "," if deinterlace else ""
    if source_fps is None or source_fps > fps + 0.01:
        pre += f"fps={_fmt_rate(fps)},"
    branches = n + (1 if poster_at_s is not None else 0)
    labels = "".join(f"[v{k}]" for k in range(branches))
    # Convert to 8-bit 4:2:0 once, before the split: a 10-bit or 4:2:2 mezzanine (ProRes,
    # AVC-Intra) is then converted once instead of once per rung.
    graph = [f"[0:v:{video_stream}]{pre}format=yuv420p,split={branches}{labels}"]
    top = max(renditions, key=lambda r: r.width * r.height)
    for k, rendition in enumerate(renditions):
        graph.append(f"[v{k}]scale={rendition.width}:{rendition.height},setsar=1[o{k}]")
    if poster_at_s is not None:
        graph.append(
            f"[v{n}]trim=start={poster_at_s:.3f},setpts=PTS-STARTPTS,"
            f"scale={top.width}:{top.height},setsar=1[poster]"
        )

    argv = [
        ffmpeg, "-hide_banner", "-nostdin", "-y", "-loglevel", "error",
        "-progress", "pipe:1", "-nostats",
        "-i", str(source),
    ]  # fmt: skip
    if filter_threads is not None:
        argv += ["-filter_complex_threads", str(filter_threads)]
    argv += ["-filter_complex", ";".join(graph)]
    for k in range(n):
        argv += ["-map", f"[o{k}]"]
    for track in audio_streams:
        argv += ["-map", f"0:a:{track.source_index}"]

    argv += [
        "-c:v", "libx264", "-preset", preset, "-pix_fmt", "yuv420p",
        "-g", str(gop_frames), "-keyint_min", str(gop_frames),
        "-sc_threshold", "0",
        "-force_key_frames", f"expr:gte(t,n_forced*{gop_s})",
        "-flags", "+cgop",
    ]  # fmt: skip
    for k, rendition in enumerate(renditions):
        argv += [
            f"-b:v:{k}", f"{rendition.video_kbps}k",
            f"-maxrate:v:{k}", f"{rendition.maxrate_kbps}k",
            f"-bufsize:v:{k}", f"{rendition.bufsize_kbps}k",
            f"-profile:v:{k}", rendition.profile,
        ]  # fmt: skip
        if rendition.level:
            argv += [f"-level:v:{k}", rendition.level]
    if audio_streams:
        argv += [
            "-c:a", "aac", "-profile:a", "aac_low", "-b:a", f"{AUDIO_KBPS}k",
            "-ac", "2", "-ar", str(AUDIO_SAMPLE_RATE),
        ]  # fmt: skip
    for j, track in enumerate(audio_streams):
        argv += [f"-metadata:s:a:{j}", f"language={track.language}"]

    # One adaptation set per audio track: a player switches language between sets.
    # Output stream indexes: video 0..n-1, audio n.. in the order mapped above.
    adaptation_sets = " ".join(
        ["id=0,streams=v"] + [f"id={j + 1},streams={n + j}" for j in range(len(audio_streams))]
    )
    argv += [
        "-f", "dash",
        "-seg_duration", str(segment_s),
        "-use_template", "1", "-use_timeline", "1",
        "-adaptation_sets", adaptation_sets,
        "-init_seg_name", INIT_SEG_TEMPLATE,
        "-media_seg_name", MEDIA_SEG_TEMPLATE,
        "-dash_segment_type", "mp4",
        "-format_options", "movflags=+cmaf",
        str(out_dir / FFMPEG_MPD_NAME),
    ]  # fmt: skip
    if poster_at_s is not None:
        argv += [
            "-map", "[poster]", "-frames:v", "1", "-update", "1", "-q:v", "3",
            str(out_dir / POSTER_NAME),
        ]  # fmt: skip
    return argv


class ProgressParser:
    """Turns FFmpeg ``-progress`` key=value blocks into a percentage of ``duration_s``."""

    def __init__(self, *, duration_s: float) -> None:
        self.duration_s = duration_s
        self.percent = 0.0
        self.done = False
        self._out_time_us: int | None = None

    def feed(self, line: str) -> float | None:
        """Feed one line; return the percentage when it closes a block, else None."""
        key, sep, value = line.strip().partition("=")
        if not sep:
            return None
        # out_time_ms is microseconds too (a historic FFmpeg misnomer).
        if key in ("out_time_us", "out_time_ms"):
            # "N/A" before the first frame is written.
            with contextlib.suppress(ValueError):
                self._out_time_us = int(value)
            return None
        if key != "progress":
            return None
        if value == "end":
            self.done = True
            self.percent = 100.0
        elif self._out_time_us is not None and self.duration_s > 0:
            ratio = self._out_time_us / 1e6 / self.duration_s
            # Never go backwards, never claim done before progress=end.
            self.percent = max(self.percent, min(99.9, max(0.0, ratio * 100)))
        return self.percent


def parse_progress(lines: Iterable[str], *, duration_s: float) -> list[float]:
    """Percentages (one per ``progress=`` block) from ``-progress`` output lines."""
    parser = ProgressParser(duration_s=duration_s)
    return [p for line in lines if (p := parser.feed(line)) is not None]


def _pump(stream: IO[str], sink: Callable[[str], None]) -> None:
    for line in stream:
        sink(line)


def run_ffmpeg(
    argv: Sequence[str],
    *,
    duration_s: float,
    on_progress: Callable[[float], None] | None = None,
    cancel: threading.Event | None = None,
) -> None:
    """Run FFmpeg, report progress and honour cancellation.

    ``on_progress`` receives 0-100 from this thread, at most every
    ``PROGRESS_MIN_INTERVAL_S`` (plus a final 100). When ``cancel`` is set the
    process is terminated (killed after a grace period) and ``TranscodeCancelled``
    raised. A non-zero exit raises ``ProcessingFailed`` with stderr's tail.
    """
    stderr_tail: collections.deque[str] = collections.deque(maxlen=STDERR_TAIL_LINES)
    lines: queue.Queue[str] = queue.Queue()
    try:
        proc = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            errors="replace",
        )
    except OSError as exc:
        raise ProcessingFailed(f"Cannot start FFmpeg: {exc}") from exc
    assert proc.stdout is not None and proc.stderr is not None
    # Readers run in threads so the loop below can watch `cancel` even while
    # FFmpeg is silent (probing, flushing).
    readers = [
        threading.Thread(target=_pump, args=(proc.stdout, lines.put), daemon=True),
        threading.Thread(
            target=_pump,
            args=(proc.stderr, lambda s: stderr_tail.append(s.rstrip())),
            daemon=True,
        ),
    ]
    for reader in readers:
        reader.start()

    parser = ProgressParser(duration_s=duration_s)
    last_report = 0.0
    try:
        while True:
            if cancel is not None and cancel.is_set():
                _stop(proc)
                raise TranscodeCancelled()
            try:
                line = lines.get(timeout=0.1)
            except queue.Empty:
                if proc.poll() is not None and not readers[0].is_alive() and lines.empty():
                    break
                continue
            percent = parser.feed(line)
            if percent is None or on_progress is None:
                continue
            now = time.monotonic()
            if parser.done or now - last_report >= PROGRESS_MIN_INTERVAL_S:
                last_report = now
                on_progress(percent)
    finally:
        if proc.poll() is None:
            _stop(proc)
        for reader in readers:
            reader.join(timeout=TERMINATE_GRACE_S)
        proc.stdout.close()
        proc.stderr.close()

    if proc.returncode != 0:
        tail = "\n".join(line for line in stderr_tail if line)
        raise ProcessingFailed(
            f"FFmpeg exited with status {proc.returncode}: {tail or 'no error output'}"
        )


def _stop(proc: subprocess.Popen[str]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=TERMINATE_GRACE_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
