"""Profiles (kids, PIN, limits), devices, and the BOLA matrix: another household's ids
are 404 and change nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from reelstack.assets.models import AssetStatus
from reelstack.db import session_scope
from reelstack.runtime import Runtime
from tests.catalog.factories import make_title_with_asset
from tests.conftest import bearer, create_viewer, row_counts, sign_in, wait_for_job


def _titles(session: Session) -> dict[str, str]:
    kids, _ = make_title_with_asset(session, "Cartoon", AssetStatus.READY, rating=("US-TV", "TV-Y"))
    adult, _ = make_title_with_asset(session, "Thriller", AssetStatus.READY, rating=("MPAA", "R"))
    return {"kids": kids, "adult": adult}


def _select(
    client: TestClient, who: dict[str, Any], profile_id: str, pin: str | None = None
) -> Any:
    body = {} if pin is None else {"pin": pin}
    return client.post(f"/v1/me/profiles/{profile_id}/select", json=body, headers=who["headers"])


def test_kids_profile_sees_and_plays_only_what_its_ceiling_allows(
    client: TestClient, runtime: Runtime
) -> None:
    with session_scope(runtime.sessions) as s:
        titles = _titles(s)
    create_viewer(client, "family@example.com")
    parent = sign_in(client, "family@example.com")
    kid = client.post(
        "/v1/me/profiles", json={"name": "Kid", "kids": True}, headers=parent["headers"]
    )
    assert kid.status_code == 201, kid.text
    assert kid.json()["maturity_ceiling"] == 2 and kid.json()["kids"] is True

    listed = client.get("/v1/titles", headers=parent["headers"]).json()["items"]
    assert {t["id"] for t in listed} >= {titles["kids"], titles["adult"]}

    tablet = sign_in(client, "family@example.com", pick_profile=False)
    picked = _select(client, tablet, kid.json()["id"])
    kid_headers = bearer(picked.json()["access_token"])
    listed = client.get("/v1/titles", headers=kid_headers).json()["items"]
    assert [t["id"] for t in listed] == [titles["kids"]]
    assert client.get(f"/v1/titles/{titles['adult']}", headers=kid_headers).status_code == 404
    refused = client.post("/v1/playback", json={"title_id": titles["adult"]}, headers=kid_headers)
    assert refused.status_code == 403 and refused.json()["code"] == "maturity"
    played = client.post("/v1/playback", json={"title_id": titles["kids"]}, headers=kid_headers)
    assert played.status_code == 201, played.text
    # A kids profile cannot raise its own ceiling or manage profiles.
    raise_it = client.patch(
        f"/v1/me/profiles/{kid.json()['id']}", json={"maturity_ceiling": 4}, headers=kid_headers
    )
    assert raise_it.status_code == 403 and raise_it.json()["code"] == "kids_profile"
    add = client.post("/v1/me/profiles", json={"name": "Sneaky"}, headers=kid_headers)
    assert add.status_code == 403


def test_profile_pin_and_limit(client: TestClient) -> None:
    create_viewer(client, "pin@example.com", plan="basic")  # two profiles
    me = sign_in(client, "pin@example.com")
    locked = client.post(
        "/v1/me/profiles", json={"name": "Dad", "pin": "4321"}, headers=me["headers"]
    ).json()
    assert locked["has_pin"] is True and "pin" not in locked
    over = client.post("/v1/me/profiles", json={"name": "Third"}, headers=me["headers"])
    assert over.status_code == 409 and over.json()["code"] == "profile_limit"
    for pin in (None, "0000"):
        wrong = _select(client, me, locked["id"], pin)
        assert wrong.status_code == 403 and wrong.json()["code"] == "invalid_pin"
    bad_shape = _select(client, me, locked["id"], "12345")
    assert bad_shape.status_code == 422
    ok = _select(client, me, locked["id"], "4321")
    assert ok.status_code == 200 and ok.json()["profile_id"] == locked["id"]
    assert (
        client.get("/v1/me", headers=bearer(ok.json()["access_token"])).json()["profile_id"]
        == locked["id"]
    )


def test_profile_fields_cannot_be_mass_assigned(client: TestClient) -> None:
    create_viewer(client, "mass@example.com")
    me = sign_in(client, "mass@example.com")
    for body in ({"name": "X", "user_id": "other"}, {"name": "X", "max_streams": 9}):
        assert client.post("/v1/me/profiles", json=body, headers=me["headers"]).status_code == 422
    profile_id = me_profile(client, me)
    patch = client.patch(
        f"/v1/me/profiles/{profile_id}", json={"role": "admin"}, headers=me["headers"]
    )
    assert patch.status_code == 422
    assert client.get("/v1/me", headers=me["headers"]).json()["role"] == "viewer"


def me_profile(client: TestClient, who: dict[str, Any]) -> str:
    profile_id: str = client.get("/v1/me/profiles", headers=who["headers"]).json()[0]["id"]
    return profile_id


def test_removing_a_device_signs_it_out(client: TestClient) -> None:
    create_viewer(client, "devices@example.com")
    phone = sign_in(client, "devices@example.com")
    tv = sign_in(client, "devices@example.com")
    listed = client.get("/v1/me/devices", headers=phone["headers"]).json()
    assert {d["id"] for d in listed} == {phone["device_id"], tv["device_id"]}
    assert [d["current"] for d in listed if d["id"] == phone["device_id"]] == [True]
    assert (
        client.delete(f"/v1/me/devices/{tv['device_id']}", headers=phone["headers"]).status_code
        == 204
    )
    assert client.get("/v1/me", headers=tv["headers"]).status_code == 401
    assert (
        client.post("/v1/auth/refresh", json={"refresh_token": tv["refresh_token"]}).status_code
        == 401
    )
    assert [d["id"] for d in client.get("/v1/me/devices", headers=phone["headers"]).json()] == [
        phone["device_id"]
    ]


def test_another_households_ids_are_404_and_change_nothing(
    client: TestClient, runtime: Runtime
) -> None:
    with session_scope(runtime.sessions) as s:
        title_id, _ = make_title_with_asset(s, "Shared show", AssetStatus.READY)
    a_id = create_viewer(client, "alice@example.com")
    create_viewer(client, "bob@example.com")
    alice = sign_in(client, "alice@example.com")
    bob = sign_in(client, "bob@example.com")
    a_profile = client.post(
        "/v1/me/profiles", json={"name": "Alice 2"}, headers=alice["headers"]
    ).json()
    play = client.post("/v1/playback", json={"title_id": title_id}, headers=alice["headers"]).json()
    before = row_counts(runtime)
    me_before = client.get("/v1/me", headers=alice["headers"]).json()

    attacks = [
        ("PATCH", f"/v1/me/profiles/{a_profile['id']}", {"name": "pwned"}),
        ("DELETE", f"/v1/me/profiles/{a_profile['id']}", None),
        ("POST", f"/v1/me/profiles/{a_profile['id']}/select", {}),
        ("DELETE", f"/v1/me/devices/{alice['device_id']}", None),
        ("POST", f"/v1/playback/{play['session_id']}/heartbeat", None),
        ("DELETE", f"/v1/playback/{play['session_id']}", None),
    ]
    for method, path, body in attacks:
        resp = client.request(method, path, json=body, headers=bob["headers"])
        assert resp.status_code == 404, (method, path, resp.text)
        assert resp.json()["code"] == "not_found"
    # Admin routes about Alice's subscriptions are not open to Bob either.
    assert (
        client.get(f"/v1/admin/users/{a_id}/subscriptions", headers=bob["headers"]).status_code
        == 403
    )
    assert client.get("/v1/playback/sessions", headers=bob["headers"]).json() == []

    assert row_counts(runtime) == before
    me_after = client.get("/v1/me", headers=alice["headers"]).json()
    assert me_after == me_before
    assert client.get("/v1/me", headers=alice["headers"]).status_code == 200
    live = client.get("/v1/playback/sessions", headers=alice["headers"]).json()
    assert [s["session_id"] for s in live] == [play["session_id"]]


def test_deleting_the_account_takes_its_rows(client: TestClient, runtime: Runtime) -> None:
    create_viewer(client, "leaving@example.com")
    me = sign_in(client, "leaving@example.com")
    client.post("/v1/me/profiles", json={"name": "Second"}, headers=me["headers"])
    before = row_counts(runtime)
    assert client.delete("/v1/me", headers=me["headers"]).status_code == 204
    after = row_counts(runtime)
    assert after["users"] == before["users"] - 1
    for table in ("profiles", "devices", "login_sessions", "refresh_tokens", "subscriptions"):
        assert after[table] < before[table], table
    assert client.get("/v1/me", headers=me["headers"]).status_code == 401


def test_an_editors_uploads_stay_with_the_service_when_the_account_goes(
    client: TestClient, runtime: Runtime, clips: dict[str, Path]
) -> None:
    editor_id = create_viewer(client, "editor@example.com", plan=None, role="editor")
    editor = sign_in(client, "editor@example.com")
    upload = client.post(
        "/v1/admin/uploads",
        params={"title": "Editor's cut"},
        content=clips["landscape"].read_bytes(),
        headers=editor["headers"],
    )
    assert upload.status_code == 201, upload.text
    asset_id = upload.json()["asset_id"]
    wait_for_job(client, upload.json()["job_id"])
    assert client.get(f"/v1/admin/assets/{asset_id}").json()["created_by"] == editor_id
    assert client.delete("/v1/me", headers=editor["headers"]).status_code == 204
    kept = client.get(f"/v1/admin/assets/{asset_id}")
    assert kept.status_code == 200
    assert kept.json()["created_by"] is None and kept.json()["status"] == "ready"
