"""Scoped API keys: shown once, stored hashed, checked by scope, revocable."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from reelstack.accounts.models import ApiKey
from reelstack.db import session_scope
from reelstack.runtime import Runtime
from tests.conftest import ADMIN_HEADERS, bearer, create_viewer, sign_in


def _key(client: TestClient, *scopes: str, headers: dict[str, str] = ADMIN_HEADERS) -> str:
    resp = client.post(
        "/v1/admin/api-keys", json={"name": "ci", "scopes": list(scopes)}, headers=headers
    )
    assert resp.status_code == 201, resp.text
    key: str = resp.json()["key"]
    return key


def test_a_key_is_shown_once_and_stored_hashed(client: TestClient, runtime: Runtime) -> None:
    key = _key(client, "admin:read")
    assert key.startswith("rsk_")
    listed = client.get("/v1/admin/api-keys", headers=ADMIN_HEADERS).json()
    assert [k["scopes"] for k in listed] == [["admin:read"]]
    assert all("key" not in k and "secret_hash" not in k for k in listed)
    with session_scope(runtime.sessions) as s:
        stored = s.scalars(select(ApiKey)).one()
        assert key.split("_")[-1] not in stored.secret_hash and len(stored.secret_hash) == 64


def test_scopes_decide_what_a_key_may_do(client: TestClient) -> None:
    reader = bearer(_key(client, "admin:read"))
    writer = bearer(_key(client, "admin:write"))
    manager = bearer(_key(client, "admin:write", "users:manage"))
    assert client.get("/v1/admin/jobs", headers=reader).status_code == 200
    listed = client.get("/v1/admin/api-keys", headers=ADMIN_HEADERS).json()
    # Only the key that was used shows a last use.
    assert [k["last_used_at"] is not None for k in listed] == [True, False, False]
    refused = client.post("/v1/admin/jobs/x/cancel", headers=reader)
    assert refused.status_code == 403 and refused.json()["code"] == "forbidden"
    assert (
        client.post("/v1/admin/jobs/x/cancel", headers=writer).status_code == 404
    )  # past the guard
    body = {"email": "made-by-key@example.com", "password": "long enough password"}
    assert client.post("/v1/admin/users", json=body, headers=writer).status_code == 403
    assert client.post("/v1/admin/users", json=body, headers=manager).status_code == 201
    # A key is not a viewer credential, and cannot mint keys without users:manage.
    assert client.get("/v1/me", headers=manager).status_code == 401
    assert (
        client.post(
            "/v1/admin/api-keys", json={"name": "x", "scopes": ["admin:write"]}, headers=writer
        ).status_code
        == 403
    )


def test_revoked_unknown_and_forged_keys_are_401(client: TestClient) -> None:
    key = _key(client, "admin:read")
    key_id = key.split("_")[1]
    forged = key[:-4] + ("AAAA" if not key.endswith("AAAA") else "BBBB")
    for bad in (forged, "rsk_" + "0" * 32 + "_" + "x" * 43, "rsk_nonsense"):
        resp = client.get("/v1/admin/jobs", headers=bearer(bad))
        assert resp.status_code == 401 and resp.json()["code"] == "invalid_credentials"
    revoked = client.delete(f"/v1/admin/api-keys/{key_id}", headers=ADMIN_HEADERS)
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    assert client.get("/v1/admin/jobs", headers=bearer(key)).status_code == 401


def test_only_admins_manage_keys(client: TestClient) -> None:
    create_viewer(client, "editor@example.com", role="editor", plan=None)
    create_viewer(client, "boss@example.com", role="admin", plan=None)
    editor = sign_in(client, "editor@example.com", pick_profile=False)["headers"]
    boss = sign_in(client, "boss@example.com", pick_profile=False)["headers"]
    assert client.get("/v1/admin/api-keys", headers=editor).status_code == 403
    made = client.post(
        "/v1/admin/api-keys", json={"name": "by boss", "scopes": ["admin:read"]}, headers=boss
    )
    assert made.status_code == 201 and made.json()["created_by"]
    assert client.get("/v1/admin/jobs", headers=bearer(made.json()["key"])).status_code == 200
