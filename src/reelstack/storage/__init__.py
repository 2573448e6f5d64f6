"""Storage seam and key layout.

``S3Storage`` lives in :mod:`reelstack.storage.s3` (imported on demand, so that local-only
deployments never load boto3); :func:`storage_from_url` picks a store from settings.
"""

from reelstack.storage.base import (
    InvalidKey,
    ObjectNotFound,
    ObjectStream,
    Storage,
    StorageError,
    StoredObject,
    asset_prefix,
    media_key,
    media_prefix,
    media_version_key,
    media_version_prefix,
    source_key,
    validate_key,
    validate_prefix,
)
from reelstack.storage.factory import StorageLocation, parse_storage_url, storage_from_url
from reelstack.storage.local import LocalStorage
from reelstack.storage.memory import MemoryStorage

__all__ = [
    "InvalidKey",
    "LocalStorage",
    "MemoryStorage",
    "ObjectNotFound",
    "ObjectStream",
    "Storage",
    "StorageError",
    "StorageLocation",
    "StoredObject",
    "asset_prefix",
    "media_key",
    "media_prefix",
    "media_version_key",
    "media_version_prefix",
    "parse_storage_url",
    "source_key",
    "storage_from_url",
    "validate_key",
    "validate_prefix",
]
