"""Bad uploads get a clear 4xx problem and leave no rows and no files behind."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from reelstack.app import create_app
from reelstack.runtime import Runtime, build_runtime
from tests.conftest import ADMIN_HEADERS, media_files, row_counts


def _nothing_left(runtime: Runtime) -> None:
    assert set(row_counts(runtime).values()) == {0}
    assert media_files(runtime) == []
    assert list(runtime.workdir.root.iterdir()) == []


def _still_png(tmp: Path) -> bytes:
    from reelstack.media.testclips import make_test_clip

    png = tmp / "still.png"
    make_test_clip(png, duration_s=0.04, audio=False, codec="png", extra_args=["-frames:v", "1"])
    return png.read_bytes()


def _bad_inputs(clips: dict[str, Path], tmp: Path) -> dict[str, tuple[bytes, str]]:
    good = clips["landscape"].read_bytes()
    indexed = clips["faststart"].read_bytes()
    return {
        "text": (b"this is not a video\n" * 200, "not a recognised"),
        "zero_length": (b"", "empty"),
        "truncated_mp4": (good[: len(good) // 2], "truncated"),
        "truncated_faststart": (indexed[: len(indexed) // 2], "truncated"),
        "audio_only": (clips["audio_only"].read_bytes(), "video"),
        "still_image": (_still_png(tmp), "still image"),
    }


BAD_CASES = [
    "text",
    "zero_length",
    "truncated_mp4",
    "truncated_faststart",
    "audio_only",
    "still_image",
]


@pytest.mark.parametrize("case", BAD_CASES)
def test_bad_upload_is_422_and_leaves_nothing(
    case: str, client: TestClient, runtime: Runtime, clips: dict[str, Path], tmp_path: Path
) -> None:
    body, hint = _bad_inputs(clips, tmp_path)[case]
    resp = client.post(
        "/v1/admin/uploads",
        params={"title": f"bad {case}", "filename": f"{case}.mp4"},
        content=body,
        headers={"content-type": "application/octet-stream"},
    )
    assert resp.status_code == 422, resp.text
    assert resp.headers["content-type"] == "application/problem+json"
    problem = resp.json()
    assert problem["code"] == "invalid_media"
    assert problem["detail"]
    assert hint.lower() in problem["detail"].lower()
    _nothing_left(runtime)


def test_upload_without_title_is_422(client: TestClient, runtime: Runtime) -> None:
    resp = client.post("/v1/admin/uploads", content=b"x")
    assert resp.status_code == 422
    assert resp.json()["code"] == "validation_failed"
    _nothing_left(runtime)


@pytest.fixture
def small_client(runtime: Runtime) -> Iterator[tuple[TestClient, Runtime]]:
    settings = runtime.settings.model_copy(update={"max_upload_bytes": 10_000})
    small = build_runtime(settings)
    with TestClient(create_app(runtime=small), headers=ADMIN_HEADERS) as c:
        yield c, small
    small.close()


def test_oversized_upload_is_413(small_client: tuple[TestClient, Runtime]) -> None:
    client, runtime = small_client
    # Declared too large: refused before a byte is read.
    resp = client.post("/v1/admin/uploads", params={"title": "big"}, content=b"\0" * 20_000)
    assert resp.status_code == 413
    assert resp.json()["code"] == "payload_too_large"

    # Chunked with no length: refused as soon as the limit is crossed.
    def chunks() -> Iterator[bytes]:
        for _ in range(10):
            yield b"\0" * 4096

    resp = client.post("/v1/admin/uploads", params={"title": "big"}, content=chunks())
    assert resp.status_code == 413
    _nothing_left(runtime)
