"""Finding FFmpeg processes through /proc, to prove none is left running."""

from __future__ import annotations

from pathlib import Path


def live_ffmpeg(*, parent: int | None = None, argument: str | None = None) -> list[int]:
    """Pids of FFmpeg processes that are alive (zombies excluded), narrowed by parent pid
    and/or a substring of their command line."""
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            state, ppid = (proc / "stat").read_text().rsplit(")", 1)[1].split()[:2]
            argv = (proc / "cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        if state == "Z" or "ffmpeg" not in argv:
            continue
        if parent is not None and int(ppid) != parent:
            continue
        if argument is not None and argument not in argv:
            continue
        pids.append(int(proc.name))
    return pids
