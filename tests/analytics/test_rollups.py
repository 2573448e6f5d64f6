"""Hourly rollups, breakdowns, time series, concurrency, retention and the jobs that
fill them; the quality metrics they carry."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from reelstack.analytics import jobs as analytics_jobs
from reelstack.analytics.metrics import Event, EventType, view_metrics
from reelstack.analytics.models import (
    AnalyticsEvent,
    AnalyticsRollup,
    AnalyticsView,
)
from reelstack.analytics.rollups import count_concurrency, delete_expired, roll_up
from reelstack.analytics.totals import histogram_percentile, startup_bucket
from reelstack.bootstrap import job_registry
from reelstack.db import session_scope, utcnow
from reelstack.jobs.executor import LocalExecutor
from reelstack.jobs.models import Job, JobKind, JobState
from reelstack.runtime import Runtime
from tests.analytics.factories import event, make_title, now_ms, start_playback

ANONYMOUS = {"Authorization": ""}
ADMIN = "/v1/admin/analytics"


def _post(client: TestClient, events: list[dict[str, Any]], country: str | None = None) -> None:
    headers = {**ANONYMOUS, **({"X-Viewer-Country": country} if country else {})}
    resp = client.post("/v1/events", json={"events": events}, headers=headers)
    assert resp.status_code == 202 and not resp.json()["rejected"], resp.text


def _view(
    sid: str, view: str, t: int, *, cdn: str, height: int, player_w: int, end: bool = True
) -> list[dict[str, Any]]:
    """1 s startup, 10 s of play at ``height`` in a player ``player_w`` wide (16:9)."""
    width = height * 16 // 9
    out = [
        event(sid, view, "view_start", t, player_name="reelstack-web", cdn=cdn),
        event(sid, view, "play_requested", t, playhead_ms=0),
        event(
            sid,
            view,
            "rendition_change",
            t + 1000,
            bitrate=height * 5000,
            width=width,
            height=height,
            player_width=player_w,
            player_height=player_w * 9 // 16,
        ),
        event(sid, view, "first_frame", t + 1000, playhead_ms=0),
        event(sid, view, "heartbeat", t + 6000, playhead_ms=5000),
    ]
    if end:
        out.append(event(sid, view, "view_end", t + 11_000, playhead_ms=10_000))
    return out


def _rows(runtime: Runtime) -> list[AnalyticsRollup]:
    with session_scope(runtime.sessions) as s:
        rows = list(s.scalars(select(AnalyticsRollup)))
        s.expunge_all()
        return rows


def test_rollups_breakdowns_and_series(client: TestClient, runtime: Runtime) -> None:
    title = make_title(runtime)
    a = start_playback(client, title, "a@example.com")
    b = start_playback(client, title, "b@example.com")
    t = now_ms() - 120_000
    _post(client, _view(a.session_id, "a1", t, cdn="edge-a", height=720, player_w=1280), "FR")
    _post(client, _view(a.session_id, "a2", t, cdn="edge-a", height=360, player_w=1280), "FR")
    _post(client, _view(b.session_id, "b1", t, cdn="edge-b", height=720, player_w=1280), "DE")
    # Still playing: not rolled up, but in the reports from its raw events.
    _post(client, _view(b.session_id, "b2", t, cdn="edge-b", height=720, player_w=640, end=False))
    before = client.get(f"{ADMIN}/summary", params={"title_id": title}).json()
    assert before["views"] == 4 and before["unique_viewers"] == 2

    with session_scope(runtime.sessions) as s:
        assert roll_up(session=s, now=utcnow()) == 4
    rows = _rows(runtime)
    assert sum(r.views for r in rows) == 3
    assert {(r.cdn, r.country, r.height, r.views) for r in rows} == {
        ("edge-a", "FR", 720, 1),
        ("edge-a", "FR", 360, 1),
        ("edge-b", "DE", 720, 1),
    }
    # The devices' type (the one the sign-ins registered).
    assert len({r.device_type for r in rows}) == 1 and rows[0].device_type
    with session_scope(runtime.sessions) as s:
        pending = s.scalars(select(AnalyticsView.id).where(AnalyticsView.rolled_up_at.is_(None)))
        assert list(pending) == ["b2"]
        # A second run adds nothing twice.
        roll_up(session=s, now=utcnow())
    assert sum(r.views for r in _rows(runtime)) == 3
    after = client.get(f"{ADMIN}/summary", params={"title_id": title}).json()
    assert {**after, "from": None, "to": None} == {**before, "from": None, "to": None}

    # 720p in a 1280-wide player: no upscaling; 360p: 2x, 100 %; the 640-wide player
    # shows 720p downscaled. Weighted by playing time (10 s each, 5 s for the open one).
    assert after["upscale_percentage"] == pytest.approx(100 * 10 / 35)
    assert after["quality_score"] == pytest.approx(
        (3 * 100 + 100 * 2.718281828 ** (-0.33 * 1.0)) / 4, rel=1e-6
    )
    # The factory's titles last 1 s: every view played past 90 % of it.
    assert after["completion_percentage"] == 100.0
    assert after["startup_time_p50_ms"] == pytest.approx(1000, rel=0.01)

    by_cdn = client.get(f"{ADMIN}/breakdown", params={"dimension": "cdn", "title_id": title})
    assert by_cdn.status_code == 200, by_cdn.text
    # The most watched first: edge-a's two ended views over edge-b's ended and open one.
    assert [(r["value"], r["views"]) for r in by_cdn.json()["rows"]] == [
        ("edge-a", 2),
        ("edge-b", 2),
    ]
    by_height = client.get(f"{ADMIN}/breakdown", params={"dimension": "rendition"}).json()
    assert {r["value"]: r["views"] for r in by_height["rows"]} == {"720": 3, "360": 1}
    by_country = client.get(f"{ADMIN}/breakdown", params={"dimension": "country"}).json()
    assert {r["value"]: r["views"] for r in by_country["rows"]} == {"FR": 2, "DE": 1, "": 1}
    by_player = client.get(f"{ADMIN}/breakdown", params={"dimension": "player"}).json()
    assert [r["value"] for r in by_player["rows"]] == ["reelstack-web"]
    by_device = client.get(f"{ADMIN}/breakdown", params={"dimension": "device"}).json()
    assert sum(r["views"] for r in by_device["rows"]) == 4
    # Filters narrow every report.
    only = client.get(f"{ADMIN}/summary", params={"cdn": "edge-a", "rendition": 360}).json()
    assert only["views"] == 1
    assert client.get(f"{ADMIN}/summary", params={"country": "de"}).json()["views"] == 1

    hourly = client.get(f"{ADMIN}/timeseries", params={"title_id": title}).json()
    assert hourly["granularity"] == "hour"
    assert sum(p["views"] for p in hourly["points"]) == 4
    assert all(p["time"].endswith(":00:00Z") for p in hourly["points"])
    daily = client.get(f"{ADMIN}/timeseries", params={"granularity": "day"}).json()
    assert sum(p["views"] for p in daily["points"]) == 4
    assert all(p["time"].endswith("T00:00:00Z") for p in daily["points"])
    bad = client.get(f"{ADMIN}/breakdown", params={"dimension": "planet"})
    assert bad.status_code == 422


def test_concurrency_now_and_peak(client: TestClient, runtime: Runtime) -> None:
    title = make_title(runtime)
    a = start_playback(client, title, "a@example.com")
    b = start_playback(client, title, "b@example.com")
    t = now_ms()
    _post(client, [event(a.session_id, "a1", "heartbeat", t - 1000, playhead_ms=1)])
    _post(client, [event(b.session_id, "b1", "heartbeat", t - 1000, playhead_ms=1)])
    _post(client, [event(b.session_id, "b2", "heartbeat", t - 1000, playhead_ms=1)])
    with session_scope(runtime.sessions) as s:
        # b2's events were received a minute ago: not watching now.
        s.execute(
            update(AnalyticsEvent)
            .where(AnalyticsEvent.view_id == "b2")
            .values(received_at=utcnow() - timedelta(minutes=1))
        )
        count_concurrency(session=s, now=utcnow())
    out = client.get(f"{ADMIN}/concurrency").json()
    assert (out["now"], out["window_s"]) == (2, 30)
    assert out["peak"] == 3 and out["peak_at"] is not None
    assert client.get(f"{ADMIN}/concurrency", params={"title_id": "x"}).json()["peak"] == 0


def test_retention_deletes_raw_events_not_rollups(client: TestClient, runtime: Runtime) -> None:
    title = make_title(runtime)
    a = start_playback(client, title, "a@example.com")
    t = now_ms() - 60_000
    _post(client, _view(a.session_id, "old", t, cdn="x", height=720, player_w=1280))
    _post(client, _view(a.session_id, "new", t, cdn="x", height=720, player_w=1280))
    _post(client, _view(a.session_id, "open", t, cdn="x", height=720, player_w=1280, end=False))
    with session_scope(runtime.sessions) as s:
        roll_up(session=s, now=utcnow())
        s.execute(
            update(AnalyticsView)
            .where(AnalyticsView.id.in_(["old", "open"]))
            .values(started_at=utcnow() - timedelta(days=91))
        )
    with session_scope(runtime.sessions) as s:
        deleted = delete_expired(session=s, now=utcnow(), retention=timedelta(days=90))
    # Only rolled-up views go ("open" has not ended: its events are not in a rollup yet).
    assert deleted == 1
    with session_scope(runtime.sessions) as s:
        assert sorted(s.scalars(select(AnalyticsView.id))) == ["new", "open"]
        assert s.scalar(select(func.count()).select_from(AnalyticsEvent)) == 11
        assert s.scalar(select(func.sum(AnalyticsRollup.views))) == 2


def test_the_periodic_jobs_run_and_queue_their_next_run(
    client: TestClient, runtime: Runtime
) -> None:
    title = make_title(runtime)
    a = start_playback(client, title, "a@example.com")
    _post(client, _view(a.session_id, "v", now_ms() - 60_000, cdn="x", height=720, player_w=1))
    with session_scope(runtime.sessions) as s:
        analytics_jobs.ensure_scheduled(session=s)
        analytics_jobs.ensure_scheduled(session=s)  # one chain per kind
    with session_scope(runtime.sessions) as s:
        first = list(s.scalars(select(Job.id).where(Job.subject_type == "analytics")))
    assert len(first) == 2
    executor = LocalExecutor(runtime, job_registry())
    executor.start(recover=False)
    try:
        assert executor.wait_for(first, 30)
    finally:
        executor.stop()
    with session_scope(runtime.sessions) as s:
        jobs = list(s.scalars(select(Job).where(Job.subject_type == "analytics")))
        states = sorted((j.kind.value, j.state.value) for j in jobs)
        assert states == [
            (JobKind.ANALYTICS_RETENTION.value, JobState.QUEUED.value),
            (JobKind.ANALYTICS_RETENTION.value, JobState.SUCCEEDED.value),
            (JobKind.ANALYTICS_ROLLUP.value, JobState.QUEUED.value),
            (JobKind.ANALYTICS_ROLLUP.value, JobState.SUCCEEDED.value),
        ]
        assert min(j.not_before for j in jobs if j.state is JobState.QUEUED) > utcnow()
        assert s.scalar(select(func.sum(AnalyticsRollup.views))) == 1


def _e(kind: str, ts: int, playhead: int | None = None, **data: Any) -> Event:
    return Event(type=EventType(kind), ts_ms=ts, playhead_ms=playhead, data=data)


def test_upscaling_quality_score_and_main_rendition() -> None:
    m = view_metrics(
        [
            _e("play_requested", 0),
            _e(
                "rendition_change",
                0,
                bitrate=1,
                width=640,
                height=360,
                player_width=1280,
                player_height=720,
            ),
            _e("first_frame", 0),
            _e("rendition_change", 3000, bitrate=2, width=1280, height=720),
            _e("heartbeat", 4000, player_width=1280, player_height=720),
            _e("view_end", 4000),
        ]
    )
    # 3 s at 360p shown 2x (100 % upscale), 1 s at 720p (none).
    assert m.main_height == 360
    assert m.average_upscale == pytest.approx(0.75) and m.max_upscale == 1.0
    assert m.quality_score == pytest.approx(100 * 2.718281828 ** (-0.33 * (0.15 + 0.85 * 0.75)))
    # Without the player's size: no upscaling known, no quality score.
    m = view_metrics([_e("play_requested", 0), _e("first_frame", 0), _e("view_end", 10)])
    assert (m.average_upscale, m.quality_score, m.main_height) == (None, None, None)


def test_startup_histogram_percentiles() -> None:
    values = list(range(100, 10_100, 100))
    histogram: dict[int, int] = {}
    for v in values:
        histogram[startup_bucket(v)] = histogram.get(startup_bucket(v), 0) + 1
    assert histogram_percentile(histogram, 50) == pytest.approx(5000, rel=0.01)
    assert histogram_percentile(histogram, 95) == pytest.approx(9500, rel=0.01)
    assert histogram_percentile({}, 50) is None
    assert startup_bucket(0) == 0 and startup_bucket(-5) == 0
