"""Player events and real playback sessions for the analytics tests."""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient

from reelstack.assets.models import AssetStatus
from reelstack.db import session_scope
from reelstack.runtime import Runtime
from tests.catalog.factories import make_title_with_asset
from tests.conftest import create_viewer, sign_in

_ids = itertools.count(1)


def now_ms() -> int:
    return int(time.time() * 1000)


def event(
    session_id: str,
    view_id: str,
    type_: str,
    ts: int,
    *,
    event_id: str | None = None,
    playhead_ms: int | None = None,
    **data: Any,
) -> dict[str, Any]:
    """One event as a player sends it (a fresh ``event_id`` unless given)."""
    body: dict[str, Any] = {
        "event_id": event_id or f"ev-{next(_ids)}",
        "view_id": view_id,
        "session_id": session_id,
        "type": type_,
        "ts": ts,
        "data": data,
    }
    if playhead_ms is not None:
        body["playhead_ms"] = playhead_ms
    return body


@dataclass(frozen=True)
class Play:
    session_id: str
    title_id: str
    user_id: str
    # The viewer's bearer header.
    headers: dict[str, str]


def make_title(runtime: Runtime, name: str = "Feature") -> str:
    with session_scope(runtime.sessions) as s:
        title_id, _ = make_title_with_asset(s, name, AssetStatus.READY)
    return title_id


def start_playback(client: TestClient, title_id: str, email: str) -> Play:
    """A new viewer (Premium, profile picked) and a real playback session of ``title_id``."""
    user_id = create_viewer(client, email)
    who = sign_in(client, email)
    resp = client.post("/v1/playback", json={"title_id": title_id}, headers=who["headers"])
    assert resp.status_code == 201, resp.text
    return Play(
        session_id=resp.json()["session_id"],
        title_id=title_id,
        user_id=user_id,
        headers=who["headers"],
    )
