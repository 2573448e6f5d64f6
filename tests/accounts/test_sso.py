"""Sign-in with an external OpenID Connect provider, end to end against a real provider
started here (oidc-provider-mock: Authlib's server behind Flask on a loopback port; no
code of ours). The browser's part is played by HTTP requests that follow the redirects
and post the provider's sign-in form."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from reelstack.app import create_app
from reelstack.config import Settings
from reelstack.runtime import build_runtime
from tests.conftest import bearer, create_viewer
from tests.oidc_provider import PROVIDER_WARNINGS, User, run_server_in_thread

pytestmark = PROVIDER_WARNINGS

ALICE = User(
    sub="alice-0001",
    claims={
        "email": "alice@corp.example",
        "email_verified": True,
        "name": "Alice",
        "groups": ["staff", "reelstack-editors"],
    },
)
BOB = User(sub="bob-0002", claims={"email": "bob@corp.example", "email_verified": False})


@pytest.fixture(scope="module")
def provider() -> Iterator[str]:
    with run_server_in_thread(user_claims=[ALICE, BOB]) as server:
        yield f"http://localhost:{server.server_port}"


@pytest.fixture
def sso_client(settings: Settings, provider: str) -> Iterator[TestClient]:
    configured = settings.model_copy(
        update={
            "oidc_issuer": provider,
            "oidc_client_id": "reelstack-test",
            "oidc_client_secret": SecretStr("sso-client-secret-for-the-test-provider"),
            "oidc_display_name": "Corp",
            "oidc_role_map": {"reelstack-editors": "editor", "reelstack-admins": "admin"},
        }
    )
    runtime = build_runtime(configured)
    try:
        with TestClient(create_app(runtime=runtime)) as client:
            yield client
    finally:
        runtime.close()


def _provider_sign_in(client: TestClient, sub: str, action: str = "") -> str:
    """Start at Reelstack, sign in at the provider as ``sub``; the callback's redirect."""
    start = client.get("/v1/auth/sso/start?return_to=/app/account", follow_redirects=False)
    assert start.status_code == 302, start.text
    at_provider = start.headers["location"]
    query = parse_qs(urlsplit(at_provider).query)
    assert query["code_challenge_method"] == ["S256"] and query["nonce"] and query["state"]
    form = {"sub": sub} | ({"action": action} if action else {})
    answer = httpx.post(at_provider, data=form, follow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text
    back = urlsplit(answer.headers["location"])
    assert back.path == "/v1/auth/sso/callback"
    done = client.get(f"{back.path}?{back.query}", follow_redirects=False)
    assert done.status_code == 302
    return str(done.headers["location"])


def _exchange(client: TestClient, target: str) -> dict[str, Any]:
    handoff = target.split("#sso=", 1)[1]
    resp = client.post("/v1/auth/sso/exchange", json={"handoff": handoff})
    assert resp.status_code == 200, resp.text
    tokens: dict[str, Any] = resp.json()
    # A handoff code works once.
    again = client.post("/v1/auth/sso/exchange", json={"handoff": handoff})
    assert again.status_code == 401
    return tokens


def test_sso_creates_the_account_maps_its_role_and_signs_in(sso_client: TestClient) -> None:
    config = sso_client.get("/v1/auth/sso").json()
    assert config == {"enabled": True, "name": "Corp"}
    target = _provider_sign_in(sso_client, ALICE.sub)
    assert target.startswith("/app/account#sso=")
    tokens = _exchange(sso_client, target)
    me = sso_client.get("/v1/me", headers=bearer(tokens["access_token"])).json()
    assert me["email"] == "alice@corp.example" and me["role"] == "editor"
    assert [p["name"] for p in me["profiles"]] == ["Alice"]
    # An editor reaches the admin API; the next SSO sign-in finds the same account.
    assert (
        sso_client.get("/v1/admin/jobs", headers=bearer(tokens["access_token"])).status_code == 200
    )
    second = _exchange(sso_client, _provider_sign_in(sso_client, ALICE.sub))
    me2 = sso_client.get("/v1/me", headers=bearer(second["access_token"])).json()
    assert me2["id"] == me["id"]
    # No password was set: password sign-in fails for this account.
    login = sso_client.post(
        "/v1/auth/login", json={"email": "alice@corp.example", "password": "x" * 12}
    )
    assert login.status_code == 401


def test_an_unverified_email_never_takes_over_an_existing_account(
    sso_client: TestClient,
) -> None:
    sso_client.headers["Authorization"] = "Bearer reelstack-demo-admin-key-not-for-production"
    create_viewer(sso_client, "bob@corp.example")
    del sso_client.headers["Authorization"]
    target = _provider_sign_in(sso_client, BOB.sub)
    assert target == "/app/#sso_error=sso_email_taken"


def test_denied_replayed_and_forged_callbacks_sign_no_one_in(sso_client: TestClient) -> None:
    denied = _provider_sign_in(sso_client, ALICE.sub, action="deny")
    assert denied == "/app/#sso_error=sso_denied"
    forged = sso_client.get("/v1/auth/sso/callback?state=made-up&code=abc", follow_redirects=False)
    assert forged.headers["location"] == "/app/#sso_error=sso_failed"
    # Replaying a callback URL: its state was spent by the first use.
    start = sso_client.get("/v1/auth/sso/start", follow_redirects=False)
    answer = httpx.post(start.headers["location"], data={"sub": ALICE.sub}, timeout=10)
    callback = urlsplit(answer.headers["location"])
    first = sso_client.get(f"{callback.path}?{callback.query}", follow_redirects=False)
    assert "#sso=" in first.headers["location"]
    replay = sso_client.get(f"{callback.path}?{callback.query}", follow_redirects=False)
    assert replay.headers["location"] == "/app/#sso_error=sso_failed"
    # Only paths of the web app are return targets.
    evil = sso_client.get(
        "/v1/auth/sso/start?return_to=https://evil.example/", follow_redirects=False
    )
    evil_answer = httpx.post(evil.headers["location"], data={"sub": ALICE.sub}, timeout=10)
    evil_back = urlsplit(evil_answer.headers["location"])
    landed = sso_client.get(f"{evil_back.path}?{evil_back.query}", follow_redirects=False)
    assert landed.headers["location"].startswith("/app/#sso=")


def test_sso_is_off_without_an_issuer(client: TestClient) -> None:
    assert client.get("/v1/auth/sso").json() == {"enabled": False, "name": None}
    off = client.get("/v1/auth/sso/start", follow_redirects=False)
    assert off.status_code == 404 and off.json()["code"] == "sso_disabled"
