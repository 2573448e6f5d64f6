"""kill -9 of a real `reelstack api` mid-transcode: the next start finishes the job.

Nothing is lost (the source stays, the job completes) and nothing is left behind (the
killed FFmpeg goes, its staging directory is swept).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest

from reelstack.media.testclips import make_test_clip
from reelstack.runtime import Runtime
from tests.conftest import ADMIN_HEADERS, ADMIN_KEY, viewer_headers
from tests.procs import live_ffmpeg

pytestmark = pytest.mark.e2e


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def _server(runtime: Runtime, port: int) -> Iterator[subprocess.Popen[bytes]]:
    env = {
        **os.environ,
        "REELSTACK_DATA_DIR": str(runtime.settings.data_dir),
        "REELSTACK_DATABASE_URL": runtime.settings.resolved_database_url,
        "REELSTACK_PORT": str(port),
        "REELSTACK_LADDER": "tiny",
        "REELSTACK_ADMIN_API_KEY": ADMIN_KEY,
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "reelstack", "api"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        yield proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(20)


def _job(base: str, job_id: str) -> dict[str, Any]:
    body: dict[str, Any] = httpx.get(f"{base}/v1/admin/jobs/{job_id}", headers=ADMIN_HEADERS).json()
    return body


def _transcode(base: str, parent_id: str) -> dict[str, Any]:
    """The transcode child of an upload's processing graph."""
    kids: list[dict[str, Any]] = httpx.get(
        f"{base}/v1/admin/jobs",
        params={"parent_id": parent_id, "kind": "transcode"},
        headers=ADMIN_HEADERS,
    ).json()
    return kids[0]


def test_kill_9_mid_transcode_then_restart(runtime: Runtime, tmp_path: Path) -> None:
    clip = make_test_clip(tmp_path / "long.mp4", width=320, height=180, duration_s=90)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    staging = runtime.workdir.root

    with _server(runtime, port) as server:
        ids = httpx.post(
            f"{base}/v1/admin/uploads",
            params={"title": "Killed"},
            content=clip.read_bytes(),
            headers=ADMIN_HEADERS,
            timeout=60,
        ).json()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            job = _transcode(base, ids["job_id"])
            if job["state"] == "running" and job["progress"] > 0:
                break
            time.sleep(0.05)
        assert job["state"] == "running", job
        ffmpeg = live_ffmpeg(parent=server.pid)
        assert ffmpeg
        server.send_signal(signal.SIGKILL)
        server.wait(10)

    # FFmpeg loses its progress pipe and dies; the half-written staging dir stays behind.
    deadline = time.monotonic() + 15
    while set(ffmpeg) & set(live_ffmpeg()) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not set(ffmpeg) & set(live_ffmpeg())
    assert any(staging.iterdir())

    with _server(runtime, port):
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            job = _job(base, ids["job_id"])
            if job["state"] in {"succeeded", "failed", "cancelled"}:
                break
            time.sleep(0.2)
        assert job["state"] == "succeeded", job
        assert _transcode(base, ids["job_id"])["attempts"] == 2
        with httpx.Client(base_url=base, headers=ADMIN_HEADERS) as http:
            viewer = viewer_headers(http)
        play = httpx.post(
            f"{base}/v1/playback", json={"title_id": ids["title_id"]}, headers=viewer
        ).json()
        assert play["hls"].startswith(f"{base}/s/")  # absolute, signed
        assert httpx.get(play["hls"]).status_code == 200
        assert list(staging.iterdir()) == []
