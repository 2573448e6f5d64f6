"""The device authorization grant (RFC 8628): a TV shows a code, a signed-in viewer
approves it, the TV's poll gets tokens for a device registered in the household."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from reelstack.db import session_scope, utcnow
from reelstack.oauth.models import DeviceGrant
from reelstack.runtime import Runtime
from tests.conftest import bearer, create_viewer, sign_in

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


@pytest.fixture
def anon(client: TestClient) -> Iterator[TestClient]:
    """The same app, without the admin key the ``client`` fixture sends."""
    yield TestClient(client.app)


def register_client(client: TestClient, **body: Any) -> dict[str, Any]:
    resp = client.post("/v1/admin/oauth/clients", json=body)
    assert resp.status_code == 201, resp.text
    out: dict[str, Any] = resp.json()
    return out


def _tv(client: TestClient) -> str:
    created = register_client(
        client, name="Living-room TV", public=True, grants=["device_code"], device_type="tv"
    )
    assert created["client_secret"] is None
    return str(created["client_id"])


def _start(anon: TestClient, client_id: str) -> dict[str, Any]:
    resp = anon.post(
        "/oauth/device_authorization", data={"client_id": client_id, "scope": "openid profile"}
    )
    assert resp.status_code == 200, resp.text
    assert resp.headers["cache-control"] == "no-store"
    out: dict[str, Any] = resp.json()
    return out


def _poll(anon: TestClient, client_id: str, device_code: str) -> Any:
    return anon.post(
        "/oauth/token",
        data={"grant_type": DEVICE_GRANT, "device_code": device_code, "client_id": client_id},
    )


def _refresh(anon: TestClient, client_id: str, refresh_token: str) -> Any:
    data = {"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": client_id}
    return anon.post("/oauth/token", data=data)


def _allow_next_poll(runtime: Runtime) -> None:
    """Move the last poll back past the interval (instead of sleeping 5 s)."""
    with session_scope(runtime.sessions) as s:
        s.execute(update(DeviceGrant).values(last_polled_at=utcnow() - timedelta(seconds=60)))


def test_tv_signs_in_with_a_code_approved_on_the_phone(
    client: TestClient, anon: TestClient, runtime: Runtime
) -> None:
    tv = _tv(client)
    create_viewer(client, "couch@example.com")
    phone = sign_in(client, "couch@example.com")
    started = _start(anon, tv)
    assert started["verification_uri"].endswith("/app/activate")
    assert started["verification_uri_complete"].endswith(f"user_code={started['user_code']}")
    assert started["interval"] == 5 and started["expires_in"] == 600

    pending = _poll(anon, tv, started["device_code"])
    assert pending.status_code == 400 and pending.json()["error"] == "authorization_pending"
    # Polling faster than the interval: slow_down (RFC 8628 section 3.5).
    fast = _poll(anon, tv, started["device_code"])
    assert fast.json()["error"] == "slow_down"

    # The viewer types the code as shown on screen, in any case and without the dash.
    typed = started["user_code"].replace("-", "").lower()
    approved = anon.post(
        "/v1/auth/device/approve", json={"user_code": typed}, headers=phone["headers"]
    )
    assert approved.status_code == 200, approved.text
    assert approved.json()["approved"] is True
    device_id = approved.json()["device_id"]
    devices = anon.get("/v1/me/devices", headers=phone["headers"]).json()
    tv_device = next(d for d in devices if d["id"] == device_id)
    assert tv_device["type"] == "tv" and tv_device["name"] == "Living-room TV"

    _allow_next_poll(runtime)
    granted = _poll(anon, tv, started["device_code"])
    assert granted.status_code == 200, granted.text
    tokens = granted.json()
    assert tokens["token_type"] == "Bearer" and tokens["refresh_token"]
    assert "id_token" not in tokens  # the id_token is for the code flow only
    me = anon.get("/v1/me", headers=bearer(tokens["access_token"]))
    assert me.status_code == 200 and me.json()["email"] == "couch@example.com"
    # The TV's session is on the approved device.
    assert tokens["device_id"] == device_id

    # A device code works once.
    _allow_next_poll(runtime)
    again = _poll(anon, tv, started["device_code"])
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    # The code cannot be approved twice either.
    twice = anon.post(
        "/v1/auth/device/approve", json={"user_code": typed}, headers=phone["headers"]
    )
    assert twice.status_code == 409 and twice.json()["code"] == "device_code_used"

    # The TV refreshes at the token endpoint; a replayed refresh token ends its session.
    refreshed = _refresh(anon, tv, tokens["refresh_token"])
    assert refreshed.status_code == 200, refreshed.text
    new_access = refreshed.json()["access_token"]
    assert anon.get("/v1/me", headers=bearer(new_access)).status_code == 200
    replay = _refresh(anon, tv, tokens["refresh_token"])
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
    assert anon.get("/v1/me", headers=bearer(new_access)).status_code == 401


def test_refresh_tokens_stay_with_their_client(
    client: TestClient, anon: TestClient, runtime: Runtime
) -> None:
    tv = _tv(client)
    other = _tv(client)
    create_viewer(client, "bound@example.com")
    phone = sign_in(client, "bound@example.com")
    started = _start(anon, tv)
    anon.post(
        "/v1/auth/device/approve",
        json={"user_code": started["user_code"]},
        headers=phone["headers"],
    )
    tokens = _poll(anon, tv, started["device_code"]).json()
    stolen = _refresh(anon, other, tokens["refresh_token"])
    assert stolen.status_code == 400 and stolen.json()["error"] == "invalid_grant"
    # Nor through the web app's refresh route.
    web = anon.post("/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert web.status_code == 401
    # The token was not spent by those attempts.
    ok = _refresh(anon, tv, tokens["refresh_token"])
    assert ok.status_code == 200, ok.text


def test_denied_expired_and_unknown_codes(
    client: TestClient, anon: TestClient, runtime: Runtime
) -> None:
    tv = _tv(client)
    create_viewer(client, "careful@example.com")
    phone = sign_in(client, "careful@example.com")

    denied = _start(anon, tv)
    no = anon.post(
        "/v1/auth/device/deny", json={"user_code": denied["user_code"]}, headers=phone["headers"]
    )
    assert no.status_code == 200 and no.json()["approved"] is False
    answer = _poll(anon, tv, denied["device_code"])
    assert answer.json()["error"] == "access_denied"
    assert len(anon.get("/v1/me/devices", headers=phone["headers"]).json()) == 1

    late = _start(anon, tv)
    with session_scope(runtime.sessions) as s:
        s.execute(update(DeviceGrant).values(expires_at=utcnow() - timedelta(seconds=1)))
    expired = anon.post(
        "/v1/auth/device/approve", json={"user_code": late["user_code"]}, headers=phone["headers"]
    )
    assert expired.status_code == 410 and expired.json()["code"] == "device_code_expired"
    assert _poll(anon, tv, late["device_code"]).json()["error"] == "expired_token"

    unknown = anon.post(
        "/v1/auth/device/approve", json={"user_code": "BCDF-GHJK"}, headers=phone["headers"]
    )
    assert unknown.status_code == 404
    assert anon.post("/v1/auth/device/approve", json={"user_code": "BCDF-GHJK"}).status_code == 401
    bogus = _poll(anon, tv, "not-a-device-code")
    assert bogus.status_code == 400 and bogus.json()["error"] == "invalid_request"


def test_clients_without_the_grant_or_revoked_get_nothing(
    client: TestClient, anon: TestClient
) -> None:
    web = register_client(
        client,
        name="Partner site",
        public=False,
        grants=["authorization_code"],
        redirect_uris=["https://partner.example/callback"],
    )
    refused = anon.post(
        "/oauth/device_authorization",
        data={"client_id": web["client_id"], "client_secret": web["client_secret"]},
    )
    assert refused.status_code == 400 and refused.json()["error"] == "unauthorized_client"
    unknown = anon.post("/oauth/device_authorization", data={"client_id": "nobody"})
    # 400 (401 only when the client tried HTTP Basic, RFC 6749 section 5.2).
    assert unknown.status_code == 400 and unknown.json()["error"] == "invalid_client"

    tv = _tv(client)
    assert client.delete(f"/v1/admin/oauth/clients/{tv}").status_code == 204
    gone = anon.post("/oauth/device_authorization", data={"client_id": tv})
    assert gone.json()["error"] == "invalid_client"
    listed = {c["client_id"]: c for c in client.get("/v1/admin/oauth/clients").json()}
    assert listed[tv]["revoked"] is True
    # Bodies must be forms, as RFC 6749 says.
    as_json = anon.post("/oauth/token", json={"grant_type": "refresh_token"})
    assert as_json.status_code == 400 and as_json.json()["code"] == "bad_request"
