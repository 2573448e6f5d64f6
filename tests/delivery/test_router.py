"""Delivery from any Storage: streamed ranged reads, and nothing left open when a player
aborts a request half-way."""

from __future__ import annotations

import gc
import socket
import time
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient

from reelstack.app import create_app
from reelstack.delivery.router import parse_range
from reelstack.errors import BadRequest, RangeNotSatisfiable
from reelstack.runtime import Runtime
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


def test_only_versioned_plain_names_are_served(client: TestClient, runtime: Runtime) -> None:
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
    runtime.storage.put_stream("assets/a1/media/v1/seg-0-00001.m4s", [big])
    with live_server(create_app(runtime=runtime)) as base:
        url = urlsplit(base)
        for _ in range(3):
            with socket.create_connection((url.hostname, url.port)) as sock:
                sock.sendall(b"GET /media/a1/v1/seg-0-00001.m4s HTTP/1.1\r\nHost: x\r\n\r\n")
                assert sock.recv(65536).startswith(b"HTTP/1.1 200")
            # The client is gone after one read: the server stops mid-object.
        time.sleep(0.5)
        gc.collect()  # an unclosed file would raise ResourceWarning (an error here)
    gc.collect()
