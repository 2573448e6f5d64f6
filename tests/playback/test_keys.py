"""HLS AES-128 keys and ClearKey licences behind live playback sessions, at the origin
and through a real nginx edge (never cached there)."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import update

from reelstack.app import create_app
from reelstack.config import Settings
from reelstack.db import session_scope
from reelstack.delivery.signing import Scheme, url_signer
from reelstack.media.encrypt import aes128_decrypt
from reelstack.playback.models import PlaybackSession
from reelstack.runtime import Runtime, build_runtime
from tests.catalog.factories import make_title_with_asset
from tests.conftest import ADMIN_HEADERS, create_viewer, live_server, sign_in, viewer_headers
from tests.delivery.test_edge import NGINX, SECRET, CountingApp, running_edge
from tests.playback.encrypted import KEY_LINE, Packaged, package_encrypted, publish

CLEARKEY = "org.w3.clearkey"


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@pytest.fixture(scope="module")
def packaged(tmp_path_factory: pytest.TempPathFactory) -> Packaged:
    return package_encrypted(tmp_path_factory.mktemp("encrypted"))


@pytest.fixture
def enc_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"encryption": "clearkey", "key_rotation_segments": 1})


@pytest.fixture
def enc_runtime(enc_settings: Settings) -> Iterator[Runtime]:
    rt = build_runtime(enc_settings)
    yield rt
    rt.close()


@pytest.fixture
def enc_client(enc_runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime=enc_runtime)) as c:
        yield c


def _play(
    client: TestClient | httpx.Client, title_id: str, headers: dict[str, str] | None = None
) -> dict[str, Any]:
    headers = headers or viewer_headers(client)
    resp = client.post("/v1/playback", json={"title_id": title_id}, headers=headers)
    assert resp.status_code == 201, resp.text
    body: dict[str, Any] = resp.json()
    return body


def _prefix(playback: dict[str, Any]) -> str:
    hls: str = playback["hls"]
    assert hls.endswith("/master.m3u8")
    return hls.removesuffix("master.m3u8")


def _key_uris(client: TestClient | httpx.Client, prefix: str) -> list[tuple[str, bytes]]:
    """(relative key URI, IV) of each segment of the first media playlist."""
    master = client.get(prefix + "master.m3u8").text
    playlist = next(line for line in master.splitlines() if line.startswith("video_"))
    text = client.get(prefix + playlist).text
    return [(uri, bytes.fromhex(iv)) for uri, iv in KEY_LINE.findall(text)]


def test_a_live_session_gets_each_key_and_the_segments_decrypt(
    enc_client: TestClient, enc_runtime: Runtime, packaged: Packaged
) -> None:
    title_id, asset_id = publish(enc_runtime, packaged)
    playback = _play(enc_client, title_id)
    prefix = _prefix(playback)
    assert f"/{asset_id}/v1/" in prefix and "/s/" in prefix
    declared = _key_uris(enc_client, prefix)
    # Rotation every segment: two segments, two keys, each with its own IV.
    assert len(declared) == 2 and len({uri for uri, _ in declared}) == 2
    expected = {f"keys/{k.kid.hex()}.key": k.key for k in packaged.hls_keys}
    master = enc_client.get(prefix + "master.m3u8").text
    playlist = next(line for line in master.splitlines() if line.startswith("video_"))
    segments = [
        line
        for line in enc_client.get(prefix + playlist).text.splitlines()
        if line.endswith(".m4s") and not line.startswith("#")
    ]
    for (uri, iv), segment in zip(declared, segments, strict=True):
        assert not uri.startswith(("/", "http"))  # relative: inherits the signed prefix
        resp = enc_client.get(prefix + uri)
        assert resp.status_code == 200, resp.text
        assert resp.headers["cache-control"] == "no-store"
        assert resp.headers["content-type"] == "application/octet-stream"
        assert len(resp.content) == 16 and resp.content == expected[uri]
        sealed = enc_client.get(prefix + segment).content
        clear = aes128_decrypt(sealed, resp.content, iv)
        assert clear[4:8] in (b"styp", b"moof")
        assert b"mdat" in clear
    # The licence URL came with the playback answer, under the same signed prefix.
    assert playback["drm"] == {"servers": {CLEARKEY: prefix + "drm/clearkey"}}


def test_clearkey_licence_answers_the_w3c_shape(
    enc_client: TestClient, enc_runtime: Runtime, packaged: Packaged
) -> None:
    title_id, _ = publish(enc_runtime, packaged)
    url = _prefix(_play(enc_client, title_id)) + "drm/clearkey"
    kid = _b64url(packaged.cenc_key.kid)
    resp = enc_client.post(url, json={"kids": [kid], "type": "temporary"})
    assert resp.status_code == 200, resp.text
    assert resp.headers["cache-control"] == "no-store"
    assert resp.json() == {
        "keys": [{"kty": "oct", "k": _b64url(packaged.cenc_key.key), "kid": kid}],
        "type": "temporary",
    }
    # The CDM's message as Shaka posts it: raw bytes, no JSON content type.
    raw = enc_client.post(url, content=f'{{"kids":["{kid}"],"type":"temporary"}}'.encode())
    assert raw.status_code == 200 and raw.json()["keys"][0]["kid"] == kid
    # An HLS key's id is not a licence; nor is an unknown id; nor malformed JSON.
    for unknown in (packaged.hls_keys[0].kid, b"\x07" * 16):
        refused = enc_client.post(url, json={"kids": [_b64url(unknown)], "type": "temporary"})
        assert refused.status_code == 404 and refused.json()["code"] == "key_not_found"
    bad = enc_client.post(url, content=b"not json")
    assert bad.status_code == 400 and bad.json()["code"] == "bad_licence_request"
    other = enc_client.post(url.replace("drm/clearkey", "drm/widevine"), json={"kids": [kid]})
    assert other.status_code == 404


def test_keys_and_licences_end_with_the_session(
    enc_client: TestClient, enc_runtime: Runtime, packaged: Packaged
) -> None:
    title_id, _ = publish(enc_runtime, packaged)
    headers = viewer_headers(enc_client)
    playback = _play(enc_client, title_id, headers)
    prefix = _prefix(playback)
    key_url = prefix + _key_uris(enc_client, prefix)[0][0]
    licence = {"kids": [_b64url(packaged.cenc_key.kid)], "type": "temporary"}
    assert enc_client.get(key_url).status_code == 200

    # The viewer stops it: keys and licences refused with a clear problem.
    stopped = enc_client.delete(f"/v1/playback/{playback['session_id']}", headers=headers)
    assert stopped.status_code == 204
    for resp in (
        enc_client.get(key_url),
        enc_client.post(prefix + "drm/clearkey", json=licence),
    ):
        assert resp.status_code == 410, resp.text
        assert resp.headers["content-type"].startswith("application/problem+json")
        assert resp.json()["code"] == "session_ended"

    # Heartbeats stop: once the lease lapses, the same.
    again = _play(enc_client, title_id, headers)
    again_key = _prefix(again) + _key_uris(enc_client, _prefix(again))[0][0]
    assert enc_client.get(again_key).status_code == 200
    with session_scope(enc_runtime.sessions) as s:
        s.execute(
            update(PlaybackSession)
            .where(PlaybackSession.id == again["session_id"])
            .values(lease_expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    lapsed = enc_client.get(again_key)
    assert lapsed.status_code == 410 and lapsed.json()["code"] == "session_ended"


def test_a_revoked_entitlement_ends_the_session_and_its_keys(
    enc_client: TestClient, enc_runtime: Runtime, packaged: Packaged
) -> None:
    title_id, _ = publish(enc_runtime, packaged, "Premium only", free=False)
    user_id = create_viewer(enc_client, "subscriber@test.example")
    headers = sign_in(enc_client, "subscriber@test.example")["headers"]
    playback = _play(enc_client, title_id, headers)
    prefix = _prefix(playback)
    key_url = prefix + _key_uris(enc_client, prefix)[0][0]
    beat = f"/v1/playback/{playback['session_id']}/heartbeat"
    assert enc_client.post(beat, headers=headers).status_code == 200
    assert enc_client.get(key_url).status_code == 200

    subs = enc_client.get(f"/v1/admin/users/{user_id}/subscriptions", headers=ADMIN_HEADERS)
    cancel = f"/v1/admin/users/{user_id}/subscriptions/{subs.json()[0]['id']}/cancel"
    assert enc_client.post(cancel, headers=ADMIN_HEADERS).status_code == 200
    # The next heartbeat decides again and ends the session; its keys go with it.
    ended = enc_client.post(beat, headers=headers)
    assert ended.status_code == 410 and ended.json()["code"] == "session_ended"
    assert ended.json()["reason"] == "not_entitled"
    refused = enc_client.get(key_url)
    assert refused.status_code == 410 and refused.json()["code"] == "session_ended"


def test_other_tokens_expired_tokens_and_other_keys_are_refused(
    enc_client: TestClient, enc_runtime: Runtime, packaged: Packaged
) -> None:
    title_id, asset_id = publish(enc_runtime, packaged)
    other_title, other_asset = publish(enc_runtime, packaged, "Other")
    headers = viewer_headers(enc_client)
    prefix = _prefix(_play(enc_client, title_id, headers))
    key_path = _key_uris(enc_client, prefix)[0][0]
    token = prefix.split("/s/", 1)[1].split("/", 1)[0]
    # The other asset's session token on this asset's key: 403, as for media.
    other_prefix = _prefix(_play(enc_client, other_title, headers))
    other_token = other_prefix.split("/s/", 1)[1].split("/", 1)[0]
    foreign = enc_client.get(f"/s/{other_token}/{asset_id}/v1/{key_path}")
    assert foreign.status_code == 403 and foreign.json()["code"] == "invalid_url_token"
    # This asset's token on the other asset's path: 403.
    assert enc_client.get(f"/s/{token}/{other_asset}/v1/{key_path}").status_code == 403
    # An expired token for the same live session: 410 url_token_expired.
    signer = url_signer(enc_runtime.settings)
    assert signer is not None
    sid = token.split(".")[1]
    expired = signer.token(
        asset_id=asset_id,
        version=1,
        session_id=sid,
        expires=datetime.now(UTC) - timedelta(minutes=1),
    )
    gone = enc_client.get(f"/s/{expired}/{asset_id}/v1/{key_path}")
    assert gone.status_code == 410 and gone.json()["code"] == "url_token_expired"
    # A key id this version does not have, or the CENC key asked as an HLS key: 404.
    for kid in ("0" * 32, packaged.cenc_key.kid.hex()):
        missing = enc_client.get(f"{prefix}keys/{kid}.key")
        assert missing.status_code == 404 and missing.json()["code"] == "key_not_found"


def test_a_clear_title_has_no_drm_and_no_keys(enc_client: TestClient, enc_runtime: Runtime) -> None:
    from reelstack.assets.models import AssetStatus

    with session_scope(enc_runtime.sessions) as s:
        title_id, _ = make_title_with_asset(s, "Clear", AssetStatus.READY, free=True)
    playback = _play(enc_client, title_id)
    assert playback["drm"] is None
    resp = enc_client.get(_prefix(playback) + f"keys/{'a' * 32}.key")
    assert resp.status_code == 404


def test_encryption_needs_url_signing(settings: Settings) -> None:
    with pytest.raises(ValueError, match="needs URL signing"):
        Settings.model_validate(
            {**settings.model_dump(), "encryption": "clearkey", "url_signing": "off"}
        )
    problems = settings.model_copy(update={"env": "production"}).production_problems()
    assert "REELSTACK_MEDIA_KEY_SECRET has its demo default" in problems


@pytest.mark.skipif(NGINX is None, reason="nginx is not installed")
@pytest.mark.parametrize("scheme", [Scheme.HMAC, Scheme.MD5])
def test_keys_pass_the_edge_uncached(
    enc_settings: Settings, packaged: Packaged, tmp_path: Path, scheme: Scheme
) -> None:
    """Two GETs of one key through a real nginx edge both reach the origin; the edge
    checks the token itself and keeps the origin's no-store."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        origin_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        with running_edge(tmp_path / "edge", origin_url, scheme) as edge:
            configured = enc_settings.model_copy(
                update={
                    "url_signing": scheme.value,
                    "url_signing_secret": SecretStr(SECRET),
                    "delivery_base_url": edge.url,
                }
            )
            rt = build_runtime(configured)
            try:
                title_id, asset_id = publish(rt, packaged)
                origin = CountingApp(create_app(runtime=rt))
                with live_server(origin, sock) as base, httpx.Client(base_url=base) as api:
                    prefix = _prefix(_play(api, title_id))
                    assert prefix.startswith(f"{edge.url}/s/")
                    key_path = _key_uris(api, prefix)[0][0]
                    name = key_path.split("/")[1]
                    for n in (1, 2):
                        resp = httpx.get(prefix + key_path)
                        assert resp.status_code == 200, resp.text
                        assert len(resp.content) == 16
                        assert resp.headers["cache-control"] == "no-store"
                        assert resp.headers.get("x-cache-status") != "HIT"
                        assert origin.fetches(asset_id, 1, f"keys/{name}") == n
                    licence = httpx.post(
                        prefix + "drm/clearkey",
                        json={"kids": [_b64url(packaged.cenc_key.kid)], "type": "temporary"},
                    )
                    assert licence.status_code == 200, licence.text
                    assert licence.headers["cache-control"] == "no-store"
                    # A tampered token is refused by the edge itself.
                    _head, sig = prefix.split("/s/", 1)[1].split("/", 1)[0].rsplit(".", 1)
                    bad_sig = ("B" if sig[0] == "A" else "A") + sig[1:]
                    bad = httpx.get(prefix.replace(sig, bad_sig) + key_path)
                    assert bad.status_code == 403
                    assert origin.fetches(asset_id, 1, f"keys/{name}") == 2
            finally:
                rt.close()


def test_a_cookie_session_gets_its_keys_and_licence_with_the_cookie(
    enc_client: TestClient, enc_runtime: Runtime, packaged: Packaged
) -> None:
    """Signed-cookie mode: the relative key URIs resolve under /m/..., the licence URL
    too; both take the cookie's token; a revoked asset's keys are refused at once."""
    from http.cookies import SimpleCookie

    from reelstack.delivery.signing import COOKIE_NAME

    title_id, asset_id = publish(enc_runtime, packaged)
    resp = enc_client.post(
        "/v1/playback",
        json={"title_id": title_id, "signed": "cookie"},
        headers=viewer_headers(enc_client),
    )
    assert resp.status_code == 201, resp.text
    playback = resp.json()
    prefix = _prefix(playback)
    assert f"/m/{asset_id}/v1/" in prefix
    assert playback["drm"] == {"servers": {CLEARKEY: prefix + "drm/clearkey"}}
    cookie = SimpleCookie(resp.headers["set-cookie"])[COOKIE_NAME].value
    enc_client.cookies.clear()
    enc_client.cookies.set(COOKIE_NAME, cookie)
    uri, _ = _key_uris(enc_client, prefix)[0]
    key = enc_client.get(prefix + uri)
    assert key.status_code == 200 and len(key.content) == 16
    assert key.headers["cache-control"] == "no-store"
    licence = {"kids": [_b64url(packaged.cenc_key.kid)], "type": "temporary"}
    granted = enc_client.post(prefix + "drm/clearkey", json=licence)
    assert granted.status_code == 200, granted.text
    assert granted.json()["keys"][0]["k"] == _b64url(packaged.cenc_key.key)
    enc_client.cookies.clear()
    missing = enc_client.get(prefix + uri)
    assert missing.status_code == 403 and missing.json()["code"] == "media_cookie_required"
    # Revoked: keys and licences go with the media (the path form too).
    revoke = enc_client.post(
        f"/v1/admin/assets/{asset_id}/purge", json={"revoke": True}, headers=ADMIN_HEADERS
    )
    assert revoke.status_code == 202
    enc_client.app.state.revoked_assets.refresh()  # type: ignore[attr-defined]
    enc_client.cookies.set(COOKIE_NAME, cookie)
    for refused in (
        enc_client.get(prefix + uri),
        enc_client.post(prefix + "drm/clearkey", json=licence),
    ):
        assert refused.status_code == 410 and refused.json()["code"] == "media_revoked"
    enc_client.cookies.clear()
