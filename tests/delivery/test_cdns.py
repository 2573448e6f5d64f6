"""Multi-CDN: weighted choice among the healthy delivery networks, alternates, and a
network that stops answering its health check drops out (and comes back)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.responses import PlainTextResponse
from fastapi.testclient import TestClient

from reelstack.app import create_app
from reelstack.assets.models import AssetStatus
from reelstack.config import CdnConfig, Settings
from reelstack.db import session_scope
from reelstack.delivery.cdns import CdnSet
from reelstack.runtime import build_runtime
from tests.catalog.factories import make_title_with_asset
from tests.conftest import ADMIN_HEADERS, live_server, viewer_headers


def _config(name: str, weight: int = 1, base: str = "https://cdn.example") -> CdnConfig:
    return CdnConfig(name=name, base_url=f"{base}/{name}", weight=weight)  # type: ignore[arg-type]


def test_two_failures_drop_a_network_and_one_success_restores_it() -> None:
    cdns = CdnSet.of([_config("a", 3), _config("b", 1)])
    cdns.record("b", False, "timeout")
    assert [s.healthy for s in cdns.snapshot()] == [True, True]
    cdns.record("b", False, "timeout")
    assert [s.healthy for s in cdns.snapshot()] == [True, False]
    assert cdns.pick().primary == ("a", "https://cdn.example/a") and cdns.pick().alternates == []
    cdns.record("b", True)
    assert cdns.snapshot()[1].healthy and cdns.snapshot()[1].failures == 0
    cdns.record("a", False, "x")
    cdns.record("a", False, "x")
    cdns.record("b", False, "x")
    cdns.record("b", False, "x")
    assert cdns.pick().primary is None


def test_the_primary_is_chosen_by_weight_and_the_rest_are_alternates() -> None:
    cdns = CdnSet.of([_config("light", 1), _config("heavy", 3), _config("mid", 2)])
    seen: list[list[float]] = []

    def second(weights: list[float]) -> int:
        seen.append(weights)
        return 1

    pick = cdns.pick(second)
    assert seen == [[1.0, 3.0, 2.0]]
    assert pick.primary is not None and pick.primary[0] == "heavy"
    assert [name for name, _ in pick.alternates] == ["mid", "light"]
    counts = {"light": 0, "heavy": 0, "mid": 0}
    for _ in range(3000):
        primary = cdns.pick().primary
        assert primary is not None
        counts[primary[0]] += 1
    assert counts["heavy"] > counts["mid"] > counts["light"] > 300


class Health:
    """Health endpoints of two stand-in networks, switchable (a test double of
    /edge-health; the real edge's is tested in test_edge.py)."""

    def __init__(self) -> None:
        self.up = {"a": True, "b": True}
        self.app = FastAPI()

        @self.app.get("/{name}/edge-health")
        def health(name: str) -> PlainTextResponse:
            return PlainTextResponse("ok", status_code=200 if self.up.get(name) else 503)


@pytest.fixture
def networks() -> Iterator[tuple[str, Health]]:
    health = Health()
    with live_server(health.app) as base:
        yield base, health


@pytest.fixture
def cdn_client(settings: Settings, networks: tuple[str, Health]) -> Iterator[TestClient]:
    base, _ = networks
    configured = settings.model_copy(
        update={
            "cdns": [_config("a", 3, base), _config("b", 1, base)],
            "cdn_health_interval_s": 0.05,
        }
    )
    runtime = build_runtime(configured)
    try:
        with TestClient(create_app(runtime=runtime), headers=ADMIN_HEADERS) as client:
            yield client
    finally:
        runtime.close()


def _until(client: TestClient, healthy: dict[str, bool]) -> None:
    deadline = time.monotonic() + 10
    while True:
        states = {c["name"]: c["healthy"] for c in client.get("/v1/admin/cdns").json()}
        if states == healthy:
            return
        assert time.monotonic() < deadline, states
        time.sleep(0.05)


def test_playback_gets_a_healthy_network_and_the_others_as_alternates(
    cdn_client: TestClient, networks: tuple[str, Health]
) -> None:
    base, health = networks
    with session_scope(cdn_client.app.state.runtime.sessions) as s:  # type: ignore[attr-defined]
        title_id, _ = make_title_with_asset(s, "Everywhere", AssetStatus.READY)
    headers = viewer_headers(cdn_client)

    def play() -> dict[str, Any]:
        resp = cdn_client.post("/v1/playback", json={"title_id": title_id}, headers=headers)
        assert resp.status_code == 201, resp.text
        body: dict[str, Any] = resp.json()
        cdn_client.delete(f"/v1/playback/{body['session_id']}", headers=headers)
        return body

    _until(cdn_client, {"a": True, "b": True})
    body = play()
    assert body["cdn"] in ("a", "b")
    assert body["hls"].startswith(f"{base}/{body['cdn']}/s/")
    other = "b" if body["cdn"] == "a" else "a"
    assert [(alt["cdn"], alt["hls"].split("/s/")[0]) for alt in body["alternates"]] == [
        (other, f"{base}/{other}")
    ]
    # The same token behind every network.
    assert body["alternates"][0]["hls"].split("/s/")[1] == body["hls"].split("/s/")[1]

    health.up["b"] = False
    _until(cdn_client, {"a": True, "b": False})
    for _ in range(5):
        only = play()
        assert only["cdn"] == "a" and only["alternates"] == []
    health.up["a"] = False
    _until(cdn_client, {"a": False, "b": False})
    fallback = play()
    assert fallback["cdn"] is None and fallback["hls"].startswith("http://testserver/s/")
    health.up["b"] = True
    _until(cdn_client, {"a": False, "b": True})
    assert play()["cdn"] == "b"
    listed = cdn_client.get("/v1/admin/cdns").json()
    assert listed[0]["last_error"] == "HTTP 503" and listed[0]["weight"] == 3
    assert cdn_client.get("/v1/admin/cdns", headers=headers).status_code == 403
