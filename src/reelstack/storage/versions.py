"""What media of an asset a store holds (for the clean-up of old versions)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from reelstack.storage.base import Storage, media_prefix

_VERSION_DIR = re.compile(r"^v(\d+)$")


@dataclass
class StoredMedia:
    # Version numbers with at least one object under ``assets/{id}/media/v{n}/``.
    versions: set[int] = field(default_factory=set)
    # Keys of the layout before versioning: files directly under ``assets/{id}/media/``.
    unversioned: list[str] = field(default_factory=list)


def stored_media(storage: Storage, asset_id: str) -> StoredMedia:
    """The asset's media versions and unversioned files, from one listing."""
    base = media_prefix(asset_id) + "/"
    found = StoredMedia()
    for obj in storage.list(media_prefix(asset_id)):
        head, sep, _ = obj.key.removeprefix(base).partition("/")
        if not sep:
            found.unversioned.append(obj.key)
        elif match := _VERSION_DIR.match(head):
            found.versions.add(int(match.group(1)))
    return found
