"""Local-disk storage: one file per object under a root directory.

Writes go to a hidden temporary file beside the target and are renamed into place, so a
reader sees the old object or the new one, never half of one. Files are 0644 and folders
0755 whatever the umask, so an edge server (nginx) running as another user can serve them.
"""

from __future__ import annotations

import builtins
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
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
_FILE_MODE = 0o644
_DIR_MODE = 0o755


def _etag(st: os.stat_result) -> str:
    # Every write is a new file (temp + rename), so inode and mtime change with the content.
    return f"{st.st_ino:x}-{st.st_mtime_ns:x}-{st.st_size:x}"


class LocalStorage:
    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self._mkdirs(self.root)

    # -- keys and paths ---------------------------------------------------------------

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*validate_key(key).split("/"))

    def _prefix_path(self, prefix: str) -> Path:
        if prefix == "":
            return self.root
        return self.root.joinpath(*validate_prefix(prefix).split("/"))

    def _mkdirs(self, path: Path) -> None:
        missing: builtins.list[Path] = []
        while not path.is_dir():
            missing.append(path)
            path = path.parent
        for folder in reversed(missing):
            with suppress(FileExistsError):
                folder.mkdir()
                # mkdir's mode is filtered by the umask; chmod is not.
                folder.chmod(_DIR_MODE)

    def file_path(self, key: str) -> Path:
        """The object's own file, for zero-copy reads (FFmpeg input, sendfile).

        Raises :class:`ObjectNotFound`. Treat the file as read-only.
        """
        path = self._path(key)
        if not path.is_file():
            raise ObjectNotFound(key)
        return path

    # -- writes ------------------------------------------------------------------------

    @contextmanager
    def _atomic(self, key: str) -> Iterator[BinaryIO]:
        dest = self._path(key)
        for attempt in range(3):
            self._mkdirs(dest.parent)
            try:
                fd, tmp_name = tempfile.mkstemp(
                    dir=dest.parent, prefix=f".{dest.name}.", suffix=".tmp"
                )
                break
            except FileNotFoundError:
                # A concurrent delete pruned the empty folder between mkdir and mkstemp.
                if attempt == 2:
                    raise
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as fh:
                yield fh
            tmp.chmod(_FILE_MODE)
            os.replace(tmp, dest)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    def put_file(self, key: str, path: Path) -> None:
        """Copy ``path`` in (atomically: readers see the old object or the whole new one)."""
        with path.open("rb") as src, self._atomic(key) as fh:
            shutil.copyfileobj(src, fh, _CHUNK)

    def put_stream(
        self, key: str, stream: BinaryIO | Iterable[bytes], *, size: int | None = None
    ) -> None:
        with self._atomic(key) as fh:
            for chunk in SizeCheckedChunks(stream, size, _CHUNK):
                fh.write(chunk)

    def put_tree(self, prefix: str, src_dir: Path) -> None:
        put_tree_files(self, prefix, src_dir)

    # -- reads -------------------------------------------------------------------------

    def open_range(self, key: str, start: int = 0, end: int | None = None) -> ObjectStream:
        check_range(start, end)
        path = self._path(key)
        try:
            fh = path.open("rb")
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            raise ObjectNotFound(key) from None
        try:
            size = os.fstat(fh.fileno()).st_size
            first = min(start, size)
            last = size if end is None else min(end, size)
            fh.seek(first)
        except BaseException:
            fh.close()
            raise

        def chunks() -> Iterator[bytes]:
            left = last - first
            while left > 0:
                chunk = fh.read(min(_CHUNK, left))
                if not chunk:
                    return
                left -= len(chunk)
                yield chunk

        return ObjectStream(chunks(), start=first, end=last, size=size, close=fh.close)

    def read_bytes(self, key: str) -> bytes:
        return self.open_range(key).read_all()

    def stat(self, key: str) -> StoredObject:
        path = self._path(key)
        try:
            st = path.stat()
        except (FileNotFoundError, NotADirectoryError):
            raise ObjectNotFound(key) from None
        if not path.is_file():
            raise ObjectNotFound(key)
        return StoredObject(key=key, size=st.st_size, mtime=st.st_mtime, etag=_etag(st))

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def list(self, prefix: str) -> Iterator[StoredObject]:
        base = self._prefix_path(prefix)
        if not base.is_dir():
            return
        found: builtins.list[tuple[str, os.stat_result]] = []
        for dirpath, dirnames, filenames in os.walk(base):
            # Hidden names are this store's temp files.
            dirnames[:] = [d for d in dirnames if not d.startswith(".")]
            for name in filenames:
                if name.startswith("."):
                    continue
                path = Path(dirpath, name)
                with suppress(FileNotFoundError):
                    found.append((path.relative_to(self.root).as_posix(), path.stat()))
        for key, st in sorted(found, key=lambda item: item[0]):
            yield StoredObject(key=key, size=st.st_size, mtime=st.st_mtime, etag=_etag(st))

    def download(self, key: str, dest: Path) -> None:
        with self.open_range(key) as stream:
            dest.parent.mkdir(parents=True, exist_ok=True)
            tmp = dest.with_name(f".{dest.name}.{uuid.uuid4().hex}.tmp")
            try:
                with tmp.open("wb") as fh:
                    for chunk in stream:
                        fh.write(chunk)
                os.replace(tmp, dest)
            except BaseException:
                tmp.unlink(missing_ok=True)
                raise

    def url(self, key: str, expires_s: int) -> str | None:  # noqa: ARG002 (the seam's signature)
        validate_key(key)
        return None

    # -- deletes -----------------------------------------------------------------------

    def delete(self, key: str) -> None:
        path = self._path(key)
        if path.is_dir():
            return  # a folder is not an object
        path.unlink(missing_ok=True)
        self._prune(path.parent)

    def delete_prefix(self, prefix: str) -> None:
        path = self._prefix_path(validate_prefix(prefix))
        if path.is_dir():
            shutil.rmtree(path)
            self._prune(path.parent)

    def _prune(self, folder: Path) -> None:
        # Empty folders are not objects; drop them so the tree mirrors what list() shows.
        while folder != self.root and folder.is_relative_to(self.root):
            try:
                folder.rmdir()
            except OSError:
                return
            folder = folder.parent
