"""Storage seam and key layout."""

from reelstack.storage.base import (
    Storage,
    StoredObject,
    asset_prefix,
    media_key,
    media_prefix,
    source_key,
)
from reelstack.storage.local import LocalStorage

__all__ = [
    "LocalStorage",
    "Storage",
    "StoredObject",
    "asset_prefix",
    "media_key",
    "media_prefix",
    "source_key",
]
