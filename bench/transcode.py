"""Benchmark: `reelstack package` vs a hand-written one-decode FFmpeg vs one process per rung.

Run: .venv/bin/python bench/transcode.py [--source h264|prores|all] [--repeat 3]
(or `make bench-transcode`).

Sources (each 20 s 1080p30 testsrc2 + a 440 Hz sine in AAC 128k), both measured:
- h264: H.264 High CRF 15 preset veryfast (CABAC, B-frames, like a camera/editor
  export; an ultrafast source would be unrealistically cheap to decode);
- prores: ProRes 422 HQ, 10-bit 4:2:2, the usual mezzanine delivered to OTT services.

Each variant runs --repeat times, interleaved with the order rotated every round
(a b c, b c a, c a b, ...); the best wall time of each is reported, which filters
noise from other work on the machine.

(b) is written out by hand here (not built with reelstack.media.ffmpeg) with the
same ladder, x264 settings, DASH muxing and poster branch as (a).
(c) runs one FFmpeg per rung, sequentially, each decoding the source again (the
MediaCMS/PeerTube pattern); audio is encoded once, in the first process.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import imageio_ffmpeg

FFMPEG: str = imageio_ffmpeg.get_ffmpeg_exe()
ROOT = Path(__file__).resolve().parents[1]

# The default ladder as planned for a 1920x1080 30 fps source:
# (width, height, kbps, maxrate kbps, bufsize kbps, profile)
RUNGS = [
    (416, 234, 145, 190, 380, "main"),
    (640, 360, 365, 475, 950, "main"),
    (768, 432, 730, 950, 1900, "main"),
    (960, 540, 2000, 2600, 5200, "high"),
    (1280, 720, 3000, 3900, 7800, "high"),
    (1920, 1080, 6000, 7800, 15600, "high"),
]
X264 = [
    "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p",
    "-g", "60", "-keyint_min", "60", "-sc_threshold", "0",
    "-force_key_frames", "expr:gte(t,n_forced*2)", "-flags", "+cgop",
]  # fmt: skip
AUDIO = ["-c:a", "aac", "-profile:a", "aac_low", "-b:a", "128k", "-ac", "2", "-ar", "48000"]
HEAD = [FFMPEG, "-hide_banner", "-nostdin", "-y", "-loglevel", "error"]


def dash(out: Path, audio: bool) -> list[str]:
    sets = "id=0,streams=v id=1,streams=a" if audio else "id=0,streams=v"
    return [
        "-f", "dash", "-seg_duration", "6", "-use_template", "1", "-use_timeline", "1",
        "-adaptation_sets", sets,
        "-init_seg_name", "init-$RepresentationID$.m4s",
        "-media_seg_name", "seg-$RepresentationID$-$Number%05d$.m4s",
        "-dash_segment_type", "mp4", str(out / "manifest.mpd"),
    ]  # fmt: skip


SOURCES = {
    # A camera/editor H.264 export: CABAC, B-frames, 8-bit 4:2:0.
    "h264": (
        "source.mp4",
        ["-c:v", "libx264", "-preset", "veryfast", "-crf", "15", "-pix_fmt", "yuv420p"],
    ),
    # The usual OTT delivery mezzanine: ProRes 422 HQ, 10-bit 4:2:2.
    "prores": (
        "source.mov",
        ["-c:v", "prores_ks", "-profile:v", "3", "-pix_fmt", "yuv422p10le"],
    ),
}


def make_source(path: Path, duration_s: int, video_args: list[str]) -> None:
    lavfi = [
        "-f", "lavfi", "-i", f"testsrc2=size=1920x1080:rate=30:duration={duration_s}",
        "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={duration_s}",
    ]  # fmt: skip
    audio = ["-c:a", "aac", "-b:a", "128k", "-ac", "2"]
    subprocess.run([*HEAD, *lavfi, *video_args, *audio, str(path)], check=True)


def run_timed(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def cli_argv(src: Path, out: Path) -> list[str]:
    exe = ROOT / ".venv" / "bin" / "reelstack"
    if exe.exists():
        probe = subprocess.run([str(exe), "package", "--help"], capture_output=True, check=False)
        if probe.returncode == 0:
            return [str(exe), "package", str(src), "--out", str(out)]
    return [sys.executable, "-m", "reelstack.cli.package_cmd", str(src), "--out", str(out)]


def single_argv(src: Path, out: Path, poster_at_s: float) -> list[str]:
    n = len(RUNGS)
    graph = [f"[0:v]format=yuv420p,split={n + 1}" + "".join(f"[v{k}]" for k in range(n + 1))]
    graph += [f"[v{k}]scale={w}:{h},setsar=1[o{k}]" for k, (w, h, *_) in enumerate(RUNGS)]
    graph.append(
        f"[v{n}]trim=start={poster_at_s:.3f},setpts=PTS-STARTPTS,scale=1920:1080,setsar=1[p]"
    )
    # Same rule as reelstack: one filter thread on small machines (<= 4 CPUs).
    threads = ["-filter_complex_threads", "1"] if (os.cpu_count() or 1) <= 4 else []
    argv = [*HEAD, "-i", str(src), *threads, "-filter_complex", ";".join(graph)]
    for k in range(n):
        argv += ["-map", f"[o{k}]"]
    argv += ["-map", "0:a:0", *X264]
    for k, (_w, _h, kbps, maxrate, bufsize, profile) in enumerate(RUNGS):
        argv += [f"-b:v:{k}", f"{kbps}k", f"-maxrate:v:{k}", f"{maxrate}k"]
        argv += [f"-bufsize:v:{k}", f"{bufsize}k", f"-profile:v:{k}", profile]
    argv += [*AUDIO, *dash(out, audio=True)]
    argv += ["-map", "[p]", "-frames:v", "1", "-update", "1", "-q:v", "3", str(out / "p.jpg")]
    return argv


def per_rung_argvs(src: Path, out: Path) -> list[list[str]]:
    argvs = []
    for k, (w, h, kbps, maxrate, bufsize, profile) in enumerate(RUNGS):
        rung_out = out / f"r{k}"
        rung_out.mkdir(parents=True)
        audio = k == 0
        argv = [*HEAD, "-i", str(src), "-map", "0:v:0", "-vf", f"scale={w}:{h},setsar=1", *X264]
        argv += ["-b:v", f"{kbps}k", "-maxrate", f"{maxrate}k", "-bufsize", f"{bufsize}k"]
        argv += ["-profile:v", profile]
        if audio:
            argv += ["-map", "0:a:0", *AUDIO]
        argvs.append([*argv, *dash(rung_out, audio=audio)])
    return argvs


def bench_source(kind: str, work: Path, duration_s: int, repeat: int) -> tuple[float, float]:
    """Time (a), (b) and (c) on one source; returns ((a)/(b), (c)/(a))."""
    name, video_args = SOURCES[kind]
    src = work / name
    t0 = time.perf_counter()
    make_source(src, duration_s, video_args)
    mbps = src.stat().st_size * 8 / duration_s / 1e6
    print(
        f"\n== source {kind}: 1920x1080 30fps {duration_s}s, {mbps:.1f} Mb/s "
        f"(generated in {time.perf_counter() - t0:.1f}s)",
        flush=True,
    )
    walls: dict[str, list[float]] = {"a": [], "b": [], "c": []}
    poster_at_s = min(duration_s * 0.1, 10)

    def run_variant(sub: str) -> float:
        out = work / sub
        shutil.rmtree(out, ignore_errors=True)
        if sub == "a":
            return run_timed(cli_argv(src, out))
        out.mkdir()
        if sub == "b":
            return run_timed(single_argv(src, out, poster_at_s))
        return sum(run_timed(a) for a in per_rung_argvs(src, out))

    order = ["a", "b", "c"]
    for round_no in range(repeat):
        # Rotate who goes first, so no variant always runs right after the heaviest one.
        for sub in order[round_no % 3 :] + order[: round_no % 3]:
            walls[sub].append(run_variant(sub))
        print(
            f"round {round_no + 1}: " + "  ".join(f"({k}) {v[-1]:.2f}s" for k, v in walls.items()),
            flush=True,
        )
    wall_a, wall_b, wall_c = (min(walls[k]) for k in ("a", "b", "c"))
    print(f"(a) reelstack package        {wall_a:7.2f}s (best of {repeat})")
    print(f"(b) hand-written one decode  {wall_b:7.2f}s")
    print(f"(c) one process per rung     {wall_c:7.2f}s")
    for label, wall in (("a", wall_a), ("b", wall_b), ("c", wall_c)):
        print(f"realtime factor ({label}): {duration_s / wall:.2f}x")
    ab, ca = wall_a / wall_b, wall_c / wall_a
    print(f"(a)/(b) = {ab:.3f}  target <= 1.05  {'PASS' if ab <= 1.05 else 'MISS'}")
    print(f"(c)/(a) = {ca:.3f}  target >= 1.40  {'PASS' if ca >= 1.4 else 'MISS'}")
    for sub in ("a", "b", "c"):
        shutil.rmtree(work / sub, ignore_errors=True)
    return ab, ca


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=20)
    parser.add_argument("--keep", type=Path, default=None)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--source", choices=[*SOURCES, "all"], default="all")
    args = parser.parse_args()
    print(f"cpu cores: {os.cpu_count()}", flush=True)
    kinds = list(SOURCES) if args.source == "all" else [args.source]
    work = Path(tempfile.mkdtemp(prefix="reelstack-bench-"))
    try:
        for kind in kinds:
            bench_source(kind, work, args.duration, args.repeat)
    finally:
        if args.keep:
            shutil.copytree(work, args.keep, dirs_exist_ok=True)
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
