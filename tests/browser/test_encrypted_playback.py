"""Chromium plays encrypted media through a real nginx edge: HLS AES-128 (Shaka fetches
each segment's key from the relative key URI, under the session's signed prefix) and
DASH CENC with ClearKey (EME, the licence server the playback answer named). Keys and
licences pass the edge uncached; after the session ended a new key fetch fails.

One encrypted title (a tiny clip through the real pipeline, REELSTACK_ENCRYPTION=
clearkey, a new HLS key every segment) serves both protocols.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from pydantic import SecretStr

from reelstack.app import WEB_DIR, create_app
from reelstack.config import Settings
from reelstack.delivery.signing import Scheme
from reelstack.media.testclips import make_test_clip
from reelstack.runtime import build_runtime
from reelstack.storage import media_version_key
from tests.browser.test_edge_playback import (
    Seen,
    Served,
    _play,
    _record,
    _wait_for_streams_to_end,
)
from tests.browser.test_player import CHROMIUM, _make_viewer, _ready_title, _require, page
from tests.conftest import live_server
from tests.delivery.test_edge import NGINX, SECRET, CountingApp, running_edge

__all__ = ["page"]

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


@pytest.fixture
def encrypted_served(settings: Settings, tmp_path: Path) -> Iterator[Served]:
    """The app behind an nginx edge (hmac tokens), one ready title packaged encrypted."""
    _require(Path(CHROMIUM).exists(), "Chromium is not installed (apt-get install chromium)")
    _require((WEB_DIR / "index.html").is_file(), "web assets not built (make web)")
    _require(NGINX is not None, "nginx is not installed (apt-get install nginx)")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        origin_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        with running_edge(tmp_path / "edge", origin_url, Scheme.HMAC) as edge:
            configured = settings.model_copy(
                update={
                    "ladder": "tiny",
                    "playback_heartbeat_interval_s": 2,
                    "url_signing": "hmac",
                    "url_signing_secret": SecretStr(SECRET),
                    "delivery_base_url": edge.url,
                    "encryption": "clearkey",
                    "key_rotation_segments": 1,
                }
            )
            rt = build_runtime(configured)
            try:
                clip = make_test_clip(tmp_path / "enc.mp4", width=320, height=180, duration_s=8)
                ids = _ready_title(rt, clip, "Encrypted clip")
                origin = CountingApp(create_app(runtime=rt))
                with live_server(origin, sock) as base:
                    yield Served(base, edge, origin, ids.title_id, rt)
            finally:
                rt.close()


def _keys(seen: list[Seen], served: Served) -> list[Seen]:
    return [s for s in seen if s.url.startswith(f"{served.edge.url}/s/") and "/keys/" in s.url]


def test_chromium_plays_aes128_hls_and_clearkey_dash_through_the_edge(
    encrypted_served: Served, page: Any
) -> None:
    served = encrypted_served
    rt = served.runtime
    user_id = _make_viewer(rt)
    asset_id, version = _asset_version(served)
    # Stored encrypted only: the HLS segments do not parse as fMP4 and DASH has its own.
    sealed = rt.storage.read_bytes(media_version_key(asset_id, version, "seg-0-00001.m4s"))
    assert sealed[4:8] not in (b"styp", b"moof", b"sidx")
    cenc = rt.storage.read_bytes(media_version_key(asset_id, version, "cenc-seg-0-00001.m4s"))
    assert b"senc" in cenc[:8192]

    # HLS AES-128: Shaka fetched each period's key (two segments, two keys) through the
    # edge, which passed them on uncached.
    seen = _record(page)
    _play(page, served, "hls")
    keys = _keys(seen, served)
    assert keys, "no key fetched"
    assert {k.status for k in keys} == {200}
    assert {k.cache for k in keys} == {"BYPASS"}
    key_url = keys[0].url

    # DASH CENC: the ClearKey licence came from the URL of the playback answer.
    page.goto("about:blank")
    _wait_for_streams_to_end(rt, user_id)
    seen.clear()
    _play(page, served, "dash")
    licences = [s for s in seen if s.url.endswith("/drm/clearkey")]
    assert licences and {s.status for s in licences} == {200}, licences
    assert licences[0].url.startswith(f"{served.edge.url}/s/")
    assert page.evaluate("window.__reelstack.player.drmInfo().keySystem") == "org.w3.clearkey"

    # That HLS session has ended (the page left it): its key is refused, at the origin
    # behind the edge, with the session_ended problem.
    refused = httpx.get(key_url)
    assert refused.status_code == 410, refused.text
    assert refused.json()["code"] == "session_ended"


def _asset_version(served: Served) -> tuple[str, int]:
    from reelstack.assets.models import Asset
    from reelstack.catalog import service as catalog
    from reelstack.db import session_scope

    with session_scope(served.runtime.sessions) as s:
        asset_id = catalog.playable(session=s, title_id=served.title_id).main_asset_id
        asset = s.get(Asset, asset_id)
        assert asset is not None and asset.version is not None
        assert asset.encryption == "clearkey"
        return asset.id, asset.version
