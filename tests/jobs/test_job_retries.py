"""Transient failures are retried with backoff; the last failure is final, never stuck."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from reelstack.app import create_app
from reelstack.assets import pipeline
from reelstack.media import package
from reelstack.media.errors import ProcessingFailed
from reelstack.runtime import Runtime, build_runtime
from tests.conftest import ADMIN_HEADERS, child_job, media_files, viewer_headers, wait_for_job

pytestmark = pytest.mark.e2e


def _fast_retry_client(runtime: Runtime) -> tuple[TestClient, Runtime]:
    rt = build_runtime(
        runtime.settings.model_copy(update={"job_retry_base_s": 0.05, "job_max_attempts": 3})
    )
    return TestClient(create_app(runtime=rt), headers=ADMIN_HEADERS), rt


def _failing(times: int, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    real = package.transcode_and_package

    def flaky(**kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) <= times:
            raise ProcessingFailed("ffmpeg exited with status 1: simulated disk hiccup")
        return real(**kwargs)

    monkeypatch.setattr(pipeline, "transcode_and_package", flaky)
    return calls


def _upload(client: TestClient, clip: Path) -> dict[str, str]:
    resp = client.post("/v1/admin/uploads", params={"title": "Flaky"}, content=clip.read_bytes())
    assert resp.status_code == 201
    body: dict[str, str] = resp.json()
    return body


def test_transient_failure_is_retried(
    runtime: Runtime, clips: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = _failing(1, monkeypatch)
    client, rt = _fast_retry_client(runtime)
    with client:
        ids = _upload(client, clips["landscape"])
        assert wait_for_job(client, ids["job_id"])["state"] == "succeeded"
        job = child_job(client, ids["job_id"])
        asset = client.get(f"/v1/admin/assets/{ids['asset_id']}").json()
    rt.close()
    assert len(calls) == 2
    assert (job["state"], job["attempts"], job["error"]) == ("succeeded", 2, None)
    # The failed attempt's version was removed; the retry published the next one.
    assert asset["version"] == 2
    assert asset["status"] == "ready"


def test_last_failure_is_final_with_reason(
    runtime: Runtime, clips: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = _failing(99, monkeypatch)
    client, rt = _fast_retry_client(runtime)
    with client:
        ids = _upload(client, clips["landscape"])
        parent = wait_for_job(client, ids["job_id"])
        job = child_job(client, ids["job_id"])
        asset = client.get(f"/v1/admin/assets/{ids['asset_id']}").json()
        play = client.post(
            "/v1/playback", json={"title_id": ids["title_id"]}, headers=viewer_headers(client)
        )
    assert len(calls) == 3
    assert (job["state"], job["attempts"]) == ("failed", 3)
    assert "simulated disk hiccup" in job["error"]
    # The parent fails with its child, naming it and its reason.
    assert parent["state"] == "failed"
    assert job["id"] in parent["error"] and "simulated disk hiccup" in parent["error"]
    assert asset["status"] == "failed" and "simulated disk hiccup" in asset["error"]
    assert play.status_code == 409
    # The source is kept for a retry; nothing half-packaged was published.
    assert [k.rsplit("/", 2)[-2] for k in media_files(rt)] == ["source"]

    # A manual retry starts a fresh attempt budget and now succeeds.
    monkeypatch.setattr(pipeline, "transcode_and_package", _real_package())
    with TestClient(create_app(runtime=rt), headers=ADMIN_HEADERS) as client:
        retried = client.post(f"/v1/admin/jobs/{ids['job_id']}/retry")
        assert retried.status_code == 200 and retried.json()["state"] == "waiting"
        assert wait_for_job(client, ids["job_id"])["state"] == "succeeded"
        job = child_job(client, ids["job_id"])
        assert client.get(f"/v1/admin/assets/{ids['asset_id']}").json()["status"] == "ready"
    rt.close()
    assert (job["state"], job["attempts"]) == ("succeeded", 1)


def _real_package() -> Any:
    from reelstack.media.package import transcode_and_package

    return transcode_and_package
