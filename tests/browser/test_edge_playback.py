"""A real browser plays through a real nginx edge (Playwright, Debian's Chromium).

The origin app runs under uvicorn with ``delivery_base_url`` set to an nginx edge
rendered by ``reelstack.delivery.edge`` (started as in tests/delivery/test_edge.py) in
front of it, so ``POST /v1/playback`` hands the player signed ``/s/<token>/...`` URLs on
the edge. The viewer signs in on the origin's page; Shaka fetches the manifest and every
segment from the edge (cross-origin), and plays past 3 s with no player error: a MISS
the first time. Played again (a new playback session, so new tokens), the segments come
from the edge's cache (HIT) and the origin is asked for no file a second time. A segment
URL with its signature tampered is refused by the edge (403). DASH with hmac tokens (njs
at the edge), HLS with md5 tokens (stock secure_link).
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx2 as httpx
import pytest
from pydantic import SecretStr

from reelstack.app import WEB_DIR, create_app
from reelstack.config import Settings
from reelstack.delivery.signing import Scheme
from reelstack.media.testclips import make_test_clip
from reelstack.runtime import Runtime, build_runtime
from tests.browser.test_player import (
    CHROMIUM,
    _make_viewer,
    _play_past,
    _playback_sessions,
    _ready_title,
    _require,
    _sign_in_as_viewer,
    page,
)
from tests.conftest import live_server
from tests.delivery.test_edge import NGINX, SECRET, CountingApp, Edge, running_edge

__all__ = ["page"]

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

MANIFESTS = (".mpd", ".m3u8")


@dataclass
class Served:
    base: str
    edge: Edge
    origin: CountingApp
    title_id: str
    runtime: Runtime


@dataclass(frozen=True)
class Seen:
    """One response the page received."""

    url: str
    status: int
    cache: str | None

    @property
    def file(self) -> str:
        """``<asset>/v<n>/<file>`` of a signed media URL (the token left out)."""
        parts = urlsplit(self.url).path.split("/")
        assert parts[1] == "s" and len(parts) == 6, self.url
        return "/".join(parts[3:])


@pytest.fixture
def edge_served(
    request: pytest.FixtureRequest, settings: Settings, tmp_path: Path
) -> Iterator[Served]:
    """The app on a loopback port behind an nginx edge on another, its players' media
    URLs on the edge (signed with ``request.param``'s scheme and the edge's secret), with
    one ready two-rung title."""
    scheme = Scheme(request.param)
    _require(Path(CHROMIUM).exists(), "Chromium is not installed (apt-get install chromium)")
    _require((WEB_DIR / "index.html").is_file(), "web assets not built (make web)")
    _require(NGINX is not None, "nginx is not installed (apt-get install nginx)")
    with socket.socket() as sock:
        # Bound first: the edge must know the origin, and the origin the edge.
        sock.bind(("127.0.0.1", 0))
        origin_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        with running_edge(tmp_path / "edge", origin_url, scheme) as edge:
            configured = settings.model_copy(
                update={
                    "ladder": "tiny",
                    "playback_heartbeat_interval_s": 2,
                    "url_signing": scheme.value,
                    "url_signing_secret": SecretStr(SECRET),
                    "delivery_base_url": edge.url,
                }
            )
            rt = build_runtime(configured)
            try:
                clip = make_test_clip(tmp_path / "edge.mp4", width=320, height=180, duration_s=8)
                ids = _ready_title(rt, clip, "Edge clip")
                origin = CountingApp(create_app(runtime=rt))
                with live_server(origin, sock) as base:
                    assert base == origin_url
                    yield Served(base, edge, origin, ids.title_id, rt)
            finally:
                rt.close()


def _record(page: Any) -> list[Seen]:
    """Every response the page gets from now on."""
    seen: list[Seen] = []

    def on_response(response: Any) -> None:
        seen.append(Seen(response.url, response.status, response.headers.get("x-cache-status")))

    page.on("response", on_response)
    return seen


def _play(page: Any, served: Served, protocol: str) -> str:
    """Open the title's deep link (signed in already, or through the form) until it
    plays past 3 s with no player error; returns the manifest URL the player loaded."""
    page.goto(f"{served.base}/app/?title={served.title_id}&protocol={protocol}&autoplay=1")
    page.wait_for_function(
        "() => ['sign-in', 'catalog'].includes(window.__reelstack.view)", timeout=15_000
    )
    if page.evaluate("window.__reelstack.view") == "sign-in":
        _sign_in_as_viewer(page)
    assert _play_past(page, 3.0) > 3.0
    assert page.evaluate("document.getElementById('video').paused") is False
    assert page.evaluate("window.__reelstack.errors") == []
    assert [str(exc) for exc in page.page_errors(filter="all")] == []
    manifest: str = page.evaluate("window.__reelstack.player.getAssetUri()")
    return manifest


def _media(seen: list[Seen], served: Served) -> list[Seen]:
    """The signed media the page fetched, after checking that all of it came from the
    edge, answered, with the edge's cache status."""
    origin_media = [s.url for s in seen if s.url.startswith(f"{served.base}/s/")]
    assert origin_media == [], "media fetched from the origin, not the edge"
    media = [s for s in seen if s.url.startswith(f"{served.edge.url}/")]
    assert media, "nothing fetched from the edge"
    for item in media:
        assert item.url.startswith(f"{served.edge.url}/s/"), item.url
        assert item.status in (200, 206), item
        assert item.cache in ("MISS", "HIT"), item
    return media


def _segments(media: list[Seen]) -> list[Seen]:
    segments = [s for s in media if s.url.endswith(".m4s")]
    assert segments, "no segments fetched"
    return segments


def _wait_for_streams_to_end(rt: Runtime, user_id: str) -> None:
    deadline = time.monotonic() + 10
    while any(row.ended_at is None for row in _playback_sessions(rt, user_id)):
        assert time.monotonic() < deadline, "leaving the page did not end the stream"
        time.sleep(0.1)


def _tamper(url: str) -> str:
    """``url`` with one character of its token's signature changed."""
    parts = urlsplit(url)
    segments = parts.path.split("/")
    head, sig = segments[2].rsplit(".", 1)
    flipped = sig[:5] + ("B" if sig[5] == "A" else "A") + sig[6:]
    segments[2] = f"{head}.{flipped}"
    return parts._replace(path="/".join(segments)).geturl()


def _media_fetches(origin: CountingApp) -> int:
    """Requests for signed media that reached the origin (the edge's misses)."""
    return sum(n for path, n in origin.hits.items() if path.startswith("/s/"))


@pytest.mark.parametrize(
    ("edge_served", "protocol"),
    [pytest.param("hmac", "dash", id="dash-hmac"), pytest.param("md5", "hls", id="hls-md5")],
    indirect=["edge_served"],
)
def test_player_streams_through_the_edge_then_from_its_cache(
    edge_served: Served, page: Any, protocol: str
) -> None:
    served = edge_served
    edge = served.edge
    user_id = _make_viewer(served.runtime)
    seen = _record(page)

    # First play: everything from the edge, each file a MISS the first time it is seen.
    manifest = _play(page, served, protocol)
    assert manifest.startswith(f"{edge.url}/s/")
    assert manifest.endswith(".mpd" if protocol == "dash" else ".m3u8")
    first = _media(seen, served)
    assert any(s.url == manifest for s in first)
    first_segments = _segments(first)
    firsts: dict[str, Seen] = {}
    for item in first:
        firsts.setdefault(item.file, item)
    assert {s.cache for s in firsts.values()} == {"MISS"}, firsts
    # The page and the API stayed on the origin.
    assert any(s.url.startswith(f"{served.base}/v1/playback") for s in seen)

    # Again, in a new playback session (new tokens): the files played before are HITs,
    # and the origin was asked for each file once in all.
    page.goto("about:blank")
    _wait_for_streams_to_end(served.runtime, user_id)
    seen.clear()
    again_manifest = _play(page, served, protocol)
    assert again_manifest != manifest  # another session's token
    assert again_manifest.startswith(f"{edge.url}/s/")
    again = _media(seen, served)
    replayed = [s for s in _segments(again) if s.file in firsts]
    assert replayed, "the second play fetched none of the first play's segments"
    assert {s.cache for s in replayed} == {"HIT"}, replayed
    assert next(s for s in again if s.url == again_manifest).cache == "HIT"
    for file in {s.file for s in first + again}:
        asset, version, name = file.split("/")
        assert served.origin.fetches(asset, int(version[1:]), name) == 1, file
    assert "cache=HIT" in edge.log("access.log")

    # A segment URL the browser was given, its signature tampered: refused at the edge,
    # the untouched URL still served from the cache. (With the page's Origin, as the
    # browser sent it: the origin answers "Vary: Origin", so the edge keeps one copy per
    # Origin header and a request without one would be a MISS.)
    url = first_segments[-1].url
    # Media fetches only: the page keeps sending beacons and heartbeats to the API.
    fetched_before = _media_fetches(served.origin)
    refused = httpx.get(_tamper(url))
    assert refused.status_code == 403, refused.text
    assert refused.json()["code"] == "invalid_url_token"
    good = httpx.get(url, headers={"Origin": served.base})
    assert good.status_code == 200
    assert good.headers["x-cache-status"] == "HIT"
    assert _media_fetches(served.origin) == fetched_before
