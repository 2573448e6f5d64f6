"""The QoE definitions on hand-built event sequences (no database)."""

from __future__ import annotations

import math
import random
from dataclasses import replace
from typing import Any

import pytest

from reelstack.analytics.metrics import (
    VIEW_TIMEOUT_MS,
    Event,
    EventType,
    percentile,
    split_views,
    view_metrics,
    views_metrics,
)


def e(kind: str, ts: int, playhead: int | None = None, **data: Any) -> Event:
    return Event(type=EventType(kind), ts_ms=ts, playhead_ms=playhead, data=data)


def test_a_clean_view() -> None:
    m = view_metrics(
        [
            e("view_start", 0, player_name="shaka", player_version="4.9", cdn="edge-a"),
            e("play_requested", 1000),
            e("first_frame", 1800, 0),
            e("heartbeat", 11_800, 10_000),
            e("view_end", 21_800, 20_000),
        ]
    )
    assert m.started and m.ended and not m.failed and not m.exited_before_start
    assert m.startup_time_ms == 800
    # From the play request to the end: the startup counts, the time before does not.
    assert m.watch_time_ms == 20_800
    assert m.playing_time_ms == 20_000
    assert m.rebuffer_count == 0 and m.rebuffer_duration_ms == 0
    assert m.rebuffer_percentage == 0.0 and m.rebuffer_frequency_per_min == 0.0
    assert m.startup_score == pytest.approx(8 / 8.8 * 100)
    assert m.smoothness_score == pytest.approx(100.0)
    assert m.max_playhead_ms == 20_000
    assert (m.player_name, m.player_version, m.cdn) == ("shaka", "4.9", "edge-a")
    assert (m.event_count, m.first_event_ms, m.last_event_ms) == (5, 0, 21_800)


def test_startup_without_play_request_or_first_frame_event() -> None:
    # No play_requested: startup counts from view_start; "playing" marks the first frame.
    m = view_metrics([e("view_start", 100), e("playing", 600), e("view_end", 1600)])
    assert m.startup_time_ms == 500 and m.watch_time_ms == 1500 and m.started
    # The later play request wins over view_start when there is one.
    m = view_metrics(
        [e("view_start", 0), e("play_requested", 5000), e("first_frame", 5300), e("view_end", 6300)]
    )
    assert m.startup_time_ms == 300 and m.watch_time_ms == 1300


def test_paused_time_is_not_watch_time() -> None:
    m = view_metrics(
        [
            e("play_requested", 0),
            e("first_frame", 1000),
            e("pause", 5000),
            e("play_requested", 64_000),
            e("playing", 65_000),
            e("view_end", 70_000),
        ]
    )
    assert m.paused_time_ms == 59_000
    assert m.watch_time_ms == 1000 + 4000 + 1000 + 5000
    assert m.playing_time_ms == 4000 + 1000 + 5000


def test_rebuffering() -> None:
    m = view_metrics(
        [
            e("play_requested", 0),
            e("first_frame", 1000),
            e("rebuffer_start", 10_000),
            e("rebuffer_end", 13_000),
            e("rebuffer_start", 20_000),
            e("rebuffer_end", 21_000),
            e("view_end", 31_000),
        ]
    )
    assert m.rebuffer_count == 2 and m.rebuffer_duration_ms == 4000
    assert m.watch_time_ms == 31_000 and m.playing_time_ms == 26_000
    assert m.rebuffer_percentage == pytest.approx(100 * 4000 / 31_000)
    assert m.rebuffer_frequency_per_min == pytest.approx(2 / (31_000 / 60_000))
    ratio = 4000 / 31_000
    expected = (100 / math.sqrt(1 + 1) + 100 * math.exp(-10 * ratio)) / 2
    assert m.smoothness_score == pytest.approx(expected)


def test_a_stall_after_a_seek_is_seek_latency_not_rebuffering() -> None:
    m = view_metrics(
        [
            e("play_requested", 0),
            e("first_frame", 1000, 0),
            e("seek_start", 10_000, 9000),
            e("seek_end", 10_200, 60_000),
            e("rebuffer_start", 10_200, 60_000),
            e("rebuffer_end", 12_000, 60_000),
            e("playing", 12_000, 60_000),
            # A stall later on, away from any seek, is rebuffering.
            e("rebuffer_start", 15_000, 63_000),
            e("rebuffer_end", 16_000, 63_000),
            e("view_end", 20_000, 67_000),
        ]
    )
    assert m.seek_count == 1 and m.seek_time_ms == 2000
    assert m.rebuffer_count == 1 and m.rebuffer_duration_ms == 1000
    assert m.watch_time_ms == 20_000
    assert m.playing_time_ms == 9000 + 3000 + 4000


def test_a_seek_ends_when_the_playhead_moves_on_without_a_playing_event() -> None:
    m = view_metrics(
        [
            e("play_requested", 0),
            e("first_frame", 0, 0),
            e("seek_start", 5000, 5000),
            e("seek_start", 5100, 7000),  # scrubbing: still the same seek
            e("seek_end", 5500, 30_000),
            e("heartbeat", 6000, 30_000),  # not moved yet: still seeking
            e("heartbeat", 8000, 32_000),
            e("rebuffer_start", 10_000, 34_000),
            e("rebuffer_end", 11_000, 34_000),
            e("view_end", 12_000, 35_000),
        ]
    )
    assert m.seek_count == 1 and m.seek_time_ms == 3000
    assert m.rebuffer_count == 1 and m.rebuffer_duration_ms == 1000


def test_overlapping_and_unfinished_rebuffers() -> None:
    base = [e("play_requested", 0), e("first_frame", 1000)]
    # A second start while one is open is the same stall; a stray end is ignored.
    m = view_metrics(
        [
            *base,
            e("rebuffer_start", 10_000),
            e("rebuffer_start", 11_000),
            e("rebuffer_end", 12_000),
            e("rebuffer_end", 12_500),
            e("view_end", 13_000),
        ]
    )
    assert m.rebuffer_count == 1 and m.rebuffer_duration_ms == 2000
    # A stall still open at the end counts until the end.
    m = view_metrics([*base, e("rebuffer_start", 10_000), e("view_end", 15_000)])
    assert m.rebuffer_count == 1 and m.rebuffer_duration_ms == 5000 and m.ended
    # Without an end, until the last event; the view ends after an hour of silence.
    events = [*base, e("rebuffer_start", 10_000), e("heartbeat", 15_000)]
    m = view_metrics(events, now_ms=20_000)
    assert m.rebuffer_duration_ms == 5000 and not m.ended
    assert view_metrics(events, now_ms=15_000 + VIEW_TIMEOUT_MS).ended
    # A pause ends a stall.
    m = view_metrics(
        [*base, e("rebuffer_start", 10_000), e("pause", 11_000), e("view_end", 20_000)]
    )
    assert m.rebuffer_duration_ms == 1000 and m.paused_time_ms == 9000


def test_a_stall_before_the_first_frame_is_startup_time() -> None:
    m = view_metrics(
        [
            e("play_requested", 0),
            e("rebuffer_start", 100),
            e("rebuffer_end", 2000),
            e("first_frame", 2100),
            e("view_end", 3100),
        ]
    )
    assert m.rebuffer_count == 0 and m.rebuffer_duration_ms == 0
    assert m.startup_time_ms == 2100 and m.watch_time_ms == 3100


def test_exit_before_video_start() -> None:
    events = [e("view_start", 0), e("play_requested", 0)]
    m = view_metrics([*events, e("view_end", 5000)])
    assert m.exited_before_start and m.ended and not m.started and not m.failed
    assert m.startup_time_ms is None and m.watch_time_ms == 5000
    assert m.startup_score is None and m.smoothness_score is None
    # Still loading: not an exit yet, until an hour without events ends the view.
    assert not view_metrics(events).exited_before_start
    assert view_metrics(events, now_ms=VIEW_TIMEOUT_MS).exited_before_start


def test_a_fatal_error_is_a_failure_and_ends_the_view() -> None:
    m = view_metrics(
        [
            e("play_requested", 0),
            e("first_frame", 1000),
            e("error", 3000, fatal=False, code="net"),
            e("error", 5000, fatal=True, code=3016),
            e("heartbeat", 9000),
            e("view_end", 10_000),
        ]
    )
    assert m.failed and m.ended and not m.startup_failed and not m.exited_before_start
    assert m.error_count == 2 and m.error_code == "3016"
    assert m.watch_time_ms == 5000
    # Before the first frame: a startup failure, not an exit before video start.
    m = view_metrics([e("play_requested", 0), e("error", 800, fatal=True), e("view_end", 900)])
    assert m.failed and m.startup_failed and not m.exited_before_start and not m.started
    # A non-fatal error fails nothing.
    m = view_metrics([e("play_requested", 0), e("first_frame", 10), e("error", 20)])
    assert m.error_count == 1 and not m.failed


def test_an_hour_without_events_splits_a_view_in_two() -> None:
    hour = VIEW_TIMEOUT_MS
    first = [
        e("view_start", 0),
        e("play_requested", 0),
        e("first_frame", 1000, 0),
        e("heartbeat", 11_000, 10_000),
        e("pause", 21_000, 20_000),
    ]
    # The laptop slept with the page open; an hour later it plays on.
    later = [
        e("playing", 21_000 + hour, 20_000),
        e("heartbeat", 31_000 + hour, 30_000),
        e("view_end", 41_000 + hour, 40_000),
    ]
    assert split_views([*later, *first]) == [first, later]
    one, two = views_metrics([*first, *later])
    assert one.ended and one.started and one.startup_time_ms == 1000
    # The silence is neither watch time nor paused time of either view.
    assert one.watch_time_ms == 21_000 and one.paused_time_ms == 0
    assert two.ended and two.started and two.watch_time_ms == 20_000
    # The second view continues a play: it had no startup of its own.
    assert two.startup_time_ms is None and not two.exited_before_start
    # A second short of an hour: one view (the pause is paused time).
    (whole,) = views_metrics([*first, *(replace(x, ts_ms=x.ts_ms - 1000) for x in later)])
    assert whole.paused_time_ms == hour - 1000 and whole.watch_time_ms == 41_000
    # The last part ends an hour after its last event, like any view.
    assert not views_metrics(first, now_ms=21_000 + hour - 1)[0].ended
    assert views_metrics(first, now_ms=21_000 + hour)[0].ended
    assert views_metrics([]) == []


def test_events_are_taken_in_time_order_and_ties_keep_their_order() -> None:
    events = [
        e("view_start", 0),
        e("play_requested", 1000),
        e("first_frame", 1000),
        e("rebuffer_start", 5000),
        e("rebuffer_end", 6000),
        e("pause", 8000),
        e("playing", 9000),
        e("view_end", 12_000),
    ]
    expected = view_metrics(events)
    assert expected.startup_time_ms == 0 and expected.rebuffer_duration_ms == 1000
    shuffled = events[:3] + random.Random(7).sample(events[3:], k=len(events) - 3)
    assert view_metrics(shuffled) == expected
    # Nothing after view_end changes the view.
    after = view_metrics([*events, e("rebuffer_start", 13_000), e("view_end", 20_000)])
    assert after == replace(expected, event_count=expected.event_count + 2)


def test_average_bitrate_is_weighted_by_playing_time() -> None:
    m = view_metrics(
        [
            e("play_requested", 0),
            e("rendition_change", 0, bitrate=1_000_000, width=640, height=360),
            e("first_frame", 0),
            e("rendition_change", 10_000, bitrate=3_000_000),
            e("rebuffer_start", 15_000),  # not playing: does not weigh
            e("rebuffer_end", 25_000),
            e("view_end", 30_000),
        ]
    )
    assert m.average_bitrate_bps == 2_000_000 and m.rendition_changes == 2
    assert view_metrics([e("play_requested", 0), e("first_frame", 0)]).average_bitrate_bps is None


def test_percentile() -> None:
    assert percentile([], 50) is None
    assert percentile([7.0], 95) == 7.0
    assert percentile([4.0, 1.0, 3.0, 2.0], 50) == 2.5
    assert percentile([float(v) for v in range(1, 101)], 95) == pytest.approx(95.05)
