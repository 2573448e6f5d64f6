"""Choose a Storage from a URL: ``file:///abs/path``, ``memory://`` or ``s3://bucket/prefix``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from reelstack.storage.base import InvalidKey, Storage, validate_prefix
from reelstack.storage.local import LocalStorage
from reelstack.storage.memory import MemoryStorage

if TYPE_CHECKING:
    from reelstack.config import Settings

# Lower-case letters, digits, dots and hyphens; 3-63 characters (S3's bucket naming rules).
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_EXAMPLES = "file:///srv/reelstack/media, memory:// or s3://bucket/optional/prefix"


@dataclass(frozen=True)
class StorageLocation:
    scheme: str  # "file", "memory" or "s3"
    path: Path | None = None
    bucket: str = ""
    prefix: str = ""


def parse_storage_url(url: str) -> StorageLocation:
    """Check a storage URL and split it; raises ValueError saying what is wrong."""
    parts = urlsplit(url.strip())
    if parts.query or parts.fragment:
        raise ValueError(f"storage URL {url!r}: no query or fragment allowed ({_EXAMPLES})")
    if parts.scheme == "file":
        if parts.netloc not in ("", "localhost"):
            raise ValueError(
                f"storage URL {url!r}: a file URL needs an absolute path, three slashes: "
                "file:///srv/reelstack/media"
            )
        if not parts.path.startswith("/") or parts.path.rstrip("/") == "":
            raise ValueError(f"storage URL {url!r}: the path must be absolute and not '/'")
        return StorageLocation(scheme="file", path=Path(parts.path))
    if parts.scheme == "memory":
        if parts.netloc or parts.path.strip("/"):
            raise ValueError(f"storage URL {url!r}: write just memory://")
        return StorageLocation(scheme="memory")
    if parts.scheme == "s3":
        bucket = parts.netloc
        if not _BUCKET.match(bucket) or ".." in bucket:
            raise ValueError(
                f"storage URL {url!r}: {bucket!r} is not a valid S3 bucket name "
                "(3-63 lower-case letters, digits, dots or hyphens)"
            )
        prefix = parts.path.strip("/")
        try:
            validate_prefix(prefix, allow_empty=True)
        except InvalidKey as exc:
            raise ValueError(f"storage URL {url!r}: bad key prefix ({exc})") from None
        return StorageLocation(scheme="s3", bucket=bucket, prefix=prefix)
    raise ValueError(f"storage URL {url!r}: unknown scheme {parts.scheme!r}; use {_EXAMPLES}")


def storage_from_url(url: str | None, *, data_dir: Path, settings: Settings) -> Storage:
    """The store a URL names; ``None`` means local disk under ``{data_dir}/media``."""
    if url is None:
        return LocalStorage(data_dir / "media")
    where = parse_storage_url(url)
    if where.scheme == "memory":
        return MemoryStorage()
    if where.scheme == "s3":
        # Imported here so that local-only deployments never load boto3.
        from reelstack.storage.s3 import S3Storage

        return S3Storage(
            where.bucket,
            where.prefix,
            endpoint_url=settings.s3_endpoint_url,
            region=settings.s3_region,
            multipart_threshold_bytes=settings.s3_multipart_threshold_bytes,
        )
    assert where.path is not None
    return LocalStorage(where.path)
