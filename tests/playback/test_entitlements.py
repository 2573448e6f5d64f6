"""POST /v1/playback decides with one entitlement service: every refusal reason, the
rental clocks, the plan's resolution cap, and race-free stream leases."""

from __future__ import annotations

import re
import threading
import time
from collections import Counter
from datetime import timedelta
from typing import Any

import httpx2 as httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from reelstack.app import create_app
from reelstack.assets.models import AssetStatus
from reelstack.billing.models import Rental
from reelstack.config import Settings
from reelstack.db import session_scope, utcnow
from reelstack.runtime import Runtime, build_runtime
from tests.catalog.factories import make_title_with_asset
from tests.conftest import ADMIN_HEADERS, create_viewer, live_server, sign_in


def _title(runtime: Runtime, name: str = "Feature", **kwargs: Any) -> str:
    with session_scope(runtime.sessions) as s:
        title_id, _ = make_title_with_asset(s, name, AssetStatus.READY, **kwargs)
    return title_id


def _play(client: TestClient | httpx.Client, who: dict[str, Any], title_id: str) -> httpx.Response:
    return client.post("/v1/playback", json={"title_id": title_id}, headers=who["headers"])


def _refused(resp: httpx.Response, code: str) -> None:
    assert resp.status_code == 403, resp.text
    assert resp.headers["content-type"] == "application/problem+json"
    assert resp.json()["code"] == code


def test_anonymous_and_profileless_requests_are_refused(
    client: TestClient, runtime: Runtime
) -> None:
    title_id = _title(runtime)
    _refused(
        client.post("/v1/playback", json={"title_id": title_id}, headers={"Authorization": ""}),
        "not_signed_in",
    )
    create_viewer(client, "np@example.com")
    no_profile = sign_in(client, "np@example.com", pick_profile=False)
    _refused(_play(client, no_profile, title_id), "profile_required")


def test_rights_free_subscription_rental_and_suspension(
    client: TestClient, runtime: Runtime
) -> None:
    paid = _title(runtime, "Paid")
    free = _title(runtime, "Free", free=True)
    user_id = create_viewer(client, "rights@example.com", plan=None)
    me = sign_in(client, "rights@example.com")
    _refused(_play(client, me, paid), "not_entitled")
    assert _play(client, me, free).status_code == 201

    # A rental: the window to start, then the window after the first play.
    rental = client.post(
        f"/v1/admin/users/{user_id}/rentals",
        json={"title_id": paid, "watch_within_hours": 48},
        headers=ADMIN_HEADERS,
    ).json()
    assert rental["first_played_at"] is None
    client.delete("/v1/playback/" + _sessions(client, me)[0], headers=me["headers"])
    assert _play(client, me, paid).status_code == 201
    with session_scope(runtime.sessions) as s:
        row = s.get(Rental, rental["id"])
        assert row is not None and row.first_played_at is not None
        # 49 hours later the rental has run out.
        s.execute(
            update(Rental)
            .where(Rental.id == rental["id"])
            .values(first_played_at=utcnow() - timedelta(hours=49))
        )
    _refused(_play(client, me, paid), "rental_expired")

    # A purchase opens that title for good (the expired rental no longer matters).
    bought = client.post(
        f"/v1/admin/users/{user_id}/purchases", json={"title_id": paid}, headers=ADMIN_HEADERS
    )
    assert bought.status_code == 204, bought.text
    for live in _sessions(client, me):
        client.delete(f"/v1/playback/{live}", headers=me["headers"])
    assert _play(client, me, paid).status_code == 201
    unknown = client.post(
        f"/v1/admin/users/{user_id}/purchases", json={"title_id": "nope"}, headers=ADMIN_HEADERS
    )
    assert unknown.status_code == 404
    no_title = client.post(
        f"/v1/admin/users/{user_id}/rentals", json={"title_id": "nope"}, headers=ADMIN_HEADERS
    )
    assert no_title.status_code == 404 and no_title.json()["code"] == "not_found"
    for live in _sessions(client, me):
        client.delete(f"/v1/playback/{live}", headers=me["headers"])

    # A subscription opens the catalog; a suspension closes everything.
    granted = client.post(
        f"/v1/admin/users/{user_id}/subscriptions", json={"plan": "premium"}, headers=ADMIN_HEADERS
    )
    assert granted.status_code == 201
    assert _play(client, me, paid).status_code == 201
    client.post(
        f"/v1/admin/users/{user_id}/status", json={"status": "suspended"}, headers=ADMIN_HEADERS
    )
    _refused(_play(client, me, free), "account_suspended")


def _sessions(client: TestClient | httpx.Client, who: dict[str, Any]) -> list[str]:
    return [
        s["session_id"] for s in client.get("/v1/playback/sessions", headers=who["headers"]).json()
    ]


def test_device_limit_lets_the_first_devices_play(client: TestClient, runtime: Runtime) -> None:
    title_id = _title(runtime, free=True)
    create_viewer(client, "devlimit@example.com", plan="basic")  # 2 devices, 1 stream
    first, second, third = (sign_in(client, "devlimit@example.com") for _ in range(3))
    _refused(_play(client, third, title_id), "device_limit")
    for device in (first, second):
        resp = _play(client, device, title_id)
        assert resp.status_code == 201, resp.text
        client.delete(f"/v1/playback/{resp.json()['session_id']}", headers=device["headers"])
    # Removing a device lets the next one in.
    assert (
        client.delete(f"/v1/me/devices/{first['device_id']}", headers=second["headers"]).status_code
        == 204
    )
    assert _play(client, third, title_id).status_code == 201


def test_stream_limit_heartbeat_stop_and_expiry(runtime: Runtime) -> None:
    settings = runtime.settings.model_copy(update={"playback_heartbeat_interval_s": 1})
    rt = build_runtime(settings)
    try:
        with TestClient(create_app(runtime=rt), headers=ADMIN_HEADERS) as client:
            title_id = _title(rt)
            create_viewer(client, "streams@example.com", plan="standard")  # 2 streams
            a, b = sign_in(client, "streams@example.com"), sign_in(client, "streams@example.com")
            one, two = _play(client, a, title_id).json(), _play(client, b, title_id).json()
            assert one["heartbeat_interval_s"] == 1
            _refused(_play(client, a, title_id), "stream_limit")
            assert (
                client.delete(f"/v1/playback/{one['session_id']}", headers=a["headers"]).status_code
                == 204
            )
            three = _play(client, a, title_id)
            assert three.status_code == 201
            # Session `two` keeps its lease by heartbeats; `three` goes silent.
            deadline = time.monotonic() + 2.5
            while time.monotonic() < deadline:
                beat = client.post(
                    f"/v1/playback/{two['session_id']}/heartbeat", headers=b["headers"]
                )
                assert beat.status_code == 200, beat.text
                time.sleep(0.4)
            silent = client.post(
                f"/v1/playback/{three.json()['session_id']}/heartbeat", headers=a["headers"]
            )
            assert silent.status_code == 410 and silent.json()["code"] == "session_ended"
            assert _sessions(client, a) == [two["session_id"]]
            assert _play(client, a, title_id).status_code == 201
            _refused(_play(client, b, title_id), "stream_limit")
    finally:
        rt.close()


def test_the_plans_resolution_cap_limits_the_renditions(
    client: TestClient, runtime: Runtime
) -> None:
    title_id = _title(runtime, heights=(360, 720, 1080))
    create_viewer(client, "hd@example.com", plan="standard")  # up to 1080
    create_viewer(client, "sd@example.com", plan="basic")  # up to 720
    hd = _play(client, sign_in(client, "hd@example.com"), title_id).json()
    sd = _play(client, sign_in(client, "sd@example.com"), title_id).json()
    assert hd["max_height"] == 1080 and hd["hls"].startswith("http://testserver/s/")
    assert sd["max_height"] == 720
    assert sd["hls"] == f"http://testserver/v1/playback/{sd['session_id']}/master.m3u8"
    assert sd["dash"] == f"http://testserver/v1/playback/{sd['session_id']}/manifest.mpd"


@pytest.mark.parametrize("limit", [2])
def test_simultaneous_requests_get_exactly_the_limit(runtime: Runtime, limit: int) -> None:
    """50 play requests at once against a 2-stream plan: exactly 2 granted."""
    app = create_app(runtime=runtime)
    with live_server(app) as base, httpx.Client(base_url=base, headers=ADMIN_HEADERS) as http:
        title_id = _title(runtime)
        create_viewer(http, "race@example.com", plan="standard")
        who = sign_in(http, "race@example.com")
        barrier = threading.Barrier(50)
        results: list[int] = []
        lock = threading.Lock()

        def play() -> None:
            with httpx.Client(base_url=base, timeout=60) as c:
                barrier.wait()
                resp = _play(c, who, title_id)
            with lock:
                results.append(resp.status_code if resp.status_code != 403 else 403)

        threads = [threading.Thread(target=play) for _ in range(50)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(90)
        counts = Counter(results)
        assert counts == {201: limit, 403: 50 - limit}, counts
        assert len(_sessions(http, who)) == limit


def test_the_session_manifests_leave_out_the_taller_renditions(
    client: TestClient, runtime: Runtime
) -> None:
    from reelstack.storage.base import media_version_key
    from tests.media.test_limits import MASTER, MPD

    with session_scope(runtime.sessions) as s:
        title_id, asset_id = make_title_with_asset(
            s, "Capped", AssetStatus.READY, heights=(360, 720, 1080)
        )
    for name, text in (("master.m3u8", MASTER), ("manifest.mpd", MPD)):
        runtime.storage.put_stream(media_version_key(asset_id, 1, name), [text.encode()])
    create_viewer(client, "capped@example.com", plan="basic")  # up to 720
    who = sign_in(client, "capped@example.com")
    play = _play(client, who, title_id).json()
    master = client.get(play["hls"])
    assert master.status_code == 200
    assert master.headers["content-type"].startswith("application/vnd.apple.mpegurl")
    assert master.headers["cache-control"] == "private, no-store"
    assert "RESOLUTION=1280x720" in master.text and "1920x1080" not in master.text
    # The renditions' URLs carry the session's token (signed media prefix).
    signed = f"http://testserver/s/[0-9]+\\.{play['session_id']}\\.[A-Za-z0-9_-]+/{asset_id}/v1/"
    rendition = re.search(signed + "video-0.m3u8", master.text)
    # The token opens the version (this test stored no playlist there: 404, not 403).
    assert rendition is not None
    assert client.get(rendition.group(0)).json()["code"] == "not_found"
    mpd = client.get(play["dash"])
    assert mpd.status_code == 200 and 'height="1080"' not in mpd.text and 'height="720"' in mpd.text
    assert re.search(f"<BaseURL>{signed}</BaseURL>", mpd.text)
    assert client.get(f"/v1/playback/{play['session_id']}/poster.jpg").status_code == 404
    # Once the session ends, its manifests are gone.
    client.delete(f"/v1/playback/{play['session_id']}", headers=who["headers"])
    ended = client.get(play["hls"])
    assert ended.status_code == 410 and ended.json()["code"] == "session_ended"


def test_a_blocked_country_gets_451(settings: Settings) -> None:
    configured = settings.model_copy(
        update={"country_header": "X-Viewer-Country", "blocked_countries": ["CN", "KP"]}
    )
    rt = build_runtime(configured)
    try:
        with TestClient(create_app(runtime=rt), headers=ADMIN_HEADERS) as client:
            title_id = _title(rt)
            create_viewer(client, "abroad@example.com")
            who = sign_in(client, "abroad@example.com")
            body = {"title_id": title_id}
            blocked = client.post(
                "/v1/playback", json=body, headers={**who["headers"], "X-Viewer-Country": "kp"}
            )
            assert blocked.status_code == 451 and blocked.json()["code"] == "region_blocked"
            elsewhere = {**who["headers"], "X-Viewer-Country": "FR"}
            assert client.post("/v1/playback", json=body, headers=elsewhere).status_code == 201
            garbage = {**who["headers"], "X-Viewer-Country": "not-a-country"}
            assert client.post("/v1/playback", json=body, headers=garbage).status_code == 201
    finally:
        rt.close()
