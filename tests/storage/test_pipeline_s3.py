"""The whole pipeline on an S3 API (moto's real HTTP server): upload, transcode, publish,
playback through the API's delivery routes, reprocess and delete, with no local media
directory shared between the API and the job (only the per-process workdir)."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import av
import httpx2 as httpx
import pytest
from fastapi.testclient import TestClient

from reelstack.app import create_app
from reelstack.runtime import Runtime, build_runtime
from reelstack.storage.s3 import S3Storage
from tests.conftest import ADMIN_HEADERS, viewer_headers, wait_for_job
from tests.s3server import TEST_AWS_ENV

pytestmark = pytest.mark.e2e


def _objects(s3_admin: Any, bucket: str) -> list[str]:
    listed = s3_admin.list_objects_v2(Bucket=bucket)
    return sorted(o["Key"] for o in listed.get("Contents", []))


@pytest.mark.parametrize("redirect", [False, True], ids=["streamed", "redirected"])
def test_pipeline_on_s3(
    runtime: Runtime,
    clips: dict[str, Path],
    s3_endpoint: str,
    new_bucket: Callable[[], str],
    s3_admin: Any,
    redirect: bool,
) -> None:
    bucket = new_bucket()
    settings = runtime.settings.model_copy(
        update={
            "storage_url": f"s3://{bucket}/media-root",
            "s3_endpoint_url": s3_endpoint,
            "ladder": "tiny",
            "job_poll_interval_s": 0.1,
            "delivery_redirect": redirect,
        }
    )
    rt = build_runtime(settings)
    assert isinstance(rt.storage, S3Storage)
    with TestClient(create_app(runtime=rt), headers=ADMIN_HEADERS) as client:
        ids = client.post(
            "/v1/admin/uploads",
            params={"title": "On S3", "filename": "clip.mp4"},
            content=clips["landscape"].read_bytes(),
        ).json()
        assert wait_for_job(client, ids["job_id"])["state"] == "succeeded"
        keys = _objects(s3_admin, bucket)
        prefix = f"media-root/assets/{ids['asset_id']}"
        assert f"{prefix}/source/original.mp4" in keys
        assert f"{prefix}/media/v1/master.m3u8" in keys
        assert f"{prefix}/media/v1/manifest.mpd" in keys

        play = client.post(
            "/v1/playback", json={"title_id": ids["title_id"]}, headers=viewer_headers(client)
        ).json()
        master = _get(client, play["hls"])
        assert "#EXT-X-STREAM-INF" in master.text
        base = play["hls"].rsplit("/", 1)[0]
        playlist = next(u for u in master.text.splitlines() if u and not u.startswith("#"))
        text = _get(client, f"{base}/{playlist}").text
        init = re.search(r'#EXT-X-MAP:URI="([^"]+)"', text)
        assert init is not None
        blob = _get(client, f"{base}/{init.group(1)}").content
        segments = [u for u in text.splitlines() if u and not u.startswith("#")]
        for seg in segments:
            blob += _get(client, f"{base}/{seg}").content
        with av.open(io.BytesIO(blob), "r") as container:
            frames = sum(1 for _ in container.decode(video=0))
        assert frames == pytest.approx(120, abs=2)
        if not redirect:
            whole = _get(client, f"{base}/{segments[0]}").content
            part = client.get(f"{base}/{segments[0]}", headers={"Range": "bytes=5-104"})
            assert part.status_code == 206 and part.content == whole[5:105]
            assert part.headers["content-range"] == f"bytes 5-104/{len(whole)}"

        again = client.post(f"/v1/admin/assets/{ids['asset_id']}/reprocess").json()
        assert wait_for_job(client, again["job_id"])["state"] == "succeeded"
        play2 = client.post(
            "/v1/playback", json={"title_id": ids["title_id"]}, headers=viewer_headers(client)
        ).json()
        assert "/v2/" in play2["hls"]
        assert "#EXTM3U" in _get(client, play2["hls"]).text
        assert "#EXTM3U" in _get(client, play["hls"]).text  # v1 still serves

        assert client.delete(f"/v1/admin/assets/{ids['asset_id']}").status_code == 204
    assert _objects(s3_admin, bucket) == []
    # Media never touched the local data dir; the workdir holds nothing afterwards.
    assert not (settings.data_dir / "media" / "assets").exists()
    assert list(rt.workdir.root.iterdir()) == []
    rt.close()


def _get(client: TestClient, url: str) -> httpx.Response:
    resp = client.get(url, follow_redirects=False)
    if resp.status_code == 307:
        # The store's own presigned URL, fetched by a plain HTTP client as a player would.
        assert resp.headers["location"].startswith("http://127.0.0.1:")
        resp = httpx.get(resp.headers["location"])
    assert resp.status_code == 200, (url, resp.status_code)
    return resp


def test_api_and_worker_share_only_the_database_and_s3(
    runtime: Runtime,
    clips: dict[str, Path],
    s3_endpoint: str,
    new_bucket: Callable[[], str],
    s3_admin: Any,
    tmp_path: Path,
) -> None:
    """The API runs no job; a `reelstack worker` process with its own data dir and workdir
    transcodes. Nothing on local disk is shared: the source reaches the worker through S3."""
    bucket = new_bucket()
    storage = {"storage_url": f"s3://{bucket}/media-root", "s3_endpoint_url": s3_endpoint}
    settings = runtime.settings.model_copy(
        update={**storage, "data_dir": tmp_path / "api", "embedded_worker": False}
    )
    api = build_runtime(settings)
    env = {
        **os.environ,
        **TEST_AWS_ENV,
        "REELSTACK_DATABASE_URL": settings.resolved_database_url,
        "REELSTACK_DATA_DIR": str(tmp_path / "worker"),
        "REELSTACK_STORAGE_URL": storage["storage_url"],
        "REELSTACK_S3_ENDPOINT_URL": s3_endpoint,
        "REELSTACK_LADDER": "tiny",
        "REELSTACK_JOB_POLL_INTERVAL_S": "0.2",
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "reelstack", "worker"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        with TestClient(create_app(runtime=api), headers=ADMIN_HEADERS) as client:
            ids = client.post(
                "/v1/admin/uploads",
                params={"title": "Split", "filename": "clip.mp4"},
                content=clips["landscape"].read_bytes(),
            ).json()
            assert wait_for_job(client, ids["job_id"])["state"] == "succeeded"
            transcode = client.get(
                "/v1/admin/jobs", params={"parent_id": ids["job_id"], "kind": "transcode"}
            ).json()[0]
            assert transcode["worker"].endswith(f":{worker.pid}")
            play = client.post(
                "/v1/playback", json={"title_id": ids["title_id"]}, headers=viewer_headers(client)
            ).json()
            assert "#EXT-X-STREAM-INF" in _get(client, play["hls"]).text
    finally:
        worker.terminate()
        assert worker.wait(20) == 0
    keys = _objects(s3_admin, bucket)
    assert f"media-root/assets/{ids['asset_id']}/media/v1/master.m3u8" in keys
    # Neither side kept media on local disk; both scratch spaces are empty again.
    for side in ("api", "worker"):
        assert not (tmp_path / side / "media" / "assets").exists()
        assert list((tmp_path / side / "work").iterdir()) == []
    api.close()
