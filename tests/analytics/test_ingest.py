"""POST /v1/events: per-event validation, deduplication, limits, clock skew, and which
playback sessions a caller may post for."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from reelstack.analytics.models import AnalyticsEvent, AnalyticsView
from reelstack.analytics.schemas import MAX_BATCH_BYTES, MAX_BATCH_EVENTS
from reelstack.db import session_scope, utcnow
from reelstack.playback.models import PlaybackSession
from reelstack.runtime import Runtime
from tests.analytics.conftest import COUNTRY_HEADER
from tests.analytics.factories import Play, event, make_title, now_ms, start_playback

# Beacons come without the admin key the suite's client sends by default.
ANONYMOUS = {"Authorization": ""}


def _post(client: TestClient, events: list[Any], **headers: str) -> Any:
    resp = client.post("/v1/events", json={"events": events}, headers={**ANONYMOUS, **headers})
    assert resp.status_code == 202, resp.text
    return resp.json()


def _stored(runtime: Runtime) -> list[AnalyticsEvent]:
    with session_scope(runtime.sessions) as s:
        return list(s.scalars(select(AnalyticsEvent).order_by(AnalyticsEvent.seq)))


def _play(client: TestClient, runtime: Runtime, email: str = "fan@example.com") -> Play:
    return start_playback(client, make_title(runtime), email)


def test_good_events_are_kept_and_bad_ones_reported(client: TestClient, runtime: Runtime) -> None:
    play = _play(client, runtime)
    sid, t = play.session_id, now_ms()
    events: list[Any] = [
        event(sid, "v1", "view_start", t - 3000, player_name="shaka", player_version="4.9"),
        event(sid, "v1", "play_requested", t - 2000, playhead_ms=0),
        event(sid, "v1", "teleport", t),  # 2: no such type
        {k: v for k, v in event(sid, "v1", "pause", t).items() if k != "event_id"},  # 3
        {**event(sid, "v1", "pause", t), "title_id": "x"},  # 4: unknown field
        event(sid, "v1", "rendition_change", t, width=640),  # 5: no bitrate
        event(sid, "v1", "heartbeat", t, stats="x" * 3000),  # 6: data over 2 KiB
        event(sid, "v1", "heartbeat", t - 25 * 3600 * 1000),  # 7: a day and more ago
        event(sid, "v1", "heartbeat", t + 10 * 60 * 1000),  # 8: ten minutes ahead
        event("0" * 32, "v2", "view_start", t),  # 9: no such session
        "not an event",  # 10
        event(sid, "v1", "first_frame", t - 1000, playhead_ms=0),
        event(sid, "v1", "rendition_change", t, bitrate=2_500_000, height=720),
        event(sid, "v1", "error", t, fatal=False, code=1001),
        event(sid, "v1", "heartbeat", t, playhead_ms=1000, dropped_frames=3, note="a\u0000b"),
        event(sid, "v1", "rendition_change", t, bitrate=-1),  # 15
        {**event(sid, "bad view id!", "pause", t)},  # 16
        event("bad\u0000id", "v1", "pause", t),  # 17
    ]
    out = _post(client, events, **{COUNTRY_HEADER: "fr"})
    reasons = {r["index"]: r["reason"] for r in out["rejected"]}
    assert reasons == {
        2: "invalid",
        3: "invalid",
        4: "invalid",
        5: "invalid",
        6: "invalid",
        7: "too_old",
        8: "in_future",
        9: "unknown_session",
        10: "invalid",
        15: "invalid",
        16: "invalid",
        17: "invalid",
    }
    details = {r["index"]: r["detail"] for r in out["rejected"]}
    assert details[3].startswith("event_id:")
    assert details[5].startswith("data.bitrate:") and "rendition_change" in details[5]
    assert "2048 bytes" in details[6]
    assert out == {**out, "accepted": 6, "duplicates": 0}

    stored = _stored(runtime)
    assert [row.type.value for row in stored] == [
        "view_start",
        "play_requested",
        "first_frame",
        "rendition_change",
        "error",
        "heartbeat",
    ]
    assert all(row.country == "FR" and row.view_id == "v1" for row in stored)
    assert stored[0].data == {"player_name": "shaka", "player_version": "4.9"}
    assert stored[5].data == {"dropped_frames": 3, "note": "a\u0000b"}
    assert stored[5].playhead_ms == 1000
    received = stored[0].received_at
    assert received.tzinfo is not None and abs(received - utcnow()) < timedelta(minutes=1)
    with session_scope(runtime.sessions) as s:
        view = s.get(AnalyticsView, "v1")
        assert view is not None
        assert (view.session_id, view.title_id, view.user_id) == (
            sid,
            play.title_id,
            play.user_id,
        )
        assert view.profile_id is not None and view.device_id is not None
        assert view.country == "FR"


def test_a_replayed_event_is_accepted_and_stored_once(client: TestClient, runtime: Runtime) -> None:
    sid, t = _play(client, runtime).session_id, now_ms()
    batch = [event(sid, "v1", "view_start", t), event(sid, "v1", "play_requested", t)]
    assert _post(client, batch) == {"accepted": 2, "duplicates": 0, "rejected": []}
    # The whole batch again (a retry after a lost answer), and one repeated within a batch.
    again = [*batch, event(sid, "v1", "first_frame", t + 1, event_id="ff")]
    again.append(event(sid, "v1", "first_frame", t + 2, event_id="ff"))
    assert _post(client, again) == {"accepted": 4, "duplicates": 3, "rejected": []}
    stored = _stored(runtime)
    assert [row.event_id for row in stored] == [batch[0]["event_id"], batch[1]["event_id"], "ff"]
    # The first copy of a repeated event is the one kept.
    assert stored[2].ts_ms == t + 1
    # The same event id in another view is another event.
    out = _post(client, [event(sid, "v2", "view_start", t, event_id="ff")])
    assert out["duplicates"] == 0 and len(_stored(runtime)) == 4


def test_batch_and_body_limits(client: TestClient, runtime: Runtime) -> None:
    sid, t = _play(client, runtime).session_id, now_ms()
    full = [event(sid, "v1", "heartbeat", t, playhead_ms=i) for i in range(MAX_BATCH_EVENTS)]
    assert _post(client, full)["accepted"] == MAX_BATCH_EVENTS
    assert len(_stored(runtime)) == MAX_BATCH_EVENTS

    over = [*full, event(sid, "v1", "heartbeat", t)]
    resp = client.post("/v1/events", json={"events": over}, headers=ANONYMOUS)
    assert resp.status_code == 413
    assert resp.headers["content-type"] == "application/problem+json"
    assert resp.json()["code"] == "batch_too_large"

    padded = json.dumps({"events": [], "pad": "x" * MAX_BATCH_BYTES})
    resp = client.post("/v1/events", content=padded, headers=ANONYMOUS)
    assert resp.status_code == 413 and resp.json()["code"] == "batch_too_large"

    # Sent in chunks without a Content-Length, the cap still holds.
    def chunks() -> Any:
        yield b'{"events": ['
        for _ in range(MAX_BATCH_BYTES // 1000 + 1):
            yield b" " * 1000

    resp = client.post("/v1/events", content=chunks(), headers=ANONYMOUS)
    assert resp.status_code == 413

    for body, status, code in [
        ("{not json", 400, "bad_request"),
        ("[" * 100_000, 400, "bad_request"),
        ('{"events": [{"data": {"x": NaN}}]}', 400, "bad_request"),
        ('{"events": {}}', 422, "validation_failed"),
        ('{"events": [], "extra": 1}', 422, "validation_failed"),
        ("[]", 422, "validation_failed"),
    ]:
        resp = client.post("/v1/events", content=body, headers=ANONYMOUS)
        assert (resp.status_code, resp.json()["code"]) == (status, code), body

    # sendBeacon posts text/plain: read as JSON all the same. An empty batch is fine.
    beacon = json.dumps({"events": [event(sid, "v1", "view_end", t)]})
    resp = client.post(
        "/v1/events", content=beacon, headers={**ANONYMOUS, "Content-Type": "text/plain"}
    )
    assert resp.status_code == 202 and resp.json()["accepted"] == 1
    assert _post(client, []) == {"accepted": 0, "duplicates": 0, "rejected": []}


def test_sessions_of_another_household_are_refused(client: TestClient, runtime: Runtime) -> None:
    title_id = make_title(runtime)
    mine = start_playback(client, title_id, "me@example.com")
    theirs = start_playback(client, title_id, "them@example.com")
    t = now_ms()
    # With my token: my session is taken, theirs refused.
    out = _post(
        client,
        [
            event(mine.session_id, "mine", "view_start", t),
            event(theirs.session_id, "theirs", "view_start", t),
        ],
        **mine.headers,
    )
    assert out["accepted"] == 1
    assert [(r["index"], r["reason"]) for r in out["rejected"]] == [(1, "other_household")]
    # Without a token the session id is the credential.
    out = _post(client, [event(theirs.session_id, "theirs", "view_start", t)])
    assert out["accepted"] == 1
    # A view belongs to the session of its first event: no other session joins it.
    out = _post(
        client,
        [
            event(theirs.session_id, "mine", "pause", t),
            event(mine.session_id, "mine", "pause", t),
            event(theirs.session_id, "new", "view_start", t),
            event(mine.session_id, "new", "pause", t),
        ],
    )
    assert out["accepted"] == 2
    assert [(r["index"], r["reason"]) for r in out["rejected"]] == [
        (0, "view_conflict"),
        (3, "view_conflict"),
    ]
    # A bad token is refused outright, not ignored.
    resp = client.post(
        "/v1/events",
        json={"events": [event(mine.session_id, "mine", "pause", t)]},
        headers={"Authorization": "Bearer eyJhbGciOiJFZERTQSJ9.e30.c2ln"},
    )
    assert resp.status_code == 401


def test_a_long_ended_session_takes_no_more_events(client: TestClient, runtime: Runtime) -> None:
    sid, t = _play(client, runtime).session_id, now_ms()
    with session_scope(runtime.sessions) as s:
        s.execute(
            update(PlaybackSession)
            .where(PlaybackSession.id == sid)
            .values(expires_at=utcnow() - timedelta(hours=23))
        )
    # Late batches after the session's URLs expired are still taken for a day...
    assert _post(client, [event(sid, "v1", "view_end", t)])["accepted"] == 1
    with session_scope(runtime.sessions) as s:
        s.execute(
            update(PlaybackSession)
            .where(PlaybackSession.id == sid)
            .values(expires_at=utcnow() - timedelta(hours=25))
        )
    # ... then no more.
    out = _post(client, [event(sid, "v1", "heartbeat", t)])
    assert out["accepted"] == 0 and out["rejected"][0]["reason"] == "session_closed"


def test_analytics_go_with_the_account(client: TestClient, runtime: Runtime) -> None:
    play = _play(client, runtime)
    other = start_playback(client, play.title_id, "stays@example.com")
    t = now_ms()
    _post(client, [event(play.session_id, "gone", "view_start", t)])
    _post(client, [event(other.session_id, "kept", "view_start", t)])
    assert client.delete("/v1/me", headers=play.headers).status_code == 204
    with session_scope(runtime.sessions) as s:
        assert s.scalars(select(AnalyticsView.id)).all() == ["kept"]
        assert s.scalar(select(func.count()).select_from(AnalyticsEvent)) == 1
