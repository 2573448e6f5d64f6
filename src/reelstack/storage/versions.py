"""Which media versions of an asset are in a store (for the clean-up of old ones)."""

from __future__ import annotations

import re

from reelstack.storage.base import Storage, media_prefix

_VERSION_DIR = re.compile(r"^v(\d+)$")


def stored_versions(storage: Storage, asset_id: str) -> set[int]:
    """Version numbers that have at least one object under ``assets/{id}/media/v{n}/``."""
    base = media_prefix(asset_id) + "/"
    found: set[int] = set()
    for obj in storage.list(media_prefix(asset_id)):
        head = obj.key.removeprefix(base).split("/", 1)[0]
        match = _VERSION_DIR.match(head)
        if match:
            found.add(int(match.group(1)))
    return found
