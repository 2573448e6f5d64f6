"""The player falls back to an alternate delivery network when the primary one fails
to serve the session's manifest (its health check had not noticed yet)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.responses import PlainTextResponse

from reelstack.app import create_app
from reelstack.delivery.cdns import Pick
from reelstack.media.testclips import make_test_clip
from reelstack.runtime import Runtime
from tests.browser.test_player import (
    _browser_runtime,
    _make_viewer,
    _play_past,
    _ready_title,
    _sign_in_as_viewer,
    page,
)
from tests.conftest import live_server

__all__ = ["page"]
pytestmark = [pytest.mark.browser, pytest.mark.e2e]


class _FixedNetworks:
    """Stands in for the app's CdnSet: always this primary and these alternates."""

    def __init__(self, pick: Pick) -> None:
        self._pick = pick

    def pick(self) -> Pick:
        return self._pick

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def snapshot(self) -> list[Any]:
        return []


def _broken_network() -> FastAPI:
    """Healthy by its health check, but every media request fails (502)."""
    app = FastAPI()

    @app.get("/edge-health")
    def health() -> PlainTextResponse:
        return PlainTextResponse("ok")

    @app.get("/{path:path}")
    def media(path: str) -> PlainTextResponse:
        return PlainTextResponse(f"bad gateway: {path}", status_code=502)

    return app


@pytest.fixture
def served(runtime: Runtime, tmp_path: Path) -> Iterator[tuple[str, str, Runtime]]:
    rt = _browser_runtime(runtime)
    clip = make_test_clip(tmp_path / "play.mp4", width=320, height=180, duration_s=6)
    ids = _ready_title(rt, clip, "Fallback clip")
    app = create_app(runtime=rt)
    with live_server(_broken_network()) as broken, live_server(app) as base:
        app.state.cdns = _FixedNetworks(
            Pick(primary=("broken", broken), alternates=[("origin", base)])
        )
        yield base, ids.title_id, rt
    rt.close()


def test_the_player_falls_back_to_the_alternate_network(
    served: tuple[str, str, Runtime], page: Any
) -> None:
    base, title_id, rt = served
    _make_viewer(rt)
    page.goto(f"{base}/app/?title={title_id}&protocol=dash&autoplay=1")
    _sign_in_as_viewer(page)
    assert _play_past(page, 2.0) > 2.0
    manifest = page.evaluate("window.__reelstack.player.getAssetUri()")
    assert manifest.startswith(f"{base}/s/")
    assert page.is_hidden("#error")
