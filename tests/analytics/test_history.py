"""Watch history from the player's events: resume positions, "continue watching", the
household's export, and what goes with the account and the profile."""

from __future__ import annotations

import csv
import io
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from reelstack.analytics.models import AnalyticsView, WatchHistory
from reelstack.assets.models import Asset
from reelstack.catalog.models import TitleAsset
from reelstack.db import session_scope
from reelstack.runtime import Runtime
from tests.analytics.factories import Play, event, make_title, now_ms, start_playback
from tests.conftest import bearer, sign_in

ANONYMOUS = {"Authorization": ""}
# The titles here last 100 s: 1 % is 1,000 ms.
DURATION_S = 100.0


def _title(runtime: Runtime, name: str) -> str:
    title_id = make_title(runtime, name)
    with session_scope(runtime.sessions) as s:
        asset_id = s.scalar(select(TitleAsset.asset_id).where(TitleAsset.title_id == title_id))
        s.execute(update(Asset).where(Asset.id == asset_id).values(duration_s=DURATION_S))
    return title_id


def _at(
    client: TestClient, play: Play, view: str, position_ms: int, ts: int, type_: str = "heartbeat"
) -> None:
    """One event of ``play``'s session at ``position_ms``, at client time ``ts``."""
    body = {"events": [event(play.session_id, view, type_, ts, playhead_ms=position_ms)]}
    resp = client.post("/v1/events", json=body, headers=ANONYMOUS)
    assert resp.status_code == 202 and resp.json()["accepted"] == 1, resp.text


def _rail(client: TestClient, headers: dict[str, str]) -> list[tuple[str, int]]:
    resp = client.get("/v1/me/continue-watching", headers=headers)
    assert resp.status_code == 200, resp.text
    return [(item["title_id"], item["position_ms"]) for item in resp.json()["items"]]


def _resume(client: TestClient, play: Play) -> dict[str, Any]:
    resp = client.get(f"/v1/me/resume/{play.title_id}", headers=play.headers)
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    return body


def test_positions_resume_and_watched(client: TestClient, runtime: Runtime) -> None:
    play = start_playback(client, _title(runtime, "Feature"), "fan@example.com")
    t = now_ms() - 60_000
    # Under 5 %: not history.
    _at(client, play, "v1", 4_000, t)
    assert _rail(client, play.headers) == []
    assert _resume(client, play) == {"title_id": play.title_id, "resume_ms": 0, "watched": False}
    # The events before the player loads say nothing of the position.
    _at(client, play, "v1", 60_000, t + 1000, "view_start")
    assert _rail(client, play.headers) == []
    _at(client, play, "v1", 40_000, t + 2000)
    assert _rail(client, play.headers) == [(play.title_id, 40_000)]
    item = client.get("/v1/me/continue-watching", headers=play.headers).json()["items"][0]
    assert item["title"] == "Feature" and item["duration_ms"] == 100_000
    assert item["progress_percentage"] == 40.0 and item["poster_url"] is not None
    assert _resume(client, play)["resume_ms"] == 40_000
    # A late batch of older events does not move it back; a newer one moves it.
    _at(client, play, "v1", 70_000, t + 1500)
    assert _resume(client, play)["resume_ms"] == 40_000
    _at(client, play, "v2", 20_000, t + 3000, "pause")
    assert _resume(client, play)["resume_ms"] == 20_000
    # 90 % and more: watched, out of the rail, and the next play starts over.
    _at(client, play, "v2", 91_000, t + 4000, "view_end")
    assert _rail(client, play.headers) == []
    assert _resume(client, play) == {"title_id": play.title_id, "resume_ms": 0, "watched": True}
    # Starting over stays watched; a glance under 5 % changes nothing.
    _at(client, play, "v3", 2_000, t + 5000)
    assert _resume(client, play)["watched"] is True
    _at(client, play, "v3", 30_000, t + 6000)
    assert _resume(client, play) == {
        "title_id": play.title_id,
        "resume_ms": 30_000,
        "watched": True,
    }


def test_continue_watching_order_and_privacy(client: TestClient, runtime: Runtime) -> None:
    first, second = _title(runtime, "First"), _title(runtime, "Second")
    a = start_playback(client, first, "fan@example.com")
    resp = client.post("/v1/playback", json={"title_id": second}, headers=a.headers)
    b = Play(resp.json()["session_id"], second, a.user_id, a.headers)
    t = now_ms() - 60_000
    _at(client, a, "a1", 30_000, t)
    _at(client, b, "b1", 50_000, t + 1000)
    assert _rail(client, a.headers) == [(second, 50_000), (first, 30_000)]
    _at(client, a, "a2", 35_000, t + 2000)
    assert _rail(client, a.headers) == [(first, 35_000), (second, 50_000)]

    # Another household sees none of it, in the rail, the resume point or the export.
    other = start_playback(client, first, "other@example.com")
    assert _rail(client, other.headers) == []
    assert _resume(client, other)["resume_ms"] == 0
    assert client.get("/v1/me/history", headers=other.headers).json() == {"items": []}
    # Another profile of the same household has its own.
    created = client.post("/v1/me/profiles", json={"name": "Second"}, headers=a.headers)
    assert created.status_code == 201, created.text
    picked = client.post(
        f"/v1/me/profiles/{created.json()['id']}/select", json={}, headers=a.headers
    )
    assert _rail(client, bearer(picked.json()["access_token"])) == []

    # Signed in without a profile: no rail; signed out: 401.
    no_profile = sign_in(client, "fan@example.com", pick_profile=False)["headers"]
    resp = client.get("/v1/me/continue-watching", headers=no_profile)
    assert resp.status_code == 403 and resp.json()["code"] == "profile_required"
    assert client.get("/v1/me/continue-watching", headers=ANONYMOUS).status_code == 401


def test_history_export(client: TestClient, runtime: Runtime) -> None:
    play = start_playback(client, _title(runtime, "=cmd|' /C calc'!A0"), "fan@example.com")
    t = now_ms() - 60_000
    _at(client, play, "v1", 95_000, t)
    resp = client.get("/v1/me/history", headers=play.headers)
    assert resp.status_code == 200, resp.text
    (item,) = resp.json()["items"]
    assert item["title_id"] == play.title_id and item["watched"] is True
    assert item["profile_name"] and item["position_ms"] == 95_000
    assert item["progress_percentage"] == 95.0

    resp = client.get("/v1/me/history?format=csv", headers=play.headers)
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/csv")
    assert "attachment" in resp.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(resp.text)))
    assert len(rows) == 1 and rows[0]["title_id"] == play.title_id
    assert rows[0]["watched"] == "True" and rows[0]["position_ms"] == "95000"
    # A title that a spreadsheet would run as a formula comes out as text.
    assert rows[0]["title"] == "'=cmd|' /C calc'!A0"
    resp = client.get("/v1/me/history?format=xml", headers=play.headers)
    assert resp.status_code == 422


def _count(runtime: Runtime, model: Any) -> int:
    with session_scope(runtime.sessions) as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


def test_history_goes_with_the_profile_and_the_account(
    client: TestClient, runtime: Runtime
) -> None:
    title_id = _title(runtime, "Feature")
    play = start_playback(client, title_id, "fan@example.com")
    stays = start_playback(client, title_id, "stays@example.com")
    t = now_ms() - 60_000
    _at(client, play, "gone", 50_000, t)
    _at(client, stays, "kept", 50_000, t)
    # A second profile of the household that goes: its history and views go with it.
    created = client.post("/v1/me/profiles", json={"name": "Second"}, headers=play.headers)
    profile_id = created.json()["id"]
    picked = client.post(f"/v1/me/profiles/{profile_id}/select", json={}, headers=play.headers)
    second_headers = bearer(picked.json()["access_token"])
    resp = client.post("/v1/playback", json={"title_id": title_id}, headers=second_headers)
    second = Play(resp.json()["session_id"], title_id, play.user_id, second_headers)
    _at(client, second, "second", 60_000, t + 1000)
    assert (_count(runtime, WatchHistory), _count(runtime, AnalyticsView)) == (3, 3)
    resp = client.delete(f"/v1/me/profiles/{profile_id}", headers=play.headers)
    assert resp.status_code == 204, resp.text
    assert (_count(runtime, WatchHistory), _count(runtime, AnalyticsView)) == (2, 2)

    assert client.delete("/v1/me", headers=play.headers).status_code == 204
    with session_scope(runtime.sessions) as s:
        assert s.scalars(select(WatchHistory.user_id)).all() == [stays.user_id]
        assert s.scalars(select(AnalyticsView.id)).all() == ["kept"]
