"""Uploads stream to disk through a real server: memory stays flat whatever the size."""

from __future__ import annotations

import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx

from reelstack.app import create_app
from reelstack.runtime import Runtime, build_runtime
from tests.conftest import ADMIN_HEADERS, live_server, media_files, row_counts

CHUNK = 256 * 1024


def _body(clip: Path, total: int) -> Iterator[bytes]:
    """A real clip followed by padding: MP4 readers ignore trailing bytes."""
    data = clip.read_bytes()
    yield data
    sent = len(data)
    while sent < total:
        piece = min(CHUNK, total - sent)
        yield b"\0" * piece
        sent += piece


def test_large_upload_streams_without_buffering(runtime: Runtime, clips: dict[str, Path]) -> None:
    total = 96 * 1024 * 1024
    rt = build_runtime(runtime.settings.model_copy(update={"max_upload_bytes": 200 * 1024**2}))
    with live_server(create_app(runtime=rt)) as base:
        tracemalloc.start()
        try:
            resp = httpx.post(
                f"{base}/v1/admin/uploads",
                params={"title": "Big", "filename": "big.mp4"},
                content=_body(clips["landscape"], total),
                headers=ADMIN_HEADERS,
                timeout=120,
            )
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert resp.status_code == 201, resp.text
        # Client and server both run here; neither may hold more than a sliver of 96 MiB.
        assert peak < 16 * 1024 * 1024, f"peak traced memory {peak / 2**20:.1f} MiB"
        job_url = f"{base}/v1/admin/jobs/{resp.json()['job_id']}"
        job = httpx.get(job_url, headers=ADMIN_HEADERS).json()
        assert job["state"] in {"waiting", "queued", "running", "succeeded"}
    stored = [k for k in media_files(rt) if "/source/" in k]
    assert len(stored) == 1
    assert rt.storage.stat(stored[0]).size == total
    rt.close()


def test_oversized_stream_is_cut_off(runtime: Runtime, clips: dict[str, Path]) -> None:
    rt = build_runtime(runtime.settings.model_copy(update={"max_upload_bytes": 4 * 1024**2}))
    with live_server(create_app(runtime=rt)) as base:
        resp = httpx.post(
            f"{base}/v1/admin/uploads",
            params={"title": "Too big"},
            content=_body(clips["landscape"], 64 * 1024 * 1024),
            headers=ADMIN_HEADERS,
            timeout=60,
        )
    assert resp.status_code == 413
    assert resp.json()["code"] == "payload_too_large"
    assert set(row_counts(rt).values()) == {0}
    assert media_files(rt) == []
    rt.close()
