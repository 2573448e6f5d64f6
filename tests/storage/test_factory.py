"""Choosing the store from settings: the URL, its checks, and the runtime wiring."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from reelstack.config import Settings
from reelstack.storage import LocalStorage, MemoryStorage, parse_storage_url, storage_from_url
from reelstack.storage.s3 import S3Storage


def settings(tmp_path: Path, **kwargs: Any) -> Settings:
    return Settings(data_dir=tmp_path / "var", **kwargs)


def test_default_is_local_disk_under_the_data_dir(tmp_path: Path) -> None:
    s = settings(tmp_path)
    assert s.storage_url is None
    store = storage_from_url(None, data_dir=s.data_dir, settings=s)
    assert isinstance(store, LocalStorage) and store.root == (tmp_path / "var" / "media")
    assert s.resolved_work_dir == tmp_path / "var" / "work"
    assert settings(tmp_path, work_dir=tmp_path / "w").resolved_work_dir == tmp_path / "w"


def test_file_and_memory_urls(tmp_path: Path) -> None:
    s = settings(tmp_path, storage_url=f"file://{tmp_path}/elsewhere")
    store = storage_from_url(s.storage_url, data_dir=s.data_dir, settings=s)
    assert isinstance(store, LocalStorage) and store.root == tmp_path / "elsewhere"
    mem = storage_from_url("memory://", data_dir=s.data_dir, settings=s)
    assert isinstance(mem, MemoryStorage)


def test_s3_url_and_settings(tmp_path: Path) -> None:
    s = settings(
        tmp_path,
        storage_url="s3://media-bucket/prod/reelstack/",
        s3_endpoint_url="http://127.0.0.1:9000",
        s3_region="eu-west-1",
        s3_multipart_threshold_bytes=32 * 1024 * 1024,
    )
    store = storage_from_url(s.storage_url, data_dir=s.data_dir, settings=s)
    assert isinstance(store, S3Storage)
    assert (store.bucket, store.prefix) == ("media-bucket", "prod/reelstack")
    assert store.client.meta.endpoint_url == "http://127.0.0.1:9000"
    assert store.client.meta.region_name == "eu-west-1"
    assert store.transfer.multipart_threshold == 32 * 1024 * 1024


def test_settings_read_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REELSTACK_STORAGE_URL", "s3://bucket")
    monkeypatch.setenv("REELSTACK_S3_ENDPOINT_URL", "https://s3.example.test")
    monkeypatch.setenv("REELSTACK_WORK_DIR", str(tmp_path / "scratch"))
    s = Settings()
    assert s.storage_url == "s3://bucket"
    assert s.s3_endpoint_url == "https://s3.example.test"
    assert s.resolved_work_dir == tmp_path / "scratch"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("/srv/media", "unknown scheme ''"),
        ("ftp://host/x", "unknown scheme 'ftp'"),
        ("file://relative/path", "absolute path, three slashes"),
        ("file:///", "absolute and not '/'"),
        ("memory://somewhere", "just memory://"),
        ("s3://", "not a valid S3 bucket name"),
        ("s3://My_Bucket/x", "not a valid S3 bucket name"),
        ("s3://bucket/../escape", "bad key prefix"),
        ("s3://bucket/a//b", "bad key prefix"),
        ("s3://bucket/x?versioning=1", "no query"),
    ],
)
def test_bad_urls_fail_at_settings_load_with_a_clear_message(
    tmp_path: Path, url: str, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        parse_storage_url(url)
    with pytest.raises(ValidationError, match=message):
        settings(tmp_path, storage_url=url)


@pytest.mark.parametrize("endpoint", ["127.0.0.1:9000", "ftp://x", "http://host/path"])
def test_bad_endpoint_urls_are_refused(tmp_path: Path, endpoint: str) -> None:
    with pytest.raises(ValidationError, match="REELSTACK_S3_ENDPOINT_URL"):
        settings(tmp_path, s3_endpoint_url=endpoint)
