"""Encoding ladders kept as data, and the planner that fits one to a source."""

from __future__ import annotations

import math
from dataclasses import dataclass

# Below this the encoder spends most bits on headers; a floor keeps tiny
# fallback renditions watchable.
MIN_VIDEO_KBPS = 64
# Every rendition of a title has exactly the same picture aspect ratio (DASH puts them in
# one adaptation set, which requires it, and players switch without a jump). Exact
# multiples of one small even "shape" give that; the shape may differ from the source's
# aspect by this much (0.5 %: a circle stays a circle to the eye).
ASPECT_TOLERANCE = 0.005
# Largest short side of the shape: rung sizes step by it, so it bounds how far a rung
# can sit from its box.
MAX_SHAPE_SHORT_SIDE = 36


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


def _output_fps(src_fps: float, max_fps: float) -> float:
    if src_fps <= 0:
        return min(30.0, max_fps)
    if src_fps <= max_fps + 1e-6:
        return src_fps
    return src_fps / math.ceil(src_fps / max_fps - 1e-9)


def _floor_even(value: int) -> int:
    return max(2, value - value % 2)


def common_shape(width: int, height: int) -> tuple[int, int] | None:
    """The smallest-error even (w, h) whose multiples approximate ``width:height``.

    16:9 gives (32, 18), 4:3 (8, 6), 2.39:1 scope (86, 36); None when no shape with a
    short side of at most ``MAX_SHAPE_SHORT_SIDE`` is within ``ASPECT_TOLERANCE``.
    """
    portrait = height > width
    long_side, short_side = (height, width) if portrait else (width, height)
    aspect = long_side / short_side
    best: tuple[float, int, int] | None = None
    for short in range(1, MAX_SHAPE_SHORT_SIDE + 1):
        long = round(aspect * short)
        if long < short:
            continue
        error = abs(long / short / aspect - 1)
        step = 1 if long % 2 == 0 and short % 2 == 0 else 2
        if error > ASPECT_TOLERANCE or short * step > MAX_SHAPE_SHORT_SIDE:
            continue
        if best is None or error < best[0] - 1e-12:
            best = (error, long * step, short * step)
    if best is None:
        return None
    _, long_unit, short_unit = best
    return (short_unit, long_unit) if portrait else (long_unit, short_unit)


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
    - every size is a multiple of one even ``common_shape``, so all renditions share
      one exact aspect ratio (within 0.5 % of the source's) and never exceed the source;
    - when the fitted size covers fewer pixels than the box, all three rates are
      scaled by the pixel ratio (bits per pixel stay those of the ladder);
    - a source smaller than every rung gets one rendition at its own size, rated
      from the smallest rung by the same pixel ratio;
    - rungs that collapse to the same size are kept once (the cheaper one);
    - fps is the source's; above ``max_fps`` it is divided by the smallest whole number
      that brings it under (120 -> 60, 100 -> 50, 119.88 -> 59.94), so frames are dropped
      evenly instead of juddering.

    Returns renditions from the smallest to the largest.
    """
    if src_width <= 0 or src_height <= 0:
        raise ValueError(f"invalid source size {src_width}x{src_height}")
    fps = _output_fps(src_fps, max_fps)
    portrait = src_height > src_width
    max_w, max_h = _floor_even(src_width), _floor_even(src_height)
    rungs = sorted(ladder, key=lambda r: r.width * r.height)
    # No usable shape (an extreme aspect): a unit larger than the source makes ``top`` 0,
    # which leaves the single source-size rendition below.
    unit_w, unit_h = common_shape(src_width, src_height) or (src_width + 1, src_height + 1)
    # The largest multiple of the shape that fits in the source: no rung upscales.
    top = min(src_width // unit_w, src_height // unit_h)

    planned: list[Rendition] = []
    seen: set[int] = set()
    for rung in rungs if top else ():
        box_w, box_h = (rung.height, rung.width) if portrait else (rung.width, rung.height)
        scale = min(box_w / src_width, box_h / src_height)
        # Small tolerance: a 1920x1088 source must still count as 1080p.
        if scale > 1.0 + 1e-9:
            continue
        # The multiple whose area is nearest the fitted size.
        area = src_width * scale * src_height * scale
        k = min(top, max(1, round(math.sqrt(area / (unit_w * unit_h)))))
        if k in seen:
            continue
        seen.add(k)
        planned.append(_rendition(rung, rung.name, unit_w * k, unit_h * k, box_w * box_h, fps))

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
