"""GET /v1/admin/analytics/...: one view's QoE metrics and the summary over views."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from reelstack.analytics.rollups import roll_up
from reelstack.db import session_scope, utcnow
from reelstack.runtime import Runtime
from tests.analytics.factories import event, make_title, now_ms, start_playback

ANONYMOUS = {"Authorization": ""}


def _post(client: TestClient, events: list[dict[str, Any]]) -> None:
    resp = client.post("/v1/events", json={"events": events}, headers=ANONYMOUS)
    assert resp.status_code == 202 and not resp.json()["rejected"], resp.text


def _clean_view(sid: str, view: str, t: int, startup_ms: int) -> list[dict[str, Any]]:
    """Play requested, first frame after ``startup_ms``, 10 s of play with a 1 s stall
    after a seek (seek latency) and a 2 s rebuffer, then the end."""
    s = t + startup_ms
    return [
        event(sid, view, "view_start", t - 500, player_name="shaka", cdn="edge-a"),
        event(sid, view, "play_requested", t, playhead_ms=0),
        event(sid, view, "rendition_change", s, bitrate=1_500_000, height=540),
        event(sid, view, "first_frame", s, playhead_ms=0),
        event(sid, view, "seek_start", s + 1000, playhead_ms=1000),
        event(sid, view, "seek_end", s + 1100, playhead_ms=30_000),
        event(sid, view, "rebuffer_start", s + 1100, playhead_ms=30_000),
        event(sid, view, "rebuffer_end", s + 2100, playhead_ms=30_000),
        event(sid, view, "playing", s + 2100, playhead_ms=30_000),
        event(sid, view, "rebuffer_start", s + 5000, playhead_ms=32_900),
        event(sid, view, "rebuffer_end", s + 7000, playhead_ms=32_900),
        event(sid, view, "view_end", s + 10_000, playhead_ms=35_900),
    ]


def test_one_views_metrics(client: TestClient, runtime: Runtime) -> None:
    play = start_playback(client, make_title(runtime), "fan@example.com")
    t = now_ms() - 60_000
    _post(client, _clean_view(play.session_id, "view-1", t, startup_ms=800))
    resp = client.get("/v1/admin/analytics/views/view-1")
    assert resp.status_code == 200, resp.text
    view = resp.json()
    assert view["view_id"] == "view-1" and view["session_id"] == play.session_id
    assert view["title_id"] == play.title_id and view["user_id"] == play.user_id
    assert view["country"] is None
    assert view["ended"] and view["started"] and not view["failed"]
    assert not view["exited_before_start"]
    assert view["startup_time_ms"] == 800
    assert view["watch_time_ms"] == 800 + 10_000
    assert view["rebuffer_count"] == 1 and view["rebuffer_duration_ms"] == 2000
    assert view["rebuffer_percentage"] == pytest.approx(100 * 2000 / 10_800)
    # From seek_start until playing resumes: the seek and the stall after it.
    assert view["seek_count"] == 1 and view["seek_time_ms"] == 1100
    assert view["playing_time_ms"] == 10_000 - 1100 - 2000
    assert view["average_bitrate_bps"] == 1_500_000
    assert (view["player_name"], view["cdn"], view["event_count"]) == ("shaka", "edge-a", 12)

    missing = client.get("/v1/admin/analytics/views/nope")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"


def test_admin_analytics_need_staff(client: TestClient, runtime: Runtime) -> None:
    play = start_playback(client, make_title(runtime), "curious@example.com")
    _post(client, [event(play.session_id, "v", "view_start", now_ms())])
    for path in ("/v1/admin/analytics/views/v", "/v1/admin/analytics/summary"):
        assert client.get(path, headers=play.headers).status_code == 403
        assert client.get(path, headers=ANONYMOUS).status_code == 401


def test_summary_over_views(client: TestClient, runtime: Runtime) -> None:
    title, other_title = make_title(runtime, "One"), make_title(runtime, "Two")
    a = start_playback(client, title, "a@example.com")
    b = start_playback(client, title, "b@example.com")
    c = start_playback(client, other_title, "c@example.com")
    t = now_ms() - 120_000
    _post(client, _clean_view(a.session_id, "a1", t, startup_ms=1000))
    _post(client, _clean_view(a.session_id, "a2", t, startup_ms=3000))
    # b: one view that never started (an exit before video start), one that failed.
    _post(
        client,
        [
            event(b.session_id, "b1", "play_requested", t),
            event(b.session_id, "b1", "view_end", t + 4000),
            event(b.session_id, "b2", "play_requested", t),
            event(b.session_id, "b2", "first_frame", t + 2000),
            event(b.session_id, "b2", "error", t + 6000, fatal=True, code="3016"),
        ],
    )
    _post(client, _clean_view(c.session_id, "c1", t, startup_ms=500))

    resp = client.get("/v1/admin/analytics/summary", params={"title_id": title})
    assert resp.status_code == 200, resp.text
    out = resp.json()
    assert out["title_id"] == title and "from" in out and "to" in out
    assert (out["views"], out["unique_viewers"], out["unique_households"]) == (4, 2, 2)
    # Startups of 1000, 3000 and 2000 ms (the exit has none): nearest rank, read off a
    # histogram of 2 % wide buckets.
    assert out["startup_time_p50_ms"] == pytest.approx(2000, rel=0.01)
    assert out["startup_time_p95_ms"] == pytest.approx(3000, rel=0.01)
    assert out["startup_time_mean_ms"] == 2000
    watch = (1000 + 10_000) + (3000 + 10_000) + 4000 + 6000
    assert out["watch_time_ms"] == watch
    assert out["rebuffer_percentage"] == pytest.approx(100 * 4000 / watch)
    assert out["exits_before_start_percentage"] == 25.0
    assert out["playback_failure_percentage"] == 25.0
    assert out["startup_failure_percentage"] == 0.0

    # Rolled up (all four views ended), the same numbers come from the hourly rollups.
    with session_scope(runtime.sessions) as s:
        assert roll_up(session=s, now=utcnow()) == 5
    rolled = client.get("/v1/admin/analytics/summary", params={"title_id": title}).json()
    assert {**rolled, "from": out["from"], "to": out["to"]} == out

    everything = client.get("/v1/admin/analytics/summary").json()
    assert everything["title_id"] is None and everything["views"] == 5
    assert everything["unique_viewers"] == 3

    # Views are counted by when they started (server time); a window without any.
    later, much_later = (utcnow() + timedelta(hours=h) for h in (1, 2))
    window = {"from": later.isoformat(), "to": much_later.isoformat()}
    empty = client.get("/v1/admin/analytics/summary", params=window).json()
    assert empty["views"] == 0 and empty["startup_time_p50_ms"] is None
    assert empty["rebuffer_percentage"] is None
    assert empty["exits_before_start_percentage"] is None

    # A naive time is UTC; 'from' after 'to' is refused.
    naive = (utcnow() - timedelta(hours=1)).replace(tzinfo=None).isoformat()
    assert client.get("/v1/admin/analytics/summary", params={"from": naive}).json()["views"] == 5
    resp = client.get("/v1/admin/analytics/summary", params={"from": later.isoformat()})
    assert resp.status_code == 422 and resp.json()["code"] == "validation_failed"
