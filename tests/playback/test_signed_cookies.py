"""Signed cookies (CloudFront style): POST /v1/playback with "signed": "cookie" hands out
plain /m/ URLs and a cookie scoped to the version's path that opens them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from http.cookies import SimpleCookie

import httpx2 as httpx
from fastapi.testclient import TestClient

from reelstack.assets.models import AssetStatus
from reelstack.db import session_scope
from reelstack.delivery.signing import COOKIE_NAME, url_signer
from reelstack.runtime import Runtime
from reelstack.storage.base import media_version_key
from tests.catalog.factories import make_title_with_asset
from tests.conftest import create_viewer, sign_in


def _title(runtime: Runtime, name: str, **kwargs: object) -> tuple[str, str]:
    with session_scope(runtime.sessions) as s:
        title_id, asset_id = make_title_with_asset(s, name, AssetStatus.READY, **kwargs)  # type: ignore[arg-type]
    for file in ("master.m3u8", "seg-0-00001.m4s"):
        runtime.storage.put_stream(media_version_key(asset_id, 1, file), [file.encode()])
    return title_id, asset_id


def _get(client: TestClient, path: str, cookie: str | None) -> httpx.Response:
    """GET with only this media cookie in the client's jar (or none)."""
    client.cookies.clear()
    if cookie is not None:
        client.cookies.set(COOKIE_NAME, cookie)
    try:
        return client.get(path)
    finally:
        client.cookies.clear()


def test_a_cookie_session_opens_its_version_and_nothing_else(
    client: TestClient, runtime: Runtime
) -> None:
    title_id, asset_id = _title(runtime, "Cookie feature", heights=(360, 720))
    _, other_asset = _title(runtime, "Other feature", heights=(360,))
    create_viewer(client, "cookie@example.com", plan="standard")
    who = sign_in(client, "cookie@example.com")
    resp = client.post(
        "/v1/playback", json={"title_id": title_id, "signed": "cookie"}, headers=who["headers"]
    )
    assert resp.status_code == 201, resp.text
    play = resp.json()
    prefix = f"http://testserver/m/{asset_id}/v1/"
    assert play["hls"] == f"{prefix}master.m3u8" and play["dash"] == f"{prefix}manifest.mpd"
    # The Set-Cookie header: path-scoped to the version, HttpOnly, SameSite=Lax, expiring
    # with the session; the body names the same cookie for native clients.
    cookie = SimpleCookie(resp.headers["set-cookie"])[COOKIE_NAME]
    assert cookie["path"] == f"/m/{asset_id}/v1/"
    assert cookie["httponly"] and cookie["samesite"].lower() == "lax"
    assert 6 * 3600 - 60 <= int(cookie["max-age"]) <= 6 * 3600
    assert play["cookie"]["value"] == cookie.value and play["cookie"]["name"] == COOKIE_NAME
    assert play["cookie"]["secure"] is False  # plain http here; https media sets Secure
    assert f".{play['session_id']}." in cookie.value

    seg = _get(client, f"/m/{asset_id}/v1/seg-0-00001.m4s", cookie.value)
    assert seg.status_code == 200 and seg.content == b"seg-0-00001.m4s"
    assert seg.headers["cache-control"] == "public, max-age=31536000, immutable"
    missing = _get(client, f"/m/{asset_id}/v1/seg-0-00001.m4s", None)
    assert missing.status_code == 403 and missing.json()["code"] == "media_cookie_required"
    # The cookie opens its own version only.
    other = _get(client, f"/m/{other_asset}/v1/seg-0-00001.m4s", cookie.value)
    assert other.status_code == 403 and other.json()["code"] == "invalid_url_token"
    tampered = cookie.value[:-2] + ("AA" if cookie.value[-2:] != "AA" else "BB")
    assert _get(client, f"/m/{asset_id}/v1/master.m3u8", tampered).status_code == 403
    signer = url_signer(runtime.settings)
    assert signer is not None
    old = signer.token(
        asset_id=asset_id,
        version=1,
        session_id=play["session_id"],
        expires=datetime.now(UTC) - timedelta(seconds=5),
    )
    expired = _get(client, f"/m/{asset_id}/v1/master.m3u8", old)
    assert expired.status_code == 410 and expired.json()["code"] == "url_token_expired"
    client.cookies.clear()


def test_a_capped_cookie_session_lists_plain_urls(client: TestClient, runtime: Runtime) -> None:
    from tests.media.test_limits import MASTER

    title_id, asset_id = _title(runtime, "Capped cookie", heights=(360, 720, 1080))
    runtime.storage.put_stream(media_version_key(asset_id, 1, "master.m3u8"), [MASTER.encode()])
    create_viewer(client, "capped-cookie@example.com", plan="basic")  # up to 720
    who = sign_in(client, "capped-cookie@example.com")
    play = client.post(
        "/v1/playback", json={"title_id": title_id, "signed": "cookie"}, headers=who["headers"]
    ).json()
    assert play["hls"].endswith(f"/v1/playback/{play['session_id']}/master.m3u8?signed=cookie")
    master = client.get(play["hls"])
    assert master.status_code == 200 and "1920x1080" not in master.text
    assert f"http://testserver/m/{asset_id}/v1/" in master.text and "/s/" not in master.text
    client.cookies.clear()


def test_path_tokens_stay_the_default(client: TestClient, runtime: Runtime) -> None:
    title_id, _ = _title(runtime, "Default feature", heights=(360,))
    create_viewer(client, "path@example.com", plan="standard")
    who = sign_in(client, "path@example.com")
    resp = client.post("/v1/playback", json={"title_id": title_id}, headers=who["headers"])
    assert resp.status_code == 201
    assert "/s/" in resp.json()["hls"] and resp.json()["cookie"] is None
    assert "set-cookie" not in resp.headers
    bad = client.post(
        "/v1/playback", json={"title_id": title_id, "signed": "jar"}, headers=who["headers"]
    )
    assert bad.status_code == 422
