"""The edge purge feed: purge and revoke records, numbered, read by edges from where
they stopped."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient

from reelstack.assets.models import AssetStatus
from reelstack.db import session_scope
from reelstack.runtime import Runtime
from tests.catalog.factories import make_title_with_asset
from tests.conftest import viewer_headers


def test_purges_and_revocations_reach_the_feed_in_order(
    client: TestClient, runtime: Runtime
) -> None:
    with session_scope(runtime.sessions) as s:
        _, kept = make_title_with_asset(s, "Kept", AssetStatus.READY)
        _, gone = make_title_with_asset(s, "Gone", AssetStatus.READY)
    assert client.get("/v1/admin/edge/purges").json() == {"items": [], "last_seq": 0}
    purged = client.post(f"/v1/admin/assets/{kept}/purge", json={})
    assert purged.status_code == 202 and purged.json()["action"] == "purge"
    revoked = client.post(f"/v1/admin/assets/{kept}/purge", json={"revoke": True})
    assert revoked.json()["action"] == "revoke"
    # Deleting an asset revokes its URLs at the edges too.
    assert client.delete(f"/v1/admin/assets/{gone}").status_code == 204
    feed = client.get("/v1/admin/edge/purges").json()
    assert [(i["asset_id"], i["action"]) for i in feed["items"]] == [
        (kept, "purge"),
        (kept, "revoke"),
        (gone, "revoke"),
    ]
    # An edge resumes after the last record it applied.
    first = feed["items"][0]["seq"]
    rest = client.get("/v1/admin/edge/purges", params={"after": first}).json()
    assert [i["seq"] for i in rest["items"]] == [i["seq"] for i in feed["items"][1:]]
    assert rest["last_seq"] == feed["last_seq"]
    nothing = client.get("/v1/admin/edge/purges", params={"after": feed["last_seq"]}).json()
    assert nothing == {"items": [], "last_seq": feed["last_seq"]}

    assert client.post("/v1/admin/assets/nope/purge", json={}).status_code == 404
    assert client.post(f"/v1/admin/assets/{kept}/purge", json={"all": 1}).status_code == 422
    viewer = viewer_headers(client)
    assert client.get("/v1/admin/edge/purges", headers=viewer).status_code == 403


def test_the_origin_refuses_a_revoked_assets_urls_within_seconds(
    client: TestClient, runtime: Runtime
) -> None:
    """A revocation reaches the origin as it reaches the edges: the signed URLs of the
    asset (path token or cookie) get 410 ``media_revoked``; other assets still play; a
    purge alone (drop cached copies) refuses nothing."""
    from datetime import UTC, datetime, timedelta

    from reelstack.delivery.signing import COOKIE_NAME, url_signer
    from reelstack.storage.base import media_version_key

    with session_scope(runtime.sessions) as s:
        _, revoked = make_title_with_asset(s, "Revoked", AssetStatus.READY)
        _, kept = make_title_with_asset(s, "Kept", AssetStatus.READY)
    signer = url_signer(runtime.settings)
    assert signer is not None
    urls = {}
    for asset in (revoked, kept):
        runtime.storage.put_stream(media_version_key(asset, 1, "master.m3u8"), [b"#EXTM3U\n"])
        token = signer.token(
            asset_id=asset,
            version=1,
            session_id="ab" * 16,
            expires=datetime.now(UTC) + timedelta(hours=1),
        )
        urls[asset] = (f"/s/{token}/{asset}/v1/master.m3u8", token)
    assert client.post(f"/v1/admin/assets/{revoked}/purge", json={}).status_code == 202
    client.app.state.revoked_assets.refresh()  # type: ignore[attr-defined]
    assert client.get(urls[revoked][0]).status_code == 200
    assert (
        client.post(f"/v1/admin/assets/{revoked}/purge", json={"revoke": True}).status_code == 202
    )
    # The app's thread follows the feed: no call needed, a poll interval is enough.
    deadline = time.monotonic() + 10
    while client.get(urls[revoked][0]).status_code == 200:
        assert time.monotonic() < deadline, "the origin still serves a revoked asset"
        time.sleep(0.2)
    gone = client.get(urls[revoked][0])
    assert gone.status_code == 410 and gone.json()["code"] == "media_revoked"
    client.cookies.set(COOKIE_NAME, urls[revoked][1])
    by_cookie = client.get(f"/m/{revoked}/v1/master.m3u8")
    client.cookies.clear()
    assert by_cookie.status_code == 410 and by_cookie.json()["code"] == "media_revoked"
    assert client.get(urls[kept][0]).status_code == 200
