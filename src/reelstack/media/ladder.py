"""Encoding ladders kept as data, and the planner that fits one to a source."""

from __future__ import annotations

import math
from dataclasses import dataclass

# Below this the encoder spends most bits on headers; a floor keeps tiny
# fallback renditions watchable.
MIN_VIDEO_KBPS = 64


@dataclass(frozen=True, slots=True)
class Rung:
    """One step of a ladder, described for a landscape box (width >= height)."""

    name: str
    width: int
    height: int
    video_kbps: int
    maxrate_kbps: int
    bufsize_kbps: int
    profile: str
    level: str | None = None


@dataclass(frozen=True, slots=True)
class Rendition:
    """A rung fitted to one source: the exact size, frame rate and rates to encode."""

    name: str
    width: int
    height: int
    fps: float
    video_kbps: int
    maxrate_kbps: int
    bufsize_kbps: int
    profile: str
    level: str | None = None


# In the spirit of Apple's HLS Authoring Specification (H.264 table); maxrate is
# 1.3x the average (peak within the 200% the spec allows, near enough to CBR that
# declared peaks stay honest) and the VBV buffer holds 2 s at maxrate.
LADDERS: dict[str, tuple[Rung, ...]] = {
    "default": (
        Rung("234p", 416, 234, 145, 190, 380, "main"),
        Rung("360p", 640, 360, 365, 475, 950, "main"),
        Rung("432p", 768, 432, 730, 950, 1900, "main"),
        Rung("540p", 960, 540, 2000, 2600, 5200, "high"),
        Rung("720p", 1280, 720, 3000, 3900, 7800, "high"),
        Rung("1080p", 1920, 1080, 6000, 7800, 15600, "high"),
    ),
    # Two small rungs so tests exercise the split/map logic in seconds.
    "tiny": (
        Rung("144p", 256, 144, 150, 195, 390, "main"),
        Rung("180p", 320, 180, 250, 325, 650, "main"),
    ),
}


def _even(value: float) -> int:
    """Nearest even integer >= 2: x264 with yuv420p needs even dimensions."""
    return max(2, math.floor(value / 2 + 0.5) * 2)


def _floor_even(value: int) -> int:
    return max(2, value - value % 2)


def _scale_rate(kbps: int, factor: float) -> int:
    return max(MIN_VIDEO_KBPS, round(kbps * factor))


def plan_renditions(
    *,
    ladder: tuple[Rung, ...] | list[Rung],
    src_width: int,
    src_height: int,
    src_fps: float,
    max_fps: float = 60.0,
) -> list[Rendition]:
    """Fit a ladder to a source (display size, i.e. after rotation).

    Rules:
    - a rung's box is transposed for portrait sources, so vertical video gets a
      vertical ladder (1080x1920, 720x1280, ...);
    - the source is fitted inside the box keeping its aspect ratio; a rung is kept
      only if that does not upscale (so a 1440x1080 4:3 source keeps a 1440x1080 top);
    - dimensions are even and never exceed the source's;
    - when the fitted size covers fewer pixels than the box, all three rates are
      scaled by the pixel ratio (bits per pixel stay those of the ladder);
    - a source smaller than every rung gets one rendition at its own size, rated
      from the smallest rung by the same pixel ratio;
    - rungs that collapse to the same size are kept once (the cheaper one);
    - fps is the source's, capped at ``max_fps``.

    Returns renditions from the smallest to the largest.
    """
    if src_width <= 0 or src_height <= 0:
        raise ValueError(f"invalid source size {src_width}x{src_height}")
    fps = min(src_fps, max_fps) if src_fps > 0 else min(30.0, max_fps)
    portrait = src_height > src_width
    max_w, max_h = _floor_even(src_width), _floor_even(src_height)
    rungs = sorted(ladder, key=lambda r: r.width * r.height)

    planned: list[Rendition] = []
    seen: set[tuple[int, int]] = set()
    for rung in rungs:
        box_w, box_h = (rung.height, rung.width) if portrait else (rung.width, rung.height)
        scale = min(box_w / src_width, box_h / src_height)
        # Small tolerance: a 1920x1088 source must still count as 1080p.
        if scale > 1.0 + 1e-9:
            continue
        width = min(_even(src_width * scale), max_w)
        height = min(_even(src_height * scale), max_h)
        if (width, height) in seen:
            continue
        seen.add((width, height))
        planned.append(_rendition(rung, rung.name, width, height, box_w * box_h, fps))

    if not planned and rungs:
        smallest = rungs[0]
        planned.append(
            _rendition(
                smallest,
                f"{min(max_w, max_h)}p",
                max_w,
                max_h,
                smallest.width * smallest.height,
                fps,
            )
        )
    return planned


def _rendition(
    rung: Rung, name: str, width: int, height: int, box_pixels: int, fps: float
) -> Rendition:
    factor = min(1.0, (width * height) / box_pixels)
    return Rendition(
        name=name,
        width=width,
        height=height,
        fps=fps,
        video_kbps=_scale_rate(rung.video_kbps, factor),
        maxrate_kbps=_scale_rate(rung.maxrate_kbps, factor),
        bufsize_kbps=_scale_rate(rung.bufsize_kbps, factor),
        profile=rung.profile,
        level=rung.level,
    )
