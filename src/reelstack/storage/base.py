"""The Storage seam: every media byte goes through it; nothing else builds media keys.

A store holds immutable-by-convention objects named by '/'-separated keys. Published
media is versioned (``assets/{id}/media/v{n}/...``): a new transcode writes a fresh prefix
and never overwrites, so no implementation needs multi-object atomicity.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO, Protocol


class StorageError(Exception):
    """A store failed for a reason other than a missing object (network, permissions...)."""


class ObjectNotFound(StorageError, FileNotFoundError):
    """No object under this key."""

    def __init__(self, key: str) -> None:
        super().__init__(f"no such object: {key!r}")
        self.key = key


class InvalidKey(StorageError, ValueError):
    """A key that could escape its store, or mean different things in different stores."""


@dataclass(frozen=True)
class StoredObject:
    key: str
    size: int
    # Seconds since the epoch (UTC).
    mtime: float
    # Opaque, changes whenever the content is rewritten; stable between reads.
    etag: str


class ObjectStream:
    """The bytes of ``[start, end)`` of one object, as an iterator of chunks.

    Close it (or use it as a context manager) when not reading to the end; reading to
    the end closes it. ``size`` is the whole object's size, so a caller can build an HTTP
    ``Content-Range`` without another request.
    """

    def __init__(
        self, chunks: Iterator[bytes], *, start: int, end: int, size: int, close: Callable[[], None]
    ) -> None:
        self._chunks = chunks
        self._close = close
        self._closed = False
        self.start = start
        self.end = end
        self.size = size

    @property
    def length(self) -> int:
        return self.end - self.start

    def __iter__(self) -> ObjectStream:
        return self

    def __next__(self) -> bytes:
        if self._closed:
            raise StopIteration
        try:
            return next(self._chunks)
        except StopIteration:
            self.close()
            raise
        except BaseException:
            self.close()
            raise

    def read_all(self) -> bytes:
        with self:
            return b"".join(self)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._close()

    def __enter__(self) -> ObjectStream:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class Storage(Protocol):
    """Object storage keyed by '/'-separated strings: local disk, memory or S3.

    Every key is checked by :func:`validate_key` (prefixes by :func:`validate_prefix`)
    before anything else, so all stores refuse the same keys with :class:`InvalidKey`.
    A prefix names a folder: ``list("assets/a1")`` sees ``assets/a1/x``, never
    ``assets/a10/x``. Reads of a missing key raise :class:`ObjectNotFound`.
    """

    def put_file(self, key: str, path: Path) -> None:
        """Store a copy of the local file ``path`` under ``key`` (replacing any object)."""

    def put_stream(
        self, key: str, stream: BinaryIO | Iterable[bytes], *, size: int | None = None
    ) -> None:
        """Store everything read from ``stream`` (a binary file or an iterable of chunks).

        ``size``, when given, is checked: a stream that ends early or runs past it raises
        ``ValueError`` and stores nothing. ``None`` means unknown (read to the end).
        """

    def put_tree(self, prefix: str, src_dir: Path) -> None:
        """Store every file under ``src_dir`` as ``{prefix}/{relative path}``.

        ``src_dir`` is left as it was. Objects already under ``prefix`` are not removed:
        publish to a fresh (versioned) prefix.
        """

    def open_range(self, key: str, start: int = 0, end: int | None = None) -> ObjectStream:
        """Read bytes ``start`` (inclusive) to ``end`` (exclusive), like ``data[start:end]``.

        ``end=None`` reads to the end of the object; a range past the end is clamped, so it
        may yield fewer bytes or none. Raises :class:`ObjectNotFound` at once (not on the
        first chunk) and ``ValueError`` for a negative ``start`` or ``end < start``.
        """

    def read_bytes(self, key: str) -> bytes:
        """The whole object; for small objects such as manifests."""

    def stat(self, key: str) -> StoredObject:
        """Size, modification time and ETag."""

    def exists(self, key: str) -> bool: ...

    def list(self, prefix: str) -> Iterator[StoredObject]:
        """Every object below ``prefix`` (``""`` for all), in key order."""

    def delete(self, key: str) -> None:
        """Delete one object; missing is fine."""

    def delete_prefix(self, prefix: str) -> None:
        """Delete every object below ``prefix``; missing is fine. ``""`` is refused."""

    def download(self, key: str, dest: Path) -> None:
        """Copy the object to the local file ``dest`` (replaced), e.g. for FFmpeg."""

    def url(self, key: str, expires_s: int) -> str | None:
        """A time-limited URL a client can GET directly (S3), or None (local, memory)."""


_SEGMENT_OK = re.compile(r"^[^/\\\x00-\x1f\x7f]+$")


def validate_key(key: str) -> str:
    """Return ``key`` if it is a safe object key in every store, else raise InvalidKey.

    Refused: empty keys or parts (leading, trailing or doubled '/'), parts starting with
    '.' (covers '.' and '..'; names starting with a dot are reserved for a store's own
    temporary files), backslashes and control characters.
    """
    if not isinstance(key, str) or not key:
        raise InvalidKey(f"invalid storage key: {key!r} (empty)")
    if len(key.encode()) > 1024:
        raise InvalidKey(f"invalid storage key: {key[:64]!r}... (over 1024 bytes)")
    for part in key.split("/"):
        if not part:
            raise InvalidKey(f"invalid storage key: {key!r} (empty part)")
        if part.startswith("."):
            raise InvalidKey(f"invalid storage key: {key!r} (part starts with '.')")
        if not _SEGMENT_OK.match(part):
            raise InvalidKey(f"invalid storage key: {key!r} (backslash or control character)")
    return key


def validate_prefix(prefix: str, *, allow_empty: bool = False) -> str:
    """Like :func:`validate_key`; ``""`` (the whole store) only when ``allow_empty``."""
    if prefix == "" and allow_empty:
        return prefix
    return validate_key(prefix)


def check_range(start: int, end: int | None) -> None:
    if start < 0:
        raise ValueError(f"range start must be >= 0, got {start}")
    if end is not None and end < start:
        raise ValueError(f"range end {end} is before start {start}")


class SizeCheckedChunks:
    """Chunks of a stream, checked against an expected total size when one is given."""

    def __init__(self, stream: BinaryIO | Iterable[bytes], size: int | None, chunk_size: int):
        if size is not None and size < 0:
            raise ValueError(f"size must be >= 0, got {size}")
        self._stream = stream
        self._size = size
        self._chunk_size = chunk_size
        self.count = 0

    def __iter__(self) -> Iterator[bytes]:
        read: Any = getattr(self._stream, "read", None)
        chunks: Iterable[bytes]
        if callable(read):
            chunks = iter(lambda: read(self._chunk_size) or b"", b"")
        else:
            chunks = self._stream
        for chunk in chunks:
            if not chunk:
                continue
            self.count += len(chunk)
            if self._size is not None and self.count > self._size:
                raise ValueError(f"stream is longer than its declared size {self._size}")
            yield bytes(chunk)
        if self._size is not None and self.count != self._size:
            raise ValueError(f"stream ended at {self.count} bytes, declared size {self._size}")


def tree_files(src_dir: Path) -> Iterator[tuple[str, Path]]:
    """``(relative key, path)`` for every regular file under ``src_dir``, in key order."""
    if not src_dir.is_dir():
        raise NotADirectoryError(str(src_dir))
    found = [
        (path.relative_to(src_dir).as_posix(), path)
        for path in src_dir.rglob("*")
        if path.is_file() and not path.is_symlink()
    ]
    yield from sorted(found)


def put_tree_files(store: Storage, prefix: str, src_dir: Path) -> None:
    """``put_tree`` in terms of ``put_file``: every file below ``src_dir``, one by one."""
    validate_prefix(prefix)
    for rel, path in tree_files(src_dir):
        store.put_file(join_key(prefix, rel), path)


def join_key(prefix: str, rel: str) -> str:
    return validate_key(f"{prefix}/{rel}" if prefix else rel)


# Key layout lives here and only here.
def source_key(asset_id: str, suffix: str) -> str:
    clean = "".join(c for c in suffix.lower() if c.isalnum())[:8] or "bin"
    return f"assets/{asset_id}/source/original.{clean}"


def asset_prefix(asset_id: str) -> str:
    return f"assets/{asset_id}"


def media_prefix(asset_id: str) -> str:
    """Everything published for an asset, all versions."""
    return f"{asset_prefix(asset_id)}/media"


def media_key(asset_id: str, name: str) -> str:
    """An unversioned media key (the layout before versioned publishing)."""
    return f"{media_prefix(asset_id)}/{name}"


def media_version_prefix(asset_id: str, version: int) -> str:
    """One immutable published version of an asset's media: ``assets/{id}/media/v{n}``."""
    if version < 1:
        raise ValueError(f"media versions start at 1, got {version}")
    return f"{media_prefix(asset_id)}/v{version}"


def media_version_key(asset_id: str, version: int, name: str) -> str:
    return validate_key(f"{media_version_prefix(asset_id, version)}/{name}")
