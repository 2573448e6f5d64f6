"""The analytics dashboard in a real browser (web-src/src/admin/).

An admin signs in through the form on /app/?view=analytics; a viewer's playback session
has sent the player's events (POST /v1/events) beforehand. The page shows the summary
(the view count), draws the time series and the breakdown with uPlot, and exports the
breakdown as CSV in the browser. A viewer signing in there is told it is not allowed.

With REELSTACK_WRITE_SCREENSHOTS=1 the page is also saved as docs/analytics-dashboard.png
(the README's screenshot).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest

from reelstack.app import create_app
from reelstack.runtime import Runtime
from tests.analytics.factories import event, make_title, now_ms
from tests.browser.test_player import _browser_runtime, page
from tests.conftest import ADMIN_HEADERS, VIEWER_PASSWORD, create_viewer, live_server, sign_in

__all__ = ["page"]

pytestmark = [pytest.mark.browser]

ROOT = Path(__file__).resolve().parents[2]
ADMIN_EMAIL = "analyst@browser.example"
VIEWER_EMAIL = "fan@browser.example"
CSV_HEADER = (
    "device,views,watch_time_ms,playing_time_ms,completion_percentage,startup_time_p50_ms,"
    "startup_time_p95_ms,startup_time_mean_ms,rebuffer_percentage,rebuffer_frequency_per_min,"
    "exits_before_start_percentage,playback_failure_percentage,startup_failure_percentage,"
    "average_bitrate_bps,upscale_percentage,startup_score,smoothness_score,quality_score"
)


@pytest.fixture
def served(runtime: Runtime) -> Iterator[tuple[str, Runtime]]:
    """The app on a loopback port (no transcode: the events name a playback session)."""
    rt = _browser_runtime(runtime)
    with live_server(create_app(runtime=rt)) as base:
        yield base, rt
    rt.close()


def _view(sid: str, view: str, t: int, startup_ms: int, cdn: str) -> list[dict[str, Any]]:
    """A view that starts after ``startup_ms``, plays 20 s with a 1 s stall, and ends."""
    s = t + startup_ms
    return [
        event(sid, view, "view_start", t - 300, player_name="reelstack-web", cdn=cdn),
        event(sid, view, "play_requested", t, playhead_ms=0),
        event(sid, view, "rendition_change", s, bitrate=2_500_000, height=720),
        event(sid, view, "first_frame", s, playhead_ms=0),
        event(sid, view, "rebuffer_start", s + 8000, playhead_ms=8000),
        event(sid, view, "rebuffer_end", s + 9000, playhead_ms=8000),
        event(sid, view, "view_end", s + 21_000, playhead_ms=20_000),
    ]


def _play_some(base: str, rt: Runtime) -> None:
    """Three views of one playback session: two that play, one exit before start."""
    with httpx.Client(base_url=base, timeout=10) as client:
        create_viewer(client, VIEWER_EMAIL)
        who = sign_in(client, VIEWER_EMAIL)
        resp = client.post(
            "/v1/playback", json={"title_id": make_title(rt)}, headers=who["headers"]
        )
        assert resp.status_code == 201, resp.text
        sid = resp.json()["session_id"]
        t = now_ms() - 90_000
        events = [
            *_view(sid, "dash-1", t, 700, "edge-a"),
            *_view(sid, "dash-2", t + 30_000, 1500, "edge-b"),
            event(sid, "dash-3", "play_requested", t + 40_000),
            event(sid, "dash-3", "view_end", t + 43_000),
        ]
        resp = client.post("/v1/events", json={"events": events}, headers={"Authorization": ""})
        assert resp.status_code == 202 and not resp.json()["rejected"], resp.text
        summary = client.get("/v1/admin/analytics/summary", headers=ADMIN_HEADERS).json()
        assert summary["views"] == 3, summary


def _sign_in(page: Any, email: str) -> None:
    page.locator("#sign-in-email").fill(email, timeout=15_000)
    page.locator("#sign-in-password").fill(VIEWER_PASSWORD)
    page.click("#sign-in-submit")


def test_dashboard_shows_the_views_draws_both_charts_and_exports_csv(
    served: tuple[str, Runtime], page: Any, tmp_path: Path
) -> None:
    base, rt = served
    _play_some(base, rt)
    with httpx.Client(base_url=base, timeout=10) as client:
        create_viewer(client, ADMIN_EMAIL, plan=None, role="admin")

    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{base}/app/?view=analytics")
    _sign_in(page, ADMIN_EMAIL)
    page.wait_for_function("() => window.__reelstack.view === 'analytics'", timeout=15_000)
    views = page.locator('#analytics-summary [data-metric="views"] dd')
    views.wait_for(timeout=15_000)
    assert views.inner_text() == "3"
    summary = page.locator("#analytics-summary").inner_text()
    assert "Exits before start" in summary and "33.3 %" in summary
    # Both uPlot charts are drawn.
    page.locator("#analytics-series-chart canvas").wait_for(timeout=10_000)
    page.locator("#analytics-breakdown-chart canvas").wait_for(timeout=10_000)
    assert page.locator("#analytics-series-chart .uplot").count() == 1
    assert page.locator("#analytics-breakdown-chart .uplot").count() == 1
    # The concurrent viewers are filled in.
    page.wait_for_function("() => document.getElementById('analytics-now').textContent !== '—'")
    assert page.locator("#nav-analytics").is_visible()

    # The breakdown as CSV, made in the browser.
    with page.expect_download() as download_info:
        page.click("#analytics-breakdown-csv")
    download = download_info.value
    assert download.suggested_filename == "analytics-by-device.csv"
    csv_path = tmp_path / "breakdown.csv"
    download.save_as(str(csv_path))
    lines = csv_path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == CSV_HEADER
    assert len(lines) == 2 and lines[1].split(",")[1] == "3"

    # Another dimension redraws the breakdown: two CDNs (the exit has none).
    page.select_option("#analytics-dimension", "cdn")
    page.locator("#analytics-breakdown-table tr", has_text="edge-b").wait_for(timeout=10_000)

    # The time series exports too (one hour with views).
    with page.expect_download() as download_info:
        page.click("#analytics-series-csv")
    series_path = tmp_path / "series.csv"
    download_info.value.save_as(str(series_path))
    series = series_path.read_text(encoding="utf-8").splitlines()
    assert series[0] == CSV_HEADER.replace("device,", "time,", 1)
    assert page.evaluate("window.__reelstack.errors") == []
    assert [str(exc) for exc in page.page_errors(filter="all")] == []

    if os.environ.get("REELSTACK_WRITE_SCREENSHOTS") == "1":
        page.screenshot(path=str(ROOT / "docs" / "analytics-dashboard.png"), full_page=True)


def test_a_viewer_is_told_the_dashboard_is_not_allowed(
    served: tuple[str, Runtime], page: Any
) -> None:
    base, _ = served
    with httpx.Client(base_url=base, timeout=10) as client:
        create_viewer(client, VIEWER_EMAIL)
    page.goto(f"{base}/app/?view=analytics")
    _sign_in(page, VIEWER_EMAIL)
    denied = page.locator("#analytics-denied")
    denied.wait_for(timeout=15_000)
    assert "Not allowed" in denied.inner_text()
    assert page.locator("#analytics-body").is_hidden()
    assert page.locator("#nav-analytics").is_hidden()
