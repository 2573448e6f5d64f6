from __future__ import annotations

import pytest

from reelstack.media.ladder import (
    ASPECT_TOLERANCE,
    LADDERS,
    MIN_VIDEO_KBPS,
    Rendition,
    Rung,
    common_shape,
    plan_renditions,
)

DEFAULT = LADDERS["default"]


def sizes(renditions: list[Rendition]) -> list[tuple[int, int]]:
    return [(r.width, r.height) for r in renditions]


def test_1080p_source_gets_full_ladder_with_ladder_rates() -> None:
    plan = plan_renditions(ladder=DEFAULT, src_width=1920, src_height=1080, src_fps=30)
    assert sizes(plan) == [(r.width, r.height) for r in DEFAULT]
    assert [p.video_kbps for p in plan] == [r.video_kbps for r in DEFAULT]
    assert plan[-1].maxrate_kbps == 7800
    assert all(p.fps == 30 for p in plan)


def test_720p_source_never_upscaled() -> None:
    plan = plan_renditions(ladder=DEFAULT, src_width=1280, src_height=720, src_fps=25)
    assert sizes(plan)[-1] == (1280, 720)
    assert all(w <= 1280 and h <= 720 for w, h in sizes(plan))
    assert len(plan) == 5


def test_portrait_source_gets_portrait_ladder() -> None:
    plan = plan_renditions(ladder=DEFAULT, src_width=1080, src_height=1920, src_fps=30)
    assert sizes(plan) == [(r.height, r.width) for r in DEFAULT]


def test_small_source_gets_one_rendition_at_its_size_with_scaled_rate() -> None:
    plan = plan_renditions(ladder=DEFAULT, src_width=320, src_height=180, src_fps=30)
    assert sizes(plan) == [(320, 180)]
    smallest = DEFAULT[0]
    expected = round(smallest.video_kbps * (320 * 180) / (smallest.width * smallest.height))
    assert plan[0].video_kbps == max(MIN_VIDEO_KBPS, expected)
    assert plan[0].name == "180p"


def test_small_portrait_source() -> None:
    plan = plan_renditions(ladder=DEFAULT, src_width=180, src_height=320, src_fps=30)
    assert sizes(plan) == [(180, 320)]
    tiny = plan_renditions(ladder=LADDERS["tiny"], src_width=180, src_height=320, src_fps=30)
    assert sizes(tiny) == [(144, 256), (180, 320)]


def test_4_3_source_keeps_aspect_and_scales_rates_by_pixels() -> None:
    plan = plan_renditions(ladder=DEFAULT, src_width=1440, src_height=1080, src_fps=30)
    assert sizes(plan)[-1] == (1440, 1080)
    assert (480, 360) in sizes(plan)
    for w, h in sizes(plan):
        assert abs(w / h - 4 / 3) < 0.02
    # 1440x1080 covers 75% of the 1920x1080 box.
    assert plan[-1].video_kbps == 4500
    assert plan[-1].maxrate_kbps == round(7800 * 0.75)


@pytest.mark.parametrize(("w", "h"), [(853, 480), (1001, 563), (1919, 1079), (99, 57)])
def test_odd_sizes_give_even_dimensions_within_source(w: int, h: int) -> None:
    plan = plan_renditions(ladder=DEFAULT, src_width=w, src_height=h, src_fps=30)
    assert plan
    for rw, rh in sizes(plan):
        assert rw % 2 == 0 and rh % 2 == 0
        assert rw <= w and rh <= h


def test_1920x1088_counts_as_1080p() -> None:
    plan = plan_renditions(ladder=DEFAULT, src_width=1920, src_height=1088, src_fps=30)
    assert len(plan) == 6
    # Its own exact aspect is kept (60x34 multiples), so the top rung is the source size.
    assert (plan[-1].width, plan[-1].height) == (1920, 1088)


AWKWARD = [
    (1920, 804),  # 2.39:1 scope
    (1920, 800),  # 2.40:1 scope
    (1998, 1080),  # 1.85:1 DCI flat
    (1918, 1080),
    (3840, 1600),
    (720, 576),
    (352, 288),
    (1080, 1920),
    (1280, 536),
    (1440, 1080),
    (1000, 1000),
]


@pytest.mark.parametrize(("width", "height"), AWKWARD)
def test_all_renditions_share_one_exact_aspect(width: int, height: int) -> None:
    """DASH puts all rungs in one adaptation set, which demands one picture aspect ratio."""
    plan = plan_renditions(ladder=DEFAULT, src_width=width, src_height=height, src_fps=30)
    assert plan
    first = plan[0]
    for r in plan:
        assert r.width * first.height == r.height * first.width  # exactly the same ratio
        assert r.width % 2 == 0 and r.height % 2 == 0
        assert r.width <= width and r.height <= height
        assert abs((r.width / r.height) / (width / height) - 1) <= ASPECT_TOLERANCE


def test_common_shape() -> None:
    assert common_shape(1920, 1080) == (32, 18)
    assert common_shape(1080, 1920) == (18, 32)
    assert common_shape(1440, 1080) == (8, 6)
    assert common_shape(1920, 800) == (24, 10)
    assert common_shape(1000, 1000) == (2, 2)


def test_60fps_allowed_on_default_ladder_and_ntsc_kept() -> None:
    plan = plan_renditions(ladder=DEFAULT, src_width=1920, src_height=1080, src_fps=60)
    assert {p.fps for p in plan} == {60}
    plan = plan_renditions(ladder=DEFAULT, src_width=1920, src_height=1080, src_fps=29.97)
    assert {p.fps for p in plan} == {29.97}


def test_anamorphic_display_size_drives_ladder() -> None:
    # 720x576 SAR 64:45 is shown 1024x576: the planner gets the display size.
    plan = plan_renditions(ladder=DEFAULT, src_width=1024, src_height=576, src_fps=25)
    assert sizes(plan) == [(416, 234), (640, 360), (768, 432), (960, 540)]


def test_fps_capped_at_source_and_max() -> None:
    assert plan_renditions(ladder=DEFAULT, src_width=640, src_height=360, src_fps=24)[0].fps == 24
    plan = plan_renditions(ladder=DEFAULT, src_width=640, src_height=360, src_fps=120)
    assert plan[0].fps == 60
    # Above the cap the rate is divided evenly, never resampled to a judder.
    plan = plan_renditions(ladder=DEFAULT, src_width=640, src_height=360, src_fps=50, max_fps=30)
    assert plan[0].fps == 25
    for src, out in ((100, 50), (119.88, 59.94), (240, 60), (90, 45)):
        plan = plan_renditions(ladder=DEFAULT, src_width=640, src_height=360, src_fps=src)
        assert plan[0].fps == pytest.approx(out)


def test_rungs_collapsing_to_same_size_are_deduped() -> None:
    ladder = (
        Rung("a", 640, 360, 300, 400, 800, "main"),
        Rung("b", 640, 360, 500, 600, 1200, "main"),
    )
    plan = plan_renditions(ladder=ladder, src_width=1280, src_height=720, src_fps=30)
    assert sizes(plan) == [(640, 360)]
    assert plan[0].name == "a"


def test_invalid_source_size_rejected() -> None:
    with pytest.raises(ValueError):
        plan_renditions(ladder=DEFAULT, src_width=0, src_height=720, src_fps=30)
