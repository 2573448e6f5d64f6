"""The Storage seam: every media byte goes through it; nothing else builds media paths."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol


@dataclass(frozen=True)
class StoredObject:
    key: str
    size: int
    mtime: float


class Storage(Protocol):
    """Object storage keyed by '/'-separated strings (local disk now, S3 later)."""

    def put_file(self, key: str, src: Path, *, move: bool = False) -> None:
        """Store the file at ``src`` under ``key``; ``move`` lets a local store rename."""

    def put_tree(self, prefix: str, src_dir: Path) -> None:
        """Publish every file under ``src_dir`` below ``prefix``, replacing what was there.

        ``src_dir`` is consumed (moved when it can be); readers never see a partial tree.
        """

    def open(self, key: str) -> BinaryIO:
        """Open an object for reading; raises FileNotFoundError."""

    def stat(self, key: str) -> StoredObject:
        """Size and modification time; raises FileNotFoundError."""

    def exists(self, key: str) -> bool: ...

    def delete(self, key: str) -> None:
        """Delete one object; missing is fine."""

    def delete_prefix(self, prefix: str) -> None:
        """Delete every object under ``prefix``; missing is fine."""

    def list(self, prefix: str) -> Iterator[StoredObject]: ...

    def local_path(self, key: str) -> AbstractContextManager[Path]:
        """A local file holding the object for the duration of the context (for FFmpeg)."""

    def staging_dir(self) -> AbstractContextManager[Path]:
        """A fresh empty local directory for tools to write into; removed afterwards."""

    def sweep_staging(self) -> Sequence[str]:
        """Remove staging dirs left by processes of this host that have died."""

    def direct_path(self, key: str) -> Path | None:
        """The object's file on local disk when the store is local (zero-copy serving)."""


# Key layout lives here and only here.
def source_key(asset_id: str, suffix: str) -> str:
    clean = "".join(c for c in suffix.lower() if c.isalnum())[:8] or "bin"
    return f"assets/{asset_id}/source/original.{clean}"


def media_prefix(asset_id: str) -> str:
    return f"assets/{asset_id}/media"


def media_key(asset_id: str, name: str) -> str:
    return f"{media_prefix(asset_id)}/{name}"


def asset_prefix(asset_id: str) -> str:
    return f"assets/{asset_id}"
