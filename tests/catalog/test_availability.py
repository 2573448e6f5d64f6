"""Availability windows: the viewer API hides, and playback refuses (403 not_available),
titles outside their windows or regions; a title without windows is available everywhere."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from reelstack.assets.models import AssetStatus
from reelstack.catalog.models import TitleKind
from reelstack.db import session_scope, utcnow
from reelstack.runtime import Runtime
from tests.catalog.conftest import COUNTRY_HEADER
from tests.catalog.factories import CMS, cms_title, make_title_with_asset, publish
from tests.conftest import row_counts, viewer_headers


def _window(client: TestClient, title_id: str, **body: Any) -> Any:
    return client.post(f"{CMS}/titles/{title_id}/windows", json=body)


def _iso(delta: timedelta) -> str:
    return (utcnow() + delta).isoformat()


def test_window_validation(client: TestClient, runtime: Runtime) -> None:
    made = cms_title(client, title="Rights")
    counts = row_counts(runtime)
    backwards = _window(
        client, made["id"], starts_at=_iso(timedelta(days=2)), ends_at=_iso(timedelta(days=1))
    )
    assert backwards.status_code == 422 and backwards.json()["field"] == "ends_at"
    empty = _window(client, made["id"], starts_at=_iso(timedelta(0)), ends_at=None)
    assert empty.status_code == 201
    counts["availability_windows"] += 1
    counts["catalog_audit"] += 1
    not_iso = _window(client, made["id"], country="ZZ", starts_at=_iso(timedelta(0)))
    assert not_iso.status_code == 422 and not_iso.json()["field"] == "country"
    naive = _window(client, made["id"], starts_at="2030-01-01T00:00:00")
    assert naive.status_code == 422
    assert row_counts(runtime) == counts
    window = _window(client, made["id"], country="fr", starts_at=_iso(timedelta(0))).json()
    assert window["country"] == "FR"
    patched = client.patch(
        f"{CMS}/windows/{window['id']}", json={"ends_at": _iso(timedelta(days=-1))}
    )
    assert patched.status_code == 422 and patched.json()["field"] == "ends_at"
    assert client.delete(f"{CMS}/windows/{window['id']}").status_code == 204
    assert len(client.get(f"{CMS}/titles/{made['id']}/windows").json()) == 1


def test_viewer_api_and_playback_follow_windows(client: TestClient, runtime: Runtime) -> None:
    with session_scope(runtime.sessions) as s:
        title_id, _ = make_title_with_asset(s, "Windowed", AssetStatus.READY)
    headers = viewer_headers(client)

    def seen(country: str | None) -> bool:
        extra = {COUNTRY_HEADER: country} if country else {}
        listed = client.get("/v1/titles", headers=extra).json()["items"]
        page = client.get(f"/v1/titles/{title_id}", headers=extra).status_code
        assert (page == 200) == any(t["id"] == title_id for t in listed)
        return page == 200

    def plays(country: str | None) -> int | str:
        extra = {COUNTRY_HEADER: country} if country else {}
        resp = client.post("/v1/playback", json={"title_id": title_id}, headers=headers | extra)
        if resp.status_code == 201:
            client.delete(f"/v1/playback/{resp.json()['session_id']}", headers=headers)
            return 201
        assert resp.headers["content-type"] == "application/problem+json"
        code: str = resp.json()["code"]
        return code

    # No window: everywhere, always (unknown country included).
    assert seen(None) and seen("US") and plays("US") == 201 and plays(None) == 201
    # A US window that has started: the US only; elsewhere and unknown countries refused.
    _window(client, title_id, country="US", starts_at=_iso(timedelta(days=-1)))
    assert seen("US") and plays("US") == 201
    assert not seen("FR") and plays("FR") == "not_available"
    assert not seen(None) and plays(None) == "not_available"
    # A worldwide window that has ended adds nothing; one that starts later neither.
    _window(client, title_id, starts_at=_iso(timedelta(days=-10)), ends_at=_iso(timedelta(days=-5)))
    _window(client, title_id, starts_at=_iso(timedelta(days=5)))
    assert not seen("FR") and plays("FR") == "not_available"
    # A current worldwide window opens it everywhere.
    current = _window(
        client, title_id, starts_at=_iso(timedelta(hours=-1)), ends_at=_iso(timedelta(hours=1))
    ).json()
    assert seen("FR") and plays("FR") == 201 and plays(None) == 201
    client.delete(f"{CMS}/windows/{current['id']}")
    assert plays("DE") == "not_available"
    refused = client.post(
        "/v1/playback", json={"title_id": title_id}, headers=headers | {COUNTRY_HEADER: "DE"}
    )
    assert refused.status_code == 403
    assert refused.json()["title_id"] == title_id and refused.json()["country"] == "DE"


def test_playback_follows_the_workflow(client: TestClient, runtime: Runtime) -> None:
    with session_scope(runtime.sessions) as s:
        title_id, _ = make_title_with_asset(s, "Workflow", AssetStatus.READY)
    headers = viewer_headers(client)
    play = client.post("/v1/playback", json={"title_id": title_id}, headers=headers)
    assert play.status_code == 201
    session_id = play.json()["session_id"]
    client.post(f"{CMS}/titles/{title_id}/transitions", json={"to": "unpublished"})
    refused = client.post("/v1/playback", json={"title_id": title_id}, headers=headers)
    assert refused.status_code == 403 and refused.json()["code"] == "not_available"
    # A session on a withdrawn title ends at its next heartbeat.
    beat = client.post(f"/v1/playback/{session_id}/heartbeat", headers=headers)
    assert beat.status_code == 410 and beat.json()["reason"] == "not_available"
    # Back in draft it does not exist for viewers.
    client.post(f"{CMS}/titles/{title_id}/transitions", json={"to": "draft"})
    missing = client.post("/v1/playback", json={"title_id": title_id}, headers=headers)
    assert missing.status_code == 404


def test_episode_needs_its_series(client: TestClient, runtime: Runtime) -> None:
    series = cms_title(client, title="Show", kind=TitleKind.SERIES.value)
    season = client.post(f"{CMS}/titles/{series['id']}/seasons", json={"number": 1}).json()
    episode = client.post(f"{CMS}/seasons/{season['id']}/episodes", json={"title": "E1"}).json()
    with session_scope(runtime.sessions) as s:
        _, asset_id = make_title_with_asset(s, "carrier", AssetStatus.READY)
    linked = client.post(
        f"{CMS}/titles/{episode['id']}/assets", json={"asset_id": asset_id, "role": "main"}
    )
    assert linked.status_code == 201, linked.text
    bad_link = client.post(
        f"{CMS}/titles/{episode['id']}/assets", json={"asset_id": "nope", "role": "extra"}
    )
    assert bad_link.status_code == 422 and bad_link.json()["field"] == "asset_id"
    publish(client, episode["id"])
    headers = viewer_headers(client)
    body = {"title_id": episode["id"]}
    # The series is a draft: the episode does not play.
    assert client.post("/v1/playback", json=body, headers=headers).json()["code"] == (
        "not_available"
    )
    publish(client, series["id"])
    play = client.post("/v1/playback", json=body, headers=headers)
    assert play.status_code == 201, play.text
    client.delete(f"/v1/playback/{play.json()['session_id']}", headers=headers)
    # The series' window closes it for its episodes too.
    _window(client, series["id"], country="JP", starts_at=_iso(timedelta(days=-1)))
    refused = client.post("/v1/playback", json=body, headers=headers | {COUNTRY_HEADER: "BR"})
    assert refused.status_code == 403 and refused.json()["code"] == "not_available"
    assert (
        client.get(f"/v1/titles/{episode['id']}", headers={COUNTRY_HEADER: "BR"}).status_code == 404
    )
    in_japan = client.post("/v1/playback", json=body, headers=headers | {COUNTRY_HEADER: "JP"})
    assert in_japan.status_code == 201
