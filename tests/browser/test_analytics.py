"""The player's QoE beacons in a real browser, and a resumed play.

Chromium plays a tiny title; its beacons reach POST /v1/events and the view's startup
time and watch time show in the admin API within seconds. A pause stores the position
(watch history); leaving the page ends the view (sendBeacon), and the next play of the
title starts where the profile stopped.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx2 as httpx
import pytest
from sqlalchemy import select

from reelstack.analytics.models import AnalyticsView, WatchHistory
from reelstack.app import create_app
from reelstack.db import session_scope
from reelstack.media.testclips import make_test_clip
from reelstack.runtime import Runtime
from tests.browser.test_player import (
    _browser_runtime,
    _make_viewer,
    _play_past,
    _ready_title,
    _sign_in_as_viewer,
    page,
)
from tests.conftest import ADMIN_HEADERS, live_server

__all__ = ["page"]

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

T = TypeVar("T")


def _eventually(probe: Callable[[], T | None], what: str, timeout_s: float = 15) -> T:
    deadline = time.monotonic() + timeout_s
    while True:
        found = probe()
        if found is not None:
            return found
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


@pytest.fixture
def served(runtime: Runtime, tmp_path: Path) -> Iterator[tuple[str, str, Runtime]]:
    """The app on a loopback port with one ready 8 s title."""
    rt = _browser_runtime(runtime)
    clip = make_test_clip(tmp_path / "play.mp4", width=320, height=180, duration_s=8)
    ids = _ready_title(rt, clip, "Analytics clip")
    with live_server(create_app(runtime=rt)) as base:
        yield base, ids.title_id, rt
    rt.close()


def _views(rt: Runtime, user_id: str) -> list[str]:
    with session_scope(rt.sessions) as s:
        rows = s.scalars(
            select(AnalyticsView.id)
            .where(AnalyticsView.user_id == user_id)
            .order_by(AnalyticsView.started_at)
        )
        return list(rows)


def _position_ms(rt: Runtime, user_id: str) -> int | None:
    with session_scope(rt.sessions) as s:
        return s.scalar(select(WatchHistory.position_ms).where(WatchHistory.user_id == user_id))


def test_beacons_reach_the_api_and_a_second_play_resumes(
    served: tuple[str, str, Runtime], page: Any
) -> None:
    base, title_id, rt = served
    user_id = _make_viewer(rt)
    admin = httpx.Client(base_url=base, headers=ADMIN_HEADERS, timeout=10)
    page.goto(f"{base}/app/?title={title_id}&autoplay=1")
    _sign_in_as_viewer(page)
    _play_past(page, 3.0)
    page.evaluate("document.getElementById('video').pause()")
    paused_at: float = page.evaluate("document.getElementById('video').currentTime")

    (view_id,) = _eventually(lambda: _views(rt, user_id) or None, "the first beacons")

    def metrics() -> dict[str, Any] | None:
        body: dict[str, Any] = admin.get(f"/v1/admin/analytics/views/{view_id}").json()
        # The pause is the last thing the page did: once it is in, so is the play.
        return body if body["paused_time_ms"] > 0 or body["watch_time_ms"] >= 3000 else None

    view = _eventually(metrics, "the view's metrics")
    assert view["started"] and not view["failed"] and view["player_name"] == "reelstack-web"
    assert view["player_version"]
    assert view["startup_time_ms"] is not None and 0 < view["startup_time_ms"] < 15_000
    assert view["watch_time_ms"] >= 3000
    assert view["average_bitrate_bps"] and view["average_bitrate_bps"] > 0
    assert view["rebuffer_count"] == 0

    # The pause stored the position; leaving the page ends the view (sendBeacon).
    stored = _eventually(
        lambda: p if (p := _position_ms(rt, user_id)) and p >= 3000 else None, "the position"
    )
    assert abs(stored - paused_at * 1000) < 1500
    page.goto("about:blank")
    _eventually(
        lambda: True if admin.get(f"/v1/admin/analytics/views/{view_id}").json()["ended"] else None,
        "view_end from the page going away",
    )

    # The next play of the title starts where the profile stopped, as a new view.
    page.goto(f"{base}/app/?title={title_id}&autoplay=1")
    page.wait_for_function("() => window.__reelstack && window.__reelstack.loaded", timeout=30_000)
    # Shaka moves the playhead to the start time once the media is ready.
    page.wait_for_function("() => document.getElementById('video').currentTime > 0")
    started_at: float = page.evaluate("document.getElementById('video').currentTime")
    assert started_at >= stored / 1000 - 0.5, (started_at, stored)
    assert page.evaluate("window.__reelstack.errors") == []
    second = _eventually(
        lambda: views[1] if len(views := _views(rt, user_id)) > 1 else None, "the second view"
    )
    assert second != view_id
    admin.close()
