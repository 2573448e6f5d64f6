"""Upload -> job -> HLS + DASH served by the origin, on real FFmpeg and a tiny clip."""

from __future__ import annotations

import io
import re
import time
from collections.abc import Iterator
from pathlib import Path

import av
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from reelstack.app import create_app
from reelstack.cli import app as cli_app
from reelstack.db import session_scope
from reelstack.jobs import service as job_service
from reelstack.jobs.models import JobState
from reelstack.runtime import Runtime, build_runtime
from tests.conftest import (
    ADMIN_HEADERS,
    child_job,
    media_files,
    row_counts,
    viewer_headers,
    wait_for_job,
)
from tests.procs import live_ffmpeg

pytestmark = pytest.mark.e2e


@pytest.fixture
def tiny_client(runtime: Runtime) -> Iterator[tuple[TestClient, Runtime]]:
    """The app on the two-rung 'tiny' ladder (so a 320x180 clip gets two renditions)."""
    rt = build_runtime(runtime.settings.model_copy(update={"ladder": "tiny"}))
    with TestClient(create_app(runtime=rt), headers=ADMIN_HEADERS) as c:
        yield c, rt
    rt.close()


def _upload(client: TestClient, path: Path, title: str) -> dict[str, str]:
    resp = client.post(
        "/v1/admin/uploads",
        params={"title": title, "filename": path.name},
        content=path.read_bytes(),
        headers={"content-type": "application/octet-stream"},
    )
    assert resp.status_code == 201, resp.text
    body: dict[str, str] = resp.json()
    return body


def _uris(playlist: str) -> list[str]:
    return [line for line in playlist.splitlines() if line and not line.startswith("#")]


def test_upload_transcode_and_serve(
    tiny_client: tuple[TestClient, Runtime], clips: dict[str, Path]
) -> None:
    client, _ = tiny_client
    ids = _upload(client, clips["landscape"], "Landscape")
    job = wait_for_job(client, ids["job_id"])
    assert (job["state"], job["kind"], job["attempts"]) == ("succeeded", "process_asset", 1), job
    transcode = child_job(client, ids["job_id"])
    assert (transcode["state"], transcode["progress"], transcode["attempts"]) == (
        "succeeded",
        100.0,
        1,
    )

    asset = client.get(f"/v1/admin/assets/{ids['asset_id']}").json()
    assert (asset["status"], asset["version"]) == ("ready", 1)
    assert (asset["width"], asset["height"]) == (320, 180)
    assert sorted(r["height"] for r in asset["renditions"]) == [144, 180]
    [audio] = asset["audio_tracks"]
    assert (audio["language"], audio["default"], audio["channels"]) == ("und", True, 2)

    title = client.get(f"/v1/titles/{ids['title_id']}").json()
    assert title["status"] == "ready" and title["duration_s"] == pytest.approx(4, abs=0.2)
    poster = client.get(title["poster_url"])
    assert poster.status_code == 200 and poster.headers["content-type"] == "image/jpeg"

    play = client.post(
        "/v1/playback", json={"title_id": ids["title_id"]}, headers=viewer_headers(client)
    ).json()
    master = client.get(play["hls"], headers={"Origin": "http://other.example"})
    assert master.status_code == 200
    assert master.headers["content-type"].startswith("application/vnd.apple.mpegurl")
    # The URL names one immutable version (manifests are cacheable for a year too), behind
    # the session's token.
    assert play["hls"].startswith("http://testserver/s/")
    assert play["hls"].endswith(f"/{ids['asset_id']}/v1/master.m3u8")
    assert master.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert master.headers["access-control-allow-origin"] == "*"
    assert "#EXT-X-STREAM-INF" in master.text and 'CODECS="avc1.' in master.text

    mpd = client.get(play["dash"])
    assert mpd.status_code == 200
    assert mpd.headers["content-type"].startswith("application/dash+xml")
    assert "<MPD" in mpd.text

    base = play["hls"].rsplit("/", 1)[0]
    video_playlists = _uris(master.text)
    assert len(video_playlists) == 2
    for uri in video_playlists:
        text = client.get(f"{base}/{uri}").text
        assert "#EXT-X-ENDLIST" in text
        init = re.search(r'#EXT-X-MAP:URI="([^"]+)"', text)
        assert init is not None
        segments = _uris(text)
        blob = client.get(f"{base}/{init.group(1)}").content
        for seg in segments:
            resp = client.get(f"{base}/{seg}")
            assert resp.status_code == 200
            assert resp.headers["cache-control"] == "public, max-age=31536000, immutable"
            blob += resp.content
        with av.open(io.BytesIO(blob), "r") as container:
            frames = sum(1 for _ in container.decode(video=0))
        assert frames == pytest.approx(120, abs=2)  # 4 s at 30 fps

    # Range, ETag and conditional GET on a segment.
    first_seg = f"{base}/{_uris(client.get(f'{base}/{video_playlists[0]}').text)[0]}"
    full = client.get(first_seg)
    part = client.get(first_seg, headers={"Range": "bytes=10-99"})
    assert part.status_code == 206
    assert part.content == full.content[10:100]
    assert part.headers["content-range"] == f"bytes 10-99/{len(full.content)}"
    etag = full.headers["etag"]
    assert client.get(first_seg, headers={"If-None-Match": etag}).status_code == 304
    beyond = client.get(first_seg, headers={"Range": f"bytes={len(full.content) + 5}-"})
    assert beyond.status_code == 416
    assert beyond.headers["content-type"] == "application/problem+json"
    assert beyond.json()["code"] == "range_not_satisfiable"
    assert beyond.headers["content-range"] == f"bytes */{len(full.content)}"
    garbled = client.get(first_seg, headers={"Range": "pages=1-2"})
    assert garbled.status_code == 400 and garbled.json()["code"] == "bad_request"
    assert client.head(first_seg).headers["content-length"] == str(len(full.content))
    assert client.get(f"{base}/../../source/original.mp4").status_code == 404
    assert client.get(f"{base}/../source/original.mp4").status_code == 404
    assert client.get(f"/media/{ids['asset_id']}/master.m3u8").status_code == 404
    # Without the token: only the poster is public.
    plain = client.get(f"/media/{ids['asset_id']}/v1/master.m3u8")
    assert plain.status_code == 403 and plain.json()["code"] == "signed_url_required"
    tampered = base.replace("/s/", "/s/9", 1)
    assert client.get(f"{tampered}/master.m3u8").json()["code"] == "invalid_url_token"
    assert client.get(f"{base}/nope.m4s").json()["code"] == "not_found"


def test_cli_ingest_wait_portrait(
    runtime: Runtime, clips: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REELSTACK_DATA_DIR", str(runtime.settings.data_dir))
    monkeypatch.setenv("REELSTACK_DATABASE_URL", runtime.settings.resolved_database_url)
    from reelstack.config import get_settings

    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(
            cli_app, ["ingest", str(clips["portrait"]), "--title", "Portrait", "--wait"]
        )
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert "job succeeded" in result.output
    with TestClient(create_app(runtime=runtime), headers=ADMIN_HEADERS) as client:
        items = client.get("/v1/titles").json()["items"]
        assert [i["title"] for i in items] == ["Portrait"]
        asset_id = client.get(items[0]["poster_url"]).url.path.split("/")[2]
        asset = client.get(f"/v1/admin/assets/{asset_id}").json()
    assert asset["status"] == "ready"
    for rendition in asset["renditions"]:
        assert rendition["height"] > rendition["width"]  # a portrait ladder


def test_cancel_running_job_stops_ffmpeg_and_removes_output(
    client: TestClient, runtime: Runtime, tmp_path: Path
) -> None:
    from reelstack.media.testclips import make_test_clip

    # Long enough (60 s at 640x360) that the transcode is still running when we cancel.
    clip = make_test_clip(tmp_path / "long.mp4", width=640, height=360, duration_s=60)
    ids = _upload(client, clip, "Long")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        job = child_job(client, ids["job_id"])
        if job["state"] == "running" and job["progress"] > 0:
            break
        time.sleep(0.1)
    assert job["state"] == "running", job
    staging = runtime.workdir.root
    assert live_ffmpeg(argument=str(staging)), "FFmpeg should be running"

    resp = client.post(f"/v1/admin/jobs/{ids['job_id']}/cancel")
    assert resp.status_code == 200
    job = wait_for_job(client, ids["job_id"], timeout_s=30)
    assert job["state"] == "cancelled"
    assert wait_for_job(client, child_job(client, ids["job_id"])["id"])["state"] == "cancelled"
    assert live_ffmpeg(argument=str(staging)) == []
    assert list(staging.iterdir()) == []
    # The source is kept (nothing lost); no packaged output exists.
    assert [k.split("/", 2)[2] for k in media_files(runtime)] == ["source/original.mp4"]
    assert client.get(f"/v1/admin/assets/{ids['asset_id']}").json()["status"] == "failed"
    again = client.post(f"/v1/admin/jobs/{ids['job_id']}/cancel")
    assert again.status_code == 409 and again.json()["code"] == "invalid_job_transition"
    play = client.post(
        "/v1/playback", json={"title_id": ids["title_id"]}, headers=viewer_headers(client)
    )
    assert play.status_code == 409


def test_restart_recovers_job_left_running(runtime: Runtime, clips: dict[str, Path]) -> None:
    import socket

    from reelstack.ingest.service import ingest_file

    ids = ingest_file(runtime=runtime, path=clips["landscape"], title="Orphan")
    with session_scope(runtime.sessions) as s:
        # Claimed by a process that has since died (no such pid on this host).
        claimed = job_service.claim_next(session=s, worker=f"{socket.gethostname()}:4194311")
        assert claimed is not None and claimed.kind.value == "transcode"
        child_id = claimed.id
    assert row_counts(runtime)["jobs"] == 2
    with TestClient(create_app(runtime=runtime), headers=ADMIN_HEADERS) as client:
        job = wait_for_job(client, ids.job_id)
        child = client.get(f"/v1/admin/jobs/{child_id}").json()
    assert job["state"] == JobState.SUCCEEDED.value
    assert child["attempts"] == 2  # the dead attempt counts


def test_shutdown_requeues_running_job(runtime: Runtime, tmp_path: Path) -> None:
    from reelstack.bootstrap import job_registry
    from reelstack.ingest.service import ingest_file
    from reelstack.jobs.executor import LocalExecutor
    from reelstack.media.testclips import make_test_clip

    clip = make_test_clip(tmp_path / "long.mp4", width=640, height=360, duration_s=60)
    ids = ingest_file(runtime=runtime, path=clip, title="Interrupted")
    executor = LocalExecutor(runtime, job_registry())
    executor.start(recover=False)
    staging = runtime.workdir.root
    deadline = time.monotonic() + 30
    while not live_ffmpeg(argument=str(staging)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert live_ffmpeg(argument=str(staging))
    executor.stop()
    # The process stopping is not the user cancelling: the job waits for the next start.
    with session_scope(runtime.sessions) as s:
        [job] = job_service.children(session=s, parent_id=ids.job_id)
        assert (job.state, job.attempts, job.cancel_requested) == (JobState.QUEUED, 0, False)
        assert job_service.get_job(session=s, job_id=ids.job_id).state is JobState.WAITING
    assert live_ffmpeg(argument=str(staging)) == []
    assert list(staging.iterdir()) == []
    assert [k.split("/", 2)[2] for k in media_files(runtime)] == ["source/original.mp4"]
