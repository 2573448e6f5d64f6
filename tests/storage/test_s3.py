"""What only S3Storage does: multipart uploads, paging, batching, errors, the bucket layout."""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import BotoCoreError, ClientError

from reelstack.storage import ObjectNotFound, StorageError
from reelstack.storage.s3 import S3Storage

MiB = 1024 * 1024

MakeS3 = Callable[..., S3Storage]


def count_calls(store: S3Storage, operation: str) -> list[dict[str, Any]]:
    """Record the parameters of every ``operation`` request the store's client makes."""
    seen: list[dict[str, Any]] = []

    def record(params: dict[str, Any], **_: Any) -> None:
        seen.append(params)

    store.client.meta.events.register(f"provide-client-params.s3.{operation}", record)
    return seen


def test_a_file_above_the_threshold_goes_up_in_parts(make_s3: MakeS3, tmp_path: Path) -> None:
    store = make_s3(multipart_threshold_bytes=5 * MiB, multipart_chunk_bytes=5 * MiB)
    parts = count_calls(store, "UploadPart")
    big = tmp_path / "big.mp4"
    data = os.urandom(11 * MiB)
    big.write_bytes(data)
    store.put_file("assets/a1/source/original.mp4", big)
    assert len(parts) == 3  # 5 + 5 + 1 MiB
    stat = store.stat("assets/a1/source/original.mp4")
    # S3 gives a multipart object the ETag "<md5 of the part md5s>-<parts>".
    assert stat.etag.endswith("-3") and stat.size == len(data)
    got = hashlib.sha256(store.read_bytes("assets/a1/source/original.mp4")).hexdigest()
    assert got == hashlib.sha256(data).hexdigest()

    small = tmp_path / "small.bin"
    small.write_bytes(b"x" * MiB)
    store.put_file("small", small)
    assert len(parts) == 3 and "-" not in store.stat("small").etag  # one plain PUT


def test_a_stream_of_unknown_size_goes_up_in_parts(make_s3: MakeS3) -> None:
    store = make_s3(multipart_threshold_bytes=5 * MiB, multipart_chunk_bytes=5 * MiB)
    data = os.urandom(6 * MiB)
    chunks = (data[i : i + 100_000] for i in range(0, len(data), 100_000))
    store.put_stream("upload.bin", chunks)
    assert store.stat("upload.bin").etag.endswith("-2")
    assert store.read_bytes("upload.bin") == data


def test_a_short_multipart_stream_is_aborted(make_s3: MakeS3, s3_admin: Any) -> None:
    store = make_s3(multipart_threshold_bytes=5 * MiB, multipart_chunk_bytes=5 * MiB)
    data = os.urandom(6 * MiB)
    with pytest.raises(ValueError, match="size"):
        store.put_stream("upload.bin", io.BytesIO(data), size=len(data) + 1)
    assert not store.exists("upload.bin")
    uploads = s3_admin.list_multipart_uploads(Bucket=store.bucket)
    assert uploads.get("Uploads", []) == []  # no half upload left to pay for


def test_listing_pages_and_deleting_in_batches(make_s3: MakeS3) -> None:
    store = make_s3(page_size=4)
    for i in range(10):
        store.put_stream(f"assets/a1/media/v1/seg-{i:05d}.m4s", iter([b"x"]))
    store.put_stream("assets/a10/keep", iter([b"x"]))
    lists = count_calls(store, "ListObjectsV2")
    deletes = count_calls(store, "DeleteObjects")
    assert len(list(store.list("assets/a1"))) == 10
    assert [p["MaxKeys"] for p in lists] == [4, 4, 4]
    lists.clear()
    store.delete_prefix("assets/a1")
    assert [len(d["Delete"]["Objects"]) for d in deletes] == [4, 4, 2]
    assert [o.key for o in store.list("assets")] == ["assets/a10/keep"]


def test_page_size_is_capped_at_s3s_limit(make_s3: MakeS3) -> None:
    with pytest.raises(ValueError, match="page_size"):
        make_s3(page_size=1001)
    assert make_s3(page_size=1000).page_size == 1000


def test_keys_live_below_the_prefix_in_the_bucket(make_s3: MakeS3, s3_admin: Any) -> None:
    store = make_s3("tenant/media/")
    assert store.prefix == "tenant/media"
    store.put_stream("assets/a1/media/v1/master.m3u8", iter([b"#EXTM3U"]))
    store.put_stream("assets/a1/media/v1/manifest.mpd", iter([b"<MPD/>"]))
    s3_admin.put_object(Bucket=store.bucket, Key="elsewhere/x", Body=b"not ours")
    raw = s3_admin.list_objects_v2(Bucket=store.bucket)["Contents"]
    assert sorted(o["Key"] for o in raw) == [
        "elsewhere/x",
        "tenant/media/assets/a1/media/v1/manifest.mpd",
        "tenant/media/assets/a1/media/v1/master.m3u8",
    ]
    assert [o.key for o in store.list("")] == [
        "assets/a1/media/v1/manifest.mpd",
        "assets/a1/media/v1/master.m3u8",
    ]
    head = s3_admin.head_object(
        Bucket=store.bucket, Key="tenant/media/assets/a1/media/v1/manifest.mpd"
    )
    assert head["ContentType"] == "application/dash+xml"


def test_errors_are_storage_errors_never_raw_botocore(make_s3: MakeS3, s3_endpoint: str) -> None:
    store = make_s3()
    with pytest.raises(ObjectNotFound) as missing:
        store.stat("no/such/key")
    assert not isinstance(missing.value, ClientError)

    gone = S3Storage("no-such-bucket-here", endpoint_url=s3_endpoint, max_attempts=1)
    for call in (
        lambda: gone.put_stream("k", iter([b"x"])),
        lambda: list(gone.list("")),
        lambda: gone.delete_prefix("p"),
    ):
        with pytest.raises(StorageError) as info:
            call()
        assert not isinstance(info.value, (ClientError, BotoCoreError))
        assert "no-such-bucket-here" in str(info.value) or "NoSuchBucket" in str(info.value)


def test_an_unreachable_endpoint_is_a_storage_error(unused_port_url: str) -> None:
    store = S3Storage("bucket", endpoint_url=unused_port_url, max_attempts=1)
    with pytest.raises(StorageError) as info:
        store.stat("k")
    assert not isinstance(info.value, ObjectNotFound)


def test_credentials_come_from_the_standard_aws_variables(
    new_bucket: Callable[[], str], s3_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = S3Storage(new_bucket(), endpoint_url=s3_endpoint)  # its own session: env chain
    store.put_stream("k", iter([b"v"]))
    assert store.read_bytes("k") == b"v"
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.delenv("AWS_SESSION_TOKEN")
    anonymous = S3Storage(new_bucket(), endpoint_url=s3_endpoint, max_attempts=1)
    with pytest.raises(StorageError, match="credentials"):
        anonymous.stat("k")


@pytest.fixture
def unused_port_url() -> str:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"
