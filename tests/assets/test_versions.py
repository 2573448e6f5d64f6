"""Versioned, immutable publishing: reprocess without a 404 window, purge after the
grace period, delete leaves nothing behind."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pytest
from fastapi.testclient import TestClient

from reelstack.app import create_app
from reelstack.runtime import Runtime, build_runtime
from tests.conftest import (
    ADMIN_HEADERS,
    live_server,
    media_files,
    row_counts,
    viewer_headers,
    wait_for_job,
)

pytestmark = pytest.mark.e2e


@pytest.fixture
def tiny(runtime: Runtime) -> Iterator[Runtime]:
    rt = build_runtime(
        runtime.settings.model_copy(update={"ladder": "tiny", "job_poll_interval_s": 0.1})
    )
    yield rt
    rt.close()


def _unsigned(url: str) -> str:
    """A media URL without its session token."""
    return re.sub(r"/s/[^/]+/", "/s/-/", url)


def _versions(rt: Runtime, asset_id: str) -> set[str]:
    return {k.split("/")[3] for k in media_files(rt) if k.startswith(f"assets/{asset_id}/media/")}


def test_reprocess_publishes_a_new_version_while_readers_never_see_an_error(
    tiny: Runtime, clips: dict[str, Path]
) -> None:
    app = create_app(runtime=tiny)
    with live_server(app) as base, httpx.Client(base_url=base, headers=ADMIN_HEADERS) as http:
        resp = http.post(
            "/v1/admin/uploads",
            params={"title": "Versioned"},
            content=clips["landscape"].read_bytes(),
        )
        ids = resp.json()
        assert wait_for_job(http, ids["job_id"])["state"] == "succeeded"
        viewer_auth = viewer_headers(http)
        first = http.post(
            "/v1/playback", json={"title_id": ids["title_id"]}, headers=viewer_auth
        ).json()
        assert "/v1/" in first["hls"]

        errors: list[str] = []
        seen: set[str] = set()
        stop = threading.Event()

        def reader() -> None:
            with httpx.Client(base_url=base) as viewer:
                while not stop.is_set():
                    play = viewer.post(
                        "/v1/playback", json={"title_id": ids["title_id"]}, headers=viewer_auth
                    )
                    if play.status_code != 201:
                        errors.append(f"playback {play.status_code}")
                        continue
                    for url in (play.json()["hls"], first["hls"]):
                        got = viewer.get(url)
                        if got.status_code != 200 or "#EXTM3U" not in got.text:
                            errors.append(f"{url} {got.status_code}")
                    # Each session has its own token: compare the files.
                    seen.add(_unsigned(play.json()["hls"]))
                    # Free the stream, or the plan's stream limit would refuse the next.
                    viewer.delete(f"/v1/playback/{play.json()['session_id']}", headers=viewer_auth)

        thread = threading.Thread(target=reader)
        thread.start()
        try:
            again = http.post(f"/v1/admin/assets/{ids['asset_id']}/reprocess")
            assert again.status_code == 202, again.text
            busy = http.post(f"/v1/admin/assets/{ids['asset_id']}/reprocess")
            assert busy.status_code == 409 and busy.json()["code"] == "asset_busy"
            assert wait_for_job(http, again.json()["job_id"])["state"] == "succeeded"
            # Let the reader see the new version too.
            for _ in range(50):
                if len(seen) == 2:
                    break
                threading.Event().wait(0.1)
        finally:
            stop.set()
            thread.join(30)
        asset = http.get(f"/v1/admin/assets/{ids['asset_id']}").json()
    assert errors == []
    assert seen == {_unsigned(first["hls"]), _unsigned(first["hls"]).replace("/v1/", "/v2/")}
    assert asset["version"] == 2 and asset["status"] == "ready"
    # The old version stays for the grace period (default 24 h) for players still on it.
    assert _versions(tiny, ids["asset_id"]) == {"v1", "v2"}


def test_old_versions_are_purged_after_the_grace_period(
    tiny: Runtime, clips: dict[str, Path]
) -> None:
    rt = build_runtime(tiny.settings.model_copy(update={"media_grace_s": 0.5}))
    with TestClient(create_app(runtime=rt), headers=ADMIN_HEADERS) as client:
        ids = client.post(
            "/v1/admin/uploads", params={"title": "P"}, content=clips["landscape"].read_bytes()
        ).json()
        assert wait_for_job(client, ids["job_id"])["state"] == "succeeded"
        job_id = client.post(f"/v1/admin/assets/{ids['asset_id']}/reprocess").json()["job_id"]
        assert wait_for_job(client, job_id)["state"] == "succeeded"
        purges = client.get(
            "/v1/admin/jobs", params={"kind": "purge_media", "subject_id": ids["asset_id"]}
        ).json()
        assert len(purges) == 1  # the re-publish scheduled one; a first publish needs none
        for purge in purges:
            assert wait_for_job(client, purge["id"])["state"] == "succeeded"
        play = client.post(
            "/v1/playback", json={"title_id": ids["title_id"]}, headers=viewer_headers(client)
        ).json()
        assert client.get(play["hls"]).status_code == 200
    assert _versions(rt, ids["asset_id"]) == {"v2"}
    rt.close()


def test_delete_asset_removes_rows_and_objects(client: TestClient, runtime: Runtime) -> None:
    from reelstack.assets.models import AssetStatus
    from reelstack.db import session_scope
    from tests.factories import make_title_with_asset

    with session_scope(runtime.sessions) as s:
        title_id, asset_id = make_title_with_asset(s, "Doomed", AssetStatus.READY)
    runtime.storage.put_stream(f"assets/{asset_id}/media/v1/master.m3u8", [b"#EXTM3U\n"])
    runtime.storage.put_stream(f"assets/{asset_id}/source/original.mp4", [b"x"])
    assert client.delete(f"/v1/admin/assets/{asset_id}").status_code == 204
    assert client.get(f"/v1/admin/assets/{asset_id}").status_code == 404
    assert client.delete(f"/v1/admin/assets/{asset_id}").status_code == 404
    assert [k for k in media_files(runtime) if asset_id in k] == []
    # The title stays, with no media.
    assert client.get(f"/v1/titles/{title_id}").json()["status"] == "no_media"
    assert row_counts(runtime)["title_assets"] == 0
