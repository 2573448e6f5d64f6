"""Stores for the contract suite: local disk, memory, and S3 on a real moto server."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from reelstack.storage import LocalStorage, MemoryStorage, Storage
from reelstack.storage.s3 import S3Storage
from tests.s3server import TEST_AWS_ENV, moto_server

# Small pages, so that every S3 listing and prefix delete in the suite spans pages.
S3_TEST_PAGE_SIZE = 3


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    with moto_server() as endpoint:
        yield endpoint


@pytest.fixture(autouse=True)
def aws_test_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Dummy credentials for this test only; nothing from the developer's ~/.aws."""
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(name, raising=False)
    for name, value in TEST_AWS_ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))


@pytest.fixture(scope="session")
def boto_session() -> boto3.session.Session:
    """One session for the suite: loading botocore's models for each store is slow."""
    return boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing")


@pytest.fixture(scope="session")
def s3_admin(s3_endpoint: str, boto_session: boto3.session.Session) -> Any:
    """A plain boto3 client on the test server, to look behind S3Storage's back."""
    return boto_session.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")


@pytest.fixture
def new_bucket(s3_admin: Any) -> Callable[[], str]:
    def make() -> str:
        name = f"test-{uuid.uuid4().hex[:20]}"
        s3_admin.create_bucket(Bucket=name)
        return name

    return make


@pytest.fixture
def make_s3(
    s3_endpoint: str, new_bucket: Callable[[], str], boto_session: boto3.session.Session
) -> Callable[..., S3Storage]:
    """An S3Storage on a fresh bucket; keyword arguments go to S3Storage."""

    def make(prefix: str = "", **kwargs: Any) -> S3Storage:
        kwargs.setdefault("page_size", S3_TEST_PAGE_SIZE)
        kwargs.setdefault("session", boto_session)
        return S3Storage(new_bucket(), prefix, endpoint_url=s3_endpoint, **kwargs)

    return make


@pytest.fixture(params=["local", "memory", "s3", "s3-prefixed"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Storage:
    kind: str = request.param
    if kind == "local":
        return LocalStorage(tmp_path / "media")
    if kind == "memory":
        return MemoryStorage()
    make_s3: Callable[..., S3Storage] = request.getfixturevalue("make_s3")
    return make_s3("tenant/media" if kind == "s3-prefixed" else "")
