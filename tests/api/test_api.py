"""The HTTP contract: health, OpenAPI, problem+json, catalog and playback gates."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from reelstack.assets.models import AssetStatus
from reelstack.catalog import service as catalog
from reelstack.db import session_scope
from reelstack.runtime import Runtime
from tests.catalog.factories import make_title_with_asset
from tests.conftest import viewer_headers


def test_health_ready_openapi(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["status"] == "ready"
    spec = client.get("/openapi.json").json()
    ops = {op["operationId"] for path in spec["paths"].values() for op in path.values()}
    assert {"listTitles", "getTitle", "startPlayback", "uploadVideo", "cancelJob"} <= ops


def test_unknown_route_is_problem_json(client: TestClient) -> None:
    resp = client.get("/v1/nope")
    assert resp.status_code == 404
    assert resp.headers["content-type"] == "application/problem+json"
    assert resp.json()["code"] == "not_found"


def test_missing_title_is_404_problem(client: TestClient) -> None:
    resp = client.get("/v1/titles/does-not-exist")
    assert resp.status_code == 404
    body = resp.json()
    assert body["code"] == "not_found"
    assert body["status"] == 404
    assert "does-not-exist" in body["detail"]


def test_playback_validation_and_mass_assignment(client: TestClient) -> None:
    resp = client.post("/v1/playback", json={}, headers=viewer_headers(client))
    assert resp.status_code == 422
    assert resp.json()["code"] == "validation_failed"
    resp = client.post(
        "/v1/playback",
        json={"title_id": "x", "is_admin": True},
        headers=viewer_headers(client),
    )
    assert resp.status_code == 422
    assert resp.headers["content-type"] == "application/problem+json"


def test_playback_of_unready_title_is_409(client: TestClient, runtime: Runtime) -> None:
    with session_scope(runtime.sessions) as s:
        processing, _ = make_title_with_asset(s, "Processing", AssetStatus.PROCESSING)
        bare = catalog.create_title(session=s, title="No media").id
    headers = viewer_headers(client)
    for title_id, state in ((processing, "processing"), (bare, "no_media")):
        resp = client.post("/v1/playback", json={"title_id": title_id}, headers=headers)
        assert resp.status_code == 409
        body = resp.json()
        assert body["code"] == "asset_not_ready"
        assert body["asset_status"] == state
    missing = client.post("/v1/playback", json={"title_id": "missing"}, headers=headers)
    assert missing.status_code == 404


def test_playback_of_ready_title(client: TestClient, runtime: Runtime) -> None:
    with session_scope(runtime.sessions) as s:
        title_id, asset_id = make_title_with_asset(s, "Ready", AssetStatus.READY)
    resp = client.post("/v1/playback", json={"title_id": title_id}, headers=viewer_headers(client))
    assert resp.status_code == 201
    body = resp.json()
    # Versioned, immutable URLs (a re-publish never changes what they return), signed for
    # the session: http://<origin>/s/<expires>.<session id>.<signature>/<asset>/v1/...
    signed = re.compile(
        rf"^http://testserver/s/[0-9]+\.{body['session_id']}\.[A-Za-z0-9_-]{{43}}/{asset_id}/v1/"
    )
    assert signed.match(body["hls"]) and body["hls"].endswith("/master.m3u8")
    assert signed.match(body["dash"]) and body["dash"].endswith("/manifest.mpd")
    assert body["session_id"] and body["expires_at"]
    listed = client.get(f"/v1/titles/{title_id}").json()
    assert listed["status"] == "ready"
    assert listed["poster_url"] == f"/media/{asset_id}/v1/poster.jpg"


def test_titles_keyset_pagination(client: TestClient, runtime: Runtime) -> None:
    with session_scope(runtime.sessions) as s:
        ids = {catalog.create_title(session=s, title=f"Title {i:02d}").id for i in range(7)}
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params = {"limit": 3} | ({"cursor": cursor} if cursor else {})
        page = client.get("/v1/titles", params=params).json()
        pages += 1
        seen += [item["id"] for item in page["items"]]
        for item in page["items"]:
            assert item["kind"] == "movie"
            assert item["status"] == "no_media"
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert len(seen) == 7 and set(seen) == ids
    assert client.get("/v1/titles", params={"q": "title 03"}).json()["items"][0]["title"] == (
        "Title 03"
    )


def test_bad_cursor_and_limit(client: TestClient) -> None:
    bad = client.get("/v1/titles", params={"cursor": "!!!not-a-cursor"})
    assert bad.status_code == 400
    assert bad.json()["code"] == "bad_request"
    assert client.get("/v1/titles", params={"limit": 0}).status_code == 422


def test_cors_preflight(client: TestClient) -> None:
    resp = client.options(
        "/v1/titles",
        headers={"Origin": "http://player.example", "Access-Control-Request-Method": "GET"},
    )
    assert resp.status_code == 200
    assert resp.headers["access-control-allow-origin"] in {"*", "http://player.example"}
    # A player on another origin stops its session; a console edits the catalog.
    for method, path in (("DELETE", "/v1/playback/x"), ("PATCH", "/v1/admin/catalog/titles/x")):
        pre = client.options(
            path,
            headers={
                "Origin": "http://player.example",
                "Access-Control-Request-Method": method,
                "Access-Control-Request-Headers": "authorization",
            },
        )
        assert pre.status_code == 200, (method, pre.text)
        assert method in pre.headers["access-control-allow-methods"]


def test_request_ids(client: TestClient) -> None:
    generated = client.get("/healthz").headers["x-request-id"]
    assert len(generated) == 32
    assert client.get("/healthz", headers={"X-Request-ID": "abc-123"}).headers["x-request-id"] == (
        "abc-123"
    )
    forged = client.get("/healthz", headers={"X-Request-ID": "bad id\nwith newline"})
    assert forged.headers["x-request-id"] != "bad id\nwith newline"
    # Errors carry it too, so a user's report can be matched to the server's log line.
    assert "x-request-id" in client.get("/v1/titles/missing").headers


def test_readyz_reports_unwritable_storage(client: TestClient, runtime: Runtime) -> None:
    # A file where readyz's probe objects go: storage refuses the write.
    blocker = runtime.settings.data_dir / "media" / "readyz"
    blocker.write_bytes(b"")
    try:
        resp = client.get("/readyz")
    finally:
        blocker.unlink()
    assert resp.status_code == 503
    assert resp.json()["code"] == "not_ready"
    assert "storage" in resp.json()["detail"]
    assert client.get("/readyz").status_code == 200
