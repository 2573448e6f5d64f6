"""Access tokens: what verifies, what does not (SECURITY.md's list), and key rotation."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from datetime import timedelta
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import select, update

from reelstack.accounts import keys
from reelstack.accounts.models import SigningKey
from reelstack.app import create_app
from reelstack.db import session_scope, utcnow
from reelstack.runtime import Runtime, build_runtime
from tests.conftest import bearer, create_viewer, sign_in


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _parts(token: str) -> tuple[dict[str, Any], dict[str, Any], str]:
    head, body, sig = token.split(".")

    def pad(part: str) -> str:
        return part + "=" * (-len(part) % 4)

    return (
        json.loads(base64.urlsafe_b64decode(pad(head))),
        json.loads(base64.urlsafe_b64decode(pad(body))),
        sig,
    )


def _signing_key(runtime: Runtime) -> tuple[str, Ed25519PrivateKey, bytes]:
    with session_scope(runtime.sessions) as s:
        row = s.scalars(select(SigningKey).where(SigningKey.retired_at.is_(None))).one()
        private = serialization.load_pem_private_key(row.private_pem.encode(), password=None)
        assert isinstance(private, Ed25519PrivateKey)
        public_pem = private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return row.kid, private, public_pem


@pytest.fixture
def viewer(client: TestClient) -> dict[str, Any]:
    create_viewer(client, "jwt@example.com")
    return sign_in(client, "jwt@example.com")


def _resign(
    runtime: Runtime,
    token: str,
    *,
    claims: dict[str, Any] | None = None,
    headers: dict[str, Any] | None = None,
) -> str:
    """The token with changed claims/headers, validly signed with the service's key."""
    kid, private, _ = _signing_key(runtime)
    head, body, _ = _parts(token)
    body.update(claims or {})
    head.update(headers or {})
    head.pop("alg", None)
    return jwt.encode(body, private, algorithm="EdDSA", headers={"kid": kid, **head})


def test_the_genuine_token_works(client: TestClient, viewer: dict[str, Any]) -> None:
    assert client.get("/v1/me", headers=viewer["headers"]).status_code == 200
    head, body, _ = _parts(viewer["access_token"])
    assert head["alg"] == "EdDSA" and head["typ"] == "at+jwt" and head["kid"]
    assert body["token_use"] == "access" and body["aud"] == "reelstack-api"
    assert body["iss"] == "http://127.0.0.1:8000" and body["exp"] - body["iat"] == 900


def test_forged_and_malformed_tokens_are_401(
    client: TestClient, runtime: Runtime, viewer: dict[str, Any]
) -> None:
    token = viewer["access_token"]
    head, body, sig = _parts(token)
    kid, _, public_pem = _signing_key(runtime)
    now = int(time.time())
    forged: dict[str, str] = {}
    for alg in ("none", "None", "NONE", "nOnE"):
        unsigned = {**head, "alg": alg}
        forged[f"alg {alg}"] = (
            f"{_b64(json.dumps(unsigned).encode())}.{_b64(json.dumps(body).encode())}."
        )
    # HS256 keyed with the public key (the classic algorithm confusion).
    # HS256 keyed with the public key (the classic algorithm confusion), made by hand:
    # PyJWT itself refuses to build one.
    hs_head = _b64(json.dumps({"alg": "HS256", "kid": kid, "typ": "at+jwt"}).encode())
    hs_body = _b64(json.dumps(body).encode())
    mac = hmac.new(public_pem, f"{hs_head}.{hs_body}".encode(), hashlib.sha256).digest()
    forged["hs256 with public key"] = f"{hs_head}.{hs_body}.{_b64(mac)}"
    flipped = sig[:-2] + ("AA" if not sig.endswith("AA") else "BB")
    forged["bad signature"] = f"{token.rsplit('.', 1)[0]}.{flipped}"
    other_key = Ed25519PrivateKey.generate()
    forged["signed by another key"] = jwt.encode(
        body, other_key, algorithm="EdDSA", headers={"kid": kid, "typ": "at+jwt"}
    )
    forged["expired"] = _resign(
        runtime, token, claims={"exp": now - 120, "iat": now - 1200, "nbf": now - 1200}
    )
    forged["not yet valid"] = _resign(runtime, token, claims={"nbf": now + 600})
    forged["wrong iss"] = _resign(runtime, token, claims={"iss": "https://evil.example"})
    forged["wrong aud"] = _resign(runtime, token, claims={"aud": "another-api"})
    forged["refresh token type"] = _resign(runtime, token, claims={"token_use": "refresh"})
    forged["playback token type"] = _resign(runtime, token, headers={"typ": "playback+jwt"})
    forged["no sid"] = _resign(runtime, token, claims={"sid": None})
    forged["unknown kid"] = jwt.encode(
        body, _signing_key(runtime)[1], algorithm="EdDSA", headers={"kid": "nope", "typ": "at+jwt"}
    )
    forged["jku header"] = _resign(runtime, token, headers={"jku": "https://evil.example/jwks"})
    forged["x5u header"] = _resign(runtime, token, headers={"x5u": "https://evil.example/cert"})
    forged["role escalation unsigned"] = (
        f"{token.split('.')[0]}.{_b64(json.dumps({**body, 'role': 'admin'}).encode())}.{sig}"
    )
    forged["garbage"] = "eyJ.eyJ.x"
    for name, bad in forged.items():
        resp = client.get("/v1/me", headers=bearer(bad))
        assert resp.status_code == 401, name
        assert resp.json()["code"] == "invalid_credentials", name
        # Nor does any of them open the admin API.
        assert client.get("/v1/admin/jobs", headers=bearer(bad)).status_code == 401, name


def test_a_validly_signed_admin_role_claim_does_not_make_an_admin(
    client: TestClient, runtime: Runtime, viewer: dict[str, Any]
) -> None:
    # The role is read from the account, not trusted from the token.
    escalated = _resign(runtime, viewer["access_token"], claims={"role": "admin"})
    assert client.get("/v1/me", headers=bearer(escalated)).status_code == 200
    assert client.get("/v1/admin/jobs", headers=bearer(escalated)).status_code == 403


def test_rotation_keeps_old_tokens_valid_until_they_expire(
    client: TestClient, runtime: Runtime, viewer: dict[str, Any]
) -> None:
    old_kid = _parts(viewer["access_token"])[0]["kid"]
    with session_scope(runtime.sessions) as s:
        keys.rotate(session=s)
    # Another process's view: this app's ring reloads on the unknown kid by itself; the
    # next sign-in is signed with the new key once the ring reloads.
    client.app.state.identity.auth.ring.invalidate()  # type: ignore[attr-defined]
    fresh = sign_in(client, "jwt@example.com")
    new_kid = _parts(fresh["access_token"])[0]["kid"]
    assert new_kid != old_kid
    jwks = client.get("/.well-known/jwks.json").json()
    assert {k["kid"] for k in jwks["keys"]} == {old_kid, new_kid}
    assert all(k["kty"] == "OKP" and k["crv"] == "Ed25519" and "d" not in k for k in jwks["keys"])
    assert client.get("/v1/me", headers=viewer["headers"]).status_code == 200
    assert client.get("/v1/me", headers=fresh["headers"]).status_code == 200

    # Once every token of the old key has expired, the key is gone.
    with session_scope(runtime.sessions) as s:
        s.execute(
            update(SigningKey)
            .where(SigningKey.kid == old_kid)
            .values(retired_at=utcnow() - timedelta(hours=1))
        )
    client.app.state.identity.auth.ring.invalidate()  # type: ignore[attr-defined]
    assert client.get("/v1/me", headers=viewer["headers"]).status_code == 401
    assert client.get("/v1/me", headers=fresh["headers"]).status_code == 200
    assert [k["kid"] for k in client.get("/.well-known/jwks.json").json()["keys"]] == [new_kid]


def test_staff_tokens_open_the_admin_api_by_role(client: TestClient) -> None:
    for email, role in (
        ("adm@example.com", "admin"),
        ("ed@example.com", "editor"),
        ("sup@example.com", "support"),
        ("vw@example.com", "viewer"),
    ):
        create_viewer(client, email, role=role, plan=None)
    admin = sign_in(client, "adm@example.com", pick_profile=False)["headers"]
    editor = sign_in(client, "ed@example.com", pick_profile=False)["headers"]
    support = sign_in(client, "sup@example.com", pick_profile=False)["headers"]
    viewer = sign_in(client, "vw@example.com", pick_profile=False)["headers"]
    assert client.get("/v1/admin/jobs", headers=admin).status_code == 200
    assert client.get("/v1/admin/jobs", headers=editor).status_code == 200
    for headers in (support, viewer):
        resp = client.get("/v1/admin/jobs", headers=headers)
        assert resp.status_code == 403 and resp.json()["code"] == "forbidden"
    # User management is for admins (and the API key), not editors.
    body = {"email": "made@example.com", "password": "long enough password"}
    refused = client.post("/v1/admin/users", json=body, headers=editor)
    assert refused.status_code == 403
    assert client.post("/v1/admin/users", json=body, headers=admin).status_code == 201


def test_signing_keys_are_encrypted_at_rest_with_the_secret(runtime: Runtime) -> None:
    secret = "s" * 40
    rt = build_runtime(runtime.settings.model_copy(update={"token_key_secret": SecretStr(secret)}))
    try:
        with TestClient(create_app(runtime=rt)) as c:
            create_viewer(c, "sealed@example.com")
            who = sign_in(c, "sealed@example.com")
            assert c.get("/v1/me", headers=who["headers"]).status_code == 200
        with session_scope(rt.sessions) as s:
            [row] = s.scalars(select(SigningKey)).all()
            assert row.private_pem.startswith(keys.ENCRYPTED_PREFIX)
            assert "PRIVATE KEY" not in row.private_pem
        # The wrong secret (or none) cannot read it, and says so.
        for wrong in (
            keys.KeyRing(rt.sessions, access_ttl_s=900, leeway_s=30, secret="x" * 40),
            keys.KeyRing(rt.sessions, access_ttl_s=900, leeway_s=30),
        ):
            with pytest.raises(keys.KeySecretMismatch, match="REELSTACK_TOKEN_KEY_SECRET"):
                wrong.signing_key()
        # A rotation under the secret stores the new key encrypted too.
        with session_scope(rt.sessions) as s:
            assert keys.rotate(session=s, secret=secret).private_pem.startswith(
                keys.ENCRYPTED_PREFIX
            )
    finally:
        rt.close()


def test_a_verified_token_is_remembered_only_while_it_is_valid(runtime: Runtime) -> None:
    """The per-process cache of verified tokens (``KeyRing.verified``) never outlives
    the token's ``exp``, and serves only the exact text that was verified."""
    from reelstack.accounts.models import Role
    from reelstack.accounts.tokens import (
        TokenConfig,
        TokenInvalid,
        issue_access_token,
        verify_access_token,
    )

    ring = keys.KeyRing(runtime.sessions, access_ttl_s=1, leeway_s=0)
    config = TokenConfig(
        issuer="https://issuer.test", audience="reelstack", access_ttl_s=1, leeway_s=0
    )
    token, _ = issue_access_token(
        ring=ring,
        config=config,
        user_id="u1",
        role=Role.VIEWER,
        session_id="s1",
        device_id=None,
        profile_id=None,
    )
    first = verify_access_token(ring=ring, config=config, token=token)
    assert verify_access_token(ring=ring, config=config, token=token) is first  # from the cache
    head, body, sig = token.split(".")
    tampered = f"{head}.{body}.{sig[:-2]}{'AA' if sig[-2:] != 'AA' else 'BB'}"
    with pytest.raises(TokenInvalid):
        verify_access_token(ring=ring, config=config, token=tampered)
    time.sleep(1.1)
    with pytest.raises(TokenInvalid):
        verify_access_token(ring=ring, config=config, token=token)
