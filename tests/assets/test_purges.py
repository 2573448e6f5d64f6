"""The edge purge feed: purge and revoke records, numbered, read by edges from where
they stopped."""

from __future__ import annotations

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
