"""Authorization code with PKCE (S256 only), OpenID Connect ID tokens and userinfo,
and discovery."""

from __future__ import annotations

import base64
import hashlib
import secrets
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import pytest
from fastapi.testclient import TestClient

from tests.conftest import bearer, create_viewer, sign_in
from tests.oauth.test_device_grant import anon, register_client

__all__ = ["anon"]
REDIRECT = "https://partner.example/callback"


def _pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _params(client_id: str, challenge: str | None, **extra: str) -> dict[str, str]:
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": REDIRECT,
        "scope": "openid email profile",
        "state": "xyz-state",
        "nonce": secrets.token_hex(8),
    }
    if challenge is not None:
        params |= {"code_challenge": challenge, "code_challenge_method": "S256"}
    return params | extra


def _code(anon: TestClient, headers: dict[str, str], params: dict[str, str]) -> str:
    """The browser's round trip: /oauth/authorize -> consent page -> allow -> code."""
    start = anon.get("/oauth/authorize", params=params, follow_redirects=False)
    assert start.status_code == 302, start.text
    consent_page = urlsplit(start.headers["location"])
    assert consent_page.path == "/app/authorize"
    preview = anon.get("/v1/oauth/authorize", params={"query": consent_page.query}, headers=headers)
    assert preview.status_code == 200, preview.text
    assert preview.json()["client_name"] == "Partner site"
    answer = anon.post(
        "/v1/oauth/authorize", json={"query": consent_page.query, "approve": True}, headers=headers
    )
    assert answer.status_code == 200, answer.text
    back = urlsplit(answer.json()["redirect_to"])
    assert f"{back.scheme}://{back.netloc}{back.path}" == REDIRECT
    query = parse_qs(back.query)
    assert query["state"] == ["xyz-state"]
    return str(query["code"][0])


def _exchange(anon: TestClient, client: dict[str, Any], code: str, verifier: str | None) -> Any:
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}
    if verifier is not None:
        data["code_verifier"] = verifier
    if client["client_secret"]:
        basic = (str(client["client_id"]), str(client["client_secret"]))
        return anon.post("/oauth/token", data=data, auth=basic)
    data["client_id"] = client["client_id"]
    return anon.post("/oauth/token", data=data)


@pytest.fixture
def partner(client: TestClient) -> dict[str, Any]:
    return register_client(
        client,
        name="Partner site",
        public=False,
        grants=["authorization_code"],
        redirect_uris=[REDIRECT],
    )


def test_code_flow_with_pkce_issues_tokens_and_a_verifiable_id_token(
    client: TestClient, anon: TestClient, partner: dict[str, Any]
) -> None:
    create_viewer(client, "rp@example.com")
    viewer = sign_in(client, "rp@example.com")
    verifier, challenge = _pkce()
    params = _params(partner["client_id"], challenge)
    code = _code(anon, viewer["headers"], params)

    wrong = _exchange(anon, partner, code, secrets.token_urlsafe(48))
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
    tokens = _exchange(anon, partner, code, verifier)
    assert tokens.status_code == 200, tokens.text
    body = tokens.json()
    assert body["token_type"] == "Bearer" and body["scope"] == "openid email profile"

    config = anon.get("/.well-known/openid-configuration").json()
    keys = {k["kid"]: k for k in anon.get("/.well-known/jwks.json").json()["keys"]}
    header = jwt.get_unverified_header(body["id_token"])
    assert header["alg"] == "EdDSA"
    key = jwt.PyJWK(keys[header["kid"]])
    claims = jwt.decode(
        body["id_token"],
        key,
        algorithms=["EdDSA"],
        audience=partner["client_id"],
        issuer=config["issuer"],
    )
    assert claims["nonce"] == params["nonce"]
    assert claims["email"] == "rp@example.com"
    assert claims["sub"] == client.get("/v1/me", headers=bearer(body["access_token"])).json()["id"]

    info = anon.get("/oauth/userinfo", headers=bearer(body["access_token"]))
    assert info.status_code == 200 and info.json()["email"] == "rp@example.com"
    assert info.json()["sub"] == claims["sub"]


def test_a_replayed_code_is_refused_and_revokes_what_it_bought(
    client: TestClient, anon: TestClient, partner: dict[str, Any]
) -> None:
    create_viewer(client, "replay@example.com")
    viewer = sign_in(client, "replay@example.com")
    verifier, challenge = _pkce()
    code = _code(anon, viewer["headers"], _params(partner["client_id"], challenge))
    first = _exchange(anon, partner, code, verifier)
    assert first.status_code == 200
    access = first.json()["access_token"]
    assert anon.get("/v1/me", headers=bearer(access)).status_code == 200
    second = _exchange(anon, partner, code, verifier)
    assert second.status_code == 400 and second.json()["error"] == "invalid_grant"
    assert anon.get("/v1/me", headers=bearer(access)).status_code == 401


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"code_challenge": None}, "invalid_request"),  # PKCE missing
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge_method": None}, "invalid_request"),  # defaults to plain
        ({"scope": "openid admin"}, "invalid_scope"),
        ({"response_type": "token"}, "unsupported_response_type"),
    ],
)
def test_bad_authorization_requests_go_back_to_the_client_with_an_error(
    client: TestClient,
    anon: TestClient,
    partner: dict[str, Any],
    change: dict[str, str | None],
    error: str,
) -> None:
    _, challenge = _pkce()
    params: dict[str, str] = _params(partner["client_id"], challenge)
    for key, value in change.items():
        if value is None:
            params.pop(key)
        else:
            params[key] = value
    resp = anon.get("/oauth/authorize", params=params, follow_redirects=False)
    assert resp.status_code == 302
    back = urlsplit(resp.headers["location"])
    assert f"{back.scheme}://{back.netloc}{back.path}" == REDIRECT
    assert parse_qs(back.query)["error"] == [error]


def test_unknown_clients_and_unregistered_redirects_are_never_followed(
    client: TestClient, anon: TestClient, partner: dict[str, Any]
) -> None:
    _, challenge = _pkce()
    evil = _params(partner["client_id"], challenge, redirect_uri="https://evil.example/cb")
    resp = anon.get("/oauth/authorize", params=evil, follow_redirects=False)
    assert resp.status_code == 400
    assert resp.headers["content-type"] == "application/problem+json"
    assert resp.json()["code"] == "invalid_authorization_request"
    nobody = anon.get(
        "/oauth/authorize", params=_params("nobody", challenge), follow_redirects=False
    )
    assert nobody.status_code == 400


def test_denying_consent_and_a_public_client_without_verifier(
    client: TestClient, anon: TestClient
) -> None:
    app = register_client(
        client,
        name="Partner site",
        public=True,
        grants=["authorization_code"],
        redirect_uris=[REDIRECT],
    )
    create_viewer(client, "deny@example.com")
    viewer = sign_in(client, "deny@example.com")
    verifier, challenge = _pkce()
    query = urlencode(_params(app["client_id"], challenge))
    no = anon.post(
        "/v1/oauth/authorize", json={"query": query, "approve": False}, headers=viewer["headers"]
    )
    assert no.status_code == 200
    assert parse_qs(urlsplit(no.json()["redirect_to"]).query)["error"] == ["access_denied"]
    # Consent needs a signed-in viewer.
    assert (
        anon.post("/v1/oauth/authorize", json={"query": query, "approve": True}).status_code == 401
    )

    code = _code(anon, viewer["headers"], _params(app["client_id"], challenge))
    missing = _exchange(anon, app, code, None)
    assert missing.status_code == 400 and missing.json()["error"] == "invalid_request"
    ok = _exchange(anon, app, code, verifier)
    assert ok.status_code == 200, ok.text


def test_userinfo_needs_the_openid_scope_for_client_tokens(
    client: TestClient, anon: TestClient, partner: dict[str, Any]
) -> None:
    create_viewer(client, "scoped@example.com")
    viewer = sign_in(client, "scoped@example.com")
    verifier, challenge = _pkce()
    code = _code(anon, viewer["headers"], _params(partner["client_id"], challenge, scope="email"))
    body = _exchange(anon, partner, code, verifier).json()
    assert "id_token" not in body
    refused = anon.get("/oauth/userinfo", headers=bearer(body["access_token"]))
    assert refused.status_code == 403
    assert "insufficient_scope" in refused.headers["www-authenticate"]
    # The web app's own token reads it.
    mine = anon.get("/oauth/userinfo", headers=viewer["headers"])
    assert mine.status_code == 200 and mine.json()["email"] == "scoped@example.com"
    assert anon.get("/oauth/userinfo").status_code == 401


def test_discovery_names_every_endpoint_and_they_answer(anon: TestClient) -> None:
    config = anon.get("/.well-known/openid-configuration").json()
    assert config["code_challenge_methods_supported"] == ["S256"]
    assert "urn:ietf:params:oauth:grant-type:device_code" in config["grant_types_supported"]
    for name in (
        "authorization_endpoint",
        "token_endpoint",
        "device_authorization_endpoint",
        "userinfo_endpoint",
        "jwks_uri",
    ):
        assert config[name].startswith(config["issuer"] + "/")
        # Mounted (a POST-only endpoint answers a GET with 405, not 404).
        assert anon.get(urlsplit(config[name]).path).status_code != 404
