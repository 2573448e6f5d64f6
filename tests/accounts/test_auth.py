"""Sign-up, sign-in, refresh rotation with reuse detection, sign-out, throttling."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from reelstack.app import create_app
from reelstack.runtime import Runtime, build_runtime
from tests.conftest import VIEWER_PASSWORD, bearer, create_viewer, sign_in


@pytest.fixture
def anon(runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime=runtime)) as c:
        yield c


def test_sign_up_then_sign_in_and_read_me(anon: TestClient) -> None:
    body = {"email": "New.User@Example.com", "password": VIEWER_PASSWORD}
    created = anon.post("/v1/auth/signup", json=body)
    assert created.status_code == 201, created.text
    assert created.json()["email"] == "new.user@example.com"
    assert created.json()["role"] == "viewer"
    again = anon.post("/v1/auth/signup", json=body)
    assert again.status_code == 409 and again.json()["code"] == "email_taken"

    tokens = anon.post(
        "/v1/auth/login", json={"email": "new.user@EXAMPLE.com", "password": VIEWER_PASSWORD}
    )
    assert tokens.status_code == 200, tokens.text
    out = tokens.json()
    assert out["token_type"] == "bearer" and out["expires_in"] == 900
    assert out["refresh_token"].startswith("rt_") and out["device_id"]
    me = anon.get("/v1/me", headers=bearer(out["access_token"])).json()
    assert me["email"] == "new.user@example.com"
    assert me["plan"] is None and me["email_verified"] is False
    assert [p["name"] for p in me["profiles"]] == ["new.user"]


@pytest.mark.parametrize(
    "body",
    [
        {"email": "a@example.com", "password": "short"},
        {"email": "not-an-email", "password": VIEWER_PASSWORD},
        {"email": "a@example.com", "password": VIEWER_PASSWORD, "role": "admin"},
        {"email": "a@example.com", "password": VIEWER_PASSWORD, "plan_id": "premium"},
    ],
)
def test_sign_up_refuses_bad_and_privileged_fields(anon: TestClient, body: dict[str, str]) -> None:
    resp = anon.post("/v1/auth/signup", json=body)
    assert resp.status_code == 422
    assert resp.json()["code"] == "validation_failed"
    assert (
        anon.post(
            "/v1/auth/login", json={"email": "a@example.com", "password": VIEWER_PASSWORD}
        ).status_code
        == 401
    )


def test_wrong_password_and_unknown_email_look_the_same(client: TestClient) -> None:
    create_viewer(client, "known@example.com")
    wrong = client.post("/v1/auth/login", json={"email": "known@example.com", "password": "x" * 12})
    unknown = client.post(
        "/v1/auth/login", json={"email": "nobody@example.com", "password": "x" * 12}
    )
    for resp in (wrong, unknown):
        assert resp.status_code == 401
        assert resp.json()["code"] == "invalid_credentials"
        assert resp.json()["detail"] == "email or password is not correct"


def test_refresh_rotates_and_reuse_revokes_the_family(client: TestClient) -> None:
    create_viewer(client, "rot@example.com")
    first = sign_in(client, "rot@example.com", pick_profile=False)
    second = client.post("/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert second.status_code == 200, second.text
    pair = second.json()
    assert pair["refresh_token"] != first["refresh_token"]
    assert pair["device_id"] == first["device_id"]
    assert client.get("/v1/me", headers=bearer(pair["access_token"])).status_code == 200

    # The spent token again: the whole family is revoked, the newest pair included.
    reuse = client.post("/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert reuse.status_code == 401 and "reused" in reuse.json()["detail"]
    assert client.get("/v1/me", headers=bearer(pair["access_token"])).status_code == 401
    assert (
        client.post("/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]}).status_code
        == 401
    )
    # Another sign-in of the same account is untouched.
    other = sign_in(client, "rot@example.com", pick_profile=False)
    assert client.get("/v1/me", headers=other["headers"]).status_code == 200


def test_logout_and_logout_everywhere(client: TestClient) -> None:
    create_viewer(client, "out@example.com")
    phone = sign_in(client, "out@example.com")
    tv = sign_in(client, "out@example.com")
    laptop = sign_in(client, "out@example.com")
    assert client.post("/v1/auth/logout", json={}, headers=phone["headers"]).status_code == 204
    assert client.get("/v1/me", headers=phone["headers"]).status_code == 401
    assert (
        client.post("/v1/auth/refresh", json={"refresh_token": phone["refresh_token"]}).status_code
        == 401
    )
    assert client.get("/v1/me", headers=tv["headers"]).status_code == 200

    assert client.post("/v1/auth/logout-all", headers=tv["headers"]).status_code == 204
    for device in (tv, laptop):
        assert client.get("/v1/me", headers=device["headers"]).status_code == 401
        resp = client.post("/v1/auth/refresh", json={"refresh_token": device["refresh_token"]})
        assert resp.status_code == 401


def test_logout_needs_a_token(anon: TestClient) -> None:
    resp = anon.post("/v1/auth/logout", json={})
    assert resp.status_code == 401 and resp.json()["code"] == "unauthorized"


def test_login_reuses_a_known_device_and_not_another_households(client: TestClient) -> None:
    create_viewer(client, "dev-a@example.com")
    create_viewer(client, "dev-b@example.com")
    a = sign_in(client, "dev-a@example.com", pick_profile=False)
    again = client.post(
        "/v1/auth/login",
        json={
            "email": "dev-a@example.com",
            "password": VIEWER_PASSWORD,
            "device_id": a["device_id"],
        },
    ).json()
    assert again["device_id"] == a["device_id"]
    b = client.post(
        "/v1/auth/login",
        json={
            "email": "dev-b@example.com",
            "password": VIEWER_PASSWORD,
            "device_id": a["device_id"],
        },
    ).json()
    assert b["device_id"] != a["device_id"]


def test_brute_force_is_429_with_retry_after(runtime: Runtime) -> None:
    settings = runtime.settings.model_copy(
        update={"login_max_failures_per_account": 3, "login_max_failures_per_ip": 5}
    )
    rt = build_runtime(settings)
    try:
        with TestClient(create_app(runtime=rt)) as c:
            create_viewer(c, "victim@example.com")
            create_viewer(c, "other@example.com")
            bad = {"email": "victim@example.com", "password": "wrong-password"}
            assert [c.post("/v1/auth/login", json=bad).status_code for _ in range(3)] == [401] * 3
            locked = c.post("/v1/auth/login", json=bad)
            assert locked.status_code == 429
            assert locked.json()["code"] == "too_many_attempts"
            assert 1 <= int(locked.headers["retry-after"]) <= 900
            # Even the right password waits out the window.
            good = {"email": "victim@example.com", "password": VIEWER_PASSWORD}
            assert c.post("/v1/auth/login", json=good).status_code == 429
            # Per IP: two more failures on another account reach the IP's limit of 5.
            other_bad = {"email": "other@example.com", "password": "wrong-password"}
            assert c.post("/v1/auth/login", json=other_bad).status_code == 401
            assert c.post("/v1/auth/login", json=other_bad).status_code == 401
            other_good = {"email": "other@example.com", "password": VIEWER_PASSWORD}
            assert c.post("/v1/auth/login", json=other_good).status_code == 429
    finally:
        rt.close()


def test_a_success_clears_the_account_counter(client: TestClient) -> None:
    create_viewer(client, "forgetful@example.com")
    bad = {"email": "forgetful@example.com", "password": "wrong-password"}
    good = {"email": "forgetful@example.com", "password": VIEWER_PASSWORD}
    for _ in range(3):
        for _ in range(4):
            assert client.post("/v1/auth/login", json=bad).status_code == 401
        assert client.post("/v1/auth/login", json=good).status_code == 200
