"""Delivery from any Storage: streamed ranged reads, and nothing left open when a player
aborts a request half-way."""

from __future__ import annotations

import gc
import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient

from reelstack.app import create_app
from reelstack.config import Settings
from reelstack.delivery.router import parse_range
from reelstack.delivery.signing import url_signer
from reelstack.errors import BadRequest, RangeNotSatisfiable
from reelstack.runtime import Runtime, build_runtime
from tests.conftest import live_server


def test_parse_range() -> None:
    assert parse_range("bytes=0-9", 100) == (0, 10)
    assert parse_range("bytes=90-", 100) == (90, 100)
    assert parse_range("bytes=95-200", 100) == (95, 100)
    assert parse_range("bytes=-10", 100) == (90, 100)
    assert parse_range("bytes=-500", 100) == (0, 100)
    for bad in ("bytes=", "bytes=a-b", "pages=1-2", "bytes=5-1", "bytes=0-1,5-6"):
        with pytest.raises(BadRequest):
            parse_range(bad, 100)
    for outside in ("bytes=100-", "bytes=-0"):
        with pytest.raises(RangeNotSatisfiable) as info:
            parse_range(outside, 100)
        assert info.value.headers == {"content-range": "bytes */100"}


ASSET = "0123456789abcdef0123456789abcdef"
SESSION = "fedcba9876543210fedcba9876543210"


def _signed(runtime: Runtime, path: str, *, asset: str = ASSET, version: int = 1) -> str:
    signer = url_signer(runtime.settings)
    assert signer is not None
    expires = datetime.now(UTC) + timedelta(hours=1)
    token = signer.token(asset_id=asset, version=version, session_id=SESSION, expires=expires)
    return f"/s/{token}/{path}"


@pytest.fixture
def unsigned(settings: Settings) -> Iterator[TestClient]:
    """The app with URL signing off (development): plain /media/ URLs for everything."""
    rt = build_runtime(settings.model_copy(update={"url_signing": "off"}))
    try:
        with TestClient(create_app(runtime=rt)) as c:
            yield c
    finally:
        rt.close()


def test_signed_urls_open_one_version_and_expire(client: TestClient, runtime: Runtime) -> None:
    for name in ("master.m3u8", "poster.jpg"):
        runtime.storage.put_stream(f"assets/{ASSET}/media/v1/{name}", [b"#EXTM3U\n"])
        runtime.storage.put_stream(f"assets/{ASSET}/media/v2/{name}", [b"#EXTM3U\n"])
    good = client.get(_signed(runtime, f"{ASSET}/v1/master.m3u8"))
    assert good.status_code == 200 and good.content == b"#EXTM3U\n"
    assert good.headers["cache-control"] == "public, max-age=31536000, immutable"
    # Artwork is public; the rest needs the token.
    assert client.get(f"/media/{ASSET}/v1/poster.jpg").status_code == 200
    plain = client.get(f"/media/{ASSET}/v1/master.m3u8")
    assert plain.status_code == 403 and plain.json()["code"] == "signed_url_required"
    token = _signed(runtime, "").split("/")[2]
    other_version = client.get(f"/s/{token}/{ASSET}/v2/master.m3u8")
    assert other_version.status_code == 403
    assert other_version.json()["code"] == "invalid_url_token"
    other_asset = client.get(f"/s/{token}/{'1' * 32}/v1/master.m3u8")
    assert other_asset.status_code == 403
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    assert client.get(f"/s/{tampered}/{ASSET}/v1/master.m3u8").status_code == 403
    assert client.get(f"/s/garbage/{ASSET}/v1/master.m3u8").status_code == 403
    signer = url_signer(runtime.settings)
    assert signer is not None
    past = datetime.now(UTC) - timedelta(seconds=5)
    old = signer.token(asset_id=ASSET, version=1, session_id=SESSION, expires=past)
    expired = client.get(f"/s/{old}/{ASSET}/v1/master.m3u8")
    assert expired.status_code == 410 and expired.json()["code"] == "url_token_expired"


def test_only_versioned_plain_names_are_served(unsigned: TestClient, runtime: Runtime) -> None:
    client = unsigned
    runtime.storage.put_stream("assets/a1/media/v1/master.m3u8", [b"#EXTM3U\n"])
    runtime.storage.put_stream("assets/a1/source/original.mp4", [b"secret"])
    assert client.get("/media/a1/v1/master.m3u8").status_code == 200
    for path in (
        "/media/a1/master.m3u8",  # unversioned
        "/media/a1/v0/master.m3u8",
        "/media/a1/v1/../source/original.mp4",
        "/media/a1/v1/%2e%2e/source/original.mp4",
        "/media/a1/v1/.hidden.m3u8",
        "/media/a1/v1/master.exe",
        "/media/..%2fassets/v1/master.m3u8",
    ):
        resp = client.get(path)
        assert resp.status_code == 404, path
        assert resp.headers["content-type"] == "application/problem+json"


def test_aborted_download_closes_the_object(runtime: Runtime) -> None:
    big = b"\x00" * (6 * 1024 * 1024)  # several read chunks
    runtime.storage.put_stream(f"assets/{ASSET}/media/v1/seg-0-00001.m4s", [big])
    path = _signed(runtime, f"{ASSET}/v1/seg-0-00001.m4s")
    with live_server(create_app(runtime=runtime)) as base:
        url = urlsplit(base)
        for _ in range(3):
            with socket.create_connection((url.hostname, url.port)) as sock:
                sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
                assert sock.recv(65536).startswith(b"HTTP/1.1 200")
            # The client is gone after one read: the server stops mid-object.
        time.sleep(0.5)
        gc.collect()  # an unclosed file would raise ResourceWarning (an error here)
    gc.collect()
