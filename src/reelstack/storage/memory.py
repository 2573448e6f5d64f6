"""In-memory storage: a dict behind a lock, for fast tests of code that uses Storage."""

from __future__ import annotations

import builtins
import hashlib
import os
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from reelstack.storage.base import (
    ObjectNotFound,
    ObjectStream,
    SizeCheckedChunks,
    StoredObject,
    check_range,
    put_tree_files,
    validate_key,
    validate_prefix,
)

_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class _Entry:
    data: bytes
    mtime: float
    etag: str


def _under(key: str, prefix: str) -> bool:
    return prefix == "" or key.startswith(prefix + "/")


class MemoryStorage:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._objects: dict[str, _Entry] = {}

    def _put(self, key: str, data: bytes) -> None:
        entry = _Entry(
            data=data, mtime=time.time(), etag=hashlib.md5(data, usedforsecurity=False).hexdigest()
        )
        with self._lock:
            self._objects[key] = entry

    def _get(self, key: str) -> _Entry:
        validate_key(key)
        with self._lock:
            entry = self._objects.get(key)
        if entry is None:
            raise ObjectNotFound(key)
        return entry

    def put_file(self, key: str, path: Path) -> None:
        validate_key(key)
        self._put(key, path.read_bytes())

    def put_stream(
        self, key: str, stream: BinaryIO | Iterable[bytes], *, size: int | None = None
    ) -> None:
        validate_key(key)
        self._put(key, b"".join(SizeCheckedChunks(stream, size, _CHUNK)))

    def put_tree(self, prefix: str, src_dir: Path) -> None:
        put_tree_files(self, prefix, src_dir)

    def open_range(self, key: str, start: int = 0, end: int | None = None) -> ObjectStream:
        check_range(start, end)
        data = self._get(key).data
        first = min(start, len(data))
        last = len(data) if end is None else min(end, len(data))
        view = memoryview(data)[first:last]
        chunks = (bytes(view[i : i + _CHUNK]) for i in range(0, len(view), _CHUNK))
        return ObjectStream(chunks, start=first, end=last, size=len(data), close=view.release)

    def read_bytes(self, key: str) -> bytes:
        return self._get(key).data

    def stat(self, key: str) -> StoredObject:
        entry = self._get(key)
        return StoredObject(key=key, size=len(entry.data), mtime=entry.mtime, etag=entry.etag)

    def exists(self, key: str) -> bool:
        validate_key(key)
        with self._lock:
            return key in self._objects

    def list(self, prefix: str) -> Iterator[StoredObject]:
        validate_prefix(prefix, allow_empty=True)
        with self._lock:
            found = sorted(
                ((k, e) for k, e in self._objects.items() if _under(k, prefix)),
                key=lambda item: item[0],
            )
        for key, e in found:
            yield StoredObject(key=key, size=len(e.data), mtime=e.mtime, etag=e.etag)

    def delete(self, key: str) -> None:
        validate_key(key)
        with self._lock:
            self._objects.pop(key, None)

    def delete_prefix(self, prefix: str) -> None:
        validate_prefix(prefix)
        with self._lock:
            doomed: builtins.list[str] = [k for k in self._objects if _under(k, prefix)]
            for key in doomed:
                del self._objects[key]

    def download(self, key: str, dest: Path) -> None:
        data = self._get(key).data
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(f".{dest.name}.{uuid.uuid4().hex}.tmp")
        try:
            tmp.write_bytes(data)
            os.replace(tmp, dest)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    def url(self, key: str, expires_s: int) -> str | None:  # noqa: ARG002 (the seam's signature)
        validate_key(key)
        return None
