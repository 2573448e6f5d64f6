"""Local-disk storage for the embedded topology."""

from __future__ import annotations

import builtins
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from reelstack.storage.base import StoredObject


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class LocalStorage:
    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.root.mkdir(parents=True, exist_ok=True)
        self._tmp = self.root / ".staging"
        self._tmp.mkdir(exist_ok=True)

    def _path(self, key: str) -> Path:
        parts = [p for p in key.split("/") if p]
        if not parts or any(p in {".", ".."} or p.startswith(".") for p in parts):
            raise ValueError(f"invalid storage key: {key!r}")
        return self.root.joinpath(*parts)

    def put_file(self, key: str, src: Path, *, move: bool = False) -> None:
        dest = self._path(key)
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(f".{dest.name}.{uuid.uuid4().hex}")
        if move:
            shutil.move(src, tmp)
        else:
            shutil.copyfile(src, tmp)
        os.replace(tmp, dest)

    def put_tree(self, prefix: str, src_dir: Path) -> None:
        dest = self._path(prefix)
        dest.parent.mkdir(parents=True, exist_ok=True)
        # Build the new tree beside the old one, then swap: readers never see a half tree.
        incoming = dest.with_name(f".{dest.name}.{uuid.uuid4().hex}")
        # Staging lives under the same root, so this is a rename, not a copy of the ladder.
        shutil.move(src_dir, incoming)
        # mkdtemp made it private; published media must be readable by an edge server.
        incoming.chmod(0o755)
        old = dest.with_name(f".{dest.name}.old.{uuid.uuid4().hex}")
        if dest.exists():
            os.replace(dest, old)
        os.replace(incoming, dest)
        shutil.rmtree(old, ignore_errors=True)

    def open(self, key: str) -> BinaryIO:
        return self._path(key).open("rb")

    def stat(self, key: str) -> StoredObject:
        st = self._path(key).stat()
        return StoredObject(key=key, size=st.st_size, mtime=st.st_mtime)

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def delete_prefix(self, prefix: str) -> None:
        path = self._path(prefix)
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)

    def list(self, prefix: str) -> Iterator[StoredObject]:
        base = self._path(prefix)
        if not base.is_dir():
            return
        for path in sorted(base.rglob("*")):
            if path.is_file():
                rel = path.relative_to(self.root).as_posix()
                st = path.stat()
                yield StoredObject(key=rel, size=st.st_size, mtime=st.st_mtime)

    @contextmanager
    def local_path(self, key: str) -> Iterator[Path]:
        path = self._path(key)
        if not path.is_file():
            raise FileNotFoundError(key)
        yield path

    @contextmanager
    def staging_dir(self) -> Iterator[Path]:
        # The owner's pid in the name lets sweep_staging() tell abandoned dirs apart.
        path = Path(tempfile.mkdtemp(dir=self._tmp, prefix=f"{os.getpid()}-"))
        try:
            yield path
        finally:
            shutil.rmtree(path, ignore_errors=True)

    def sweep_staging(self) -> Sequence[str]:
        """Remove staging dirs whose process is gone (killed mid-upload or mid-transcode).

        The staging area is per host (it is local disk), so a pid names its owner.
        """
        removed: builtins.list[str] = []
        for path in self._tmp.iterdir():
            pid = path.name.split("-", 1)[0]
            if pid.isdigit() and not _alive(int(pid)):
                shutil.rmtree(path, ignore_errors=True)
                removed.append(path.name)
        return removed

    def direct_path(self, key: str) -> Path | None:
        try:
            path = self._path(key)
        except ValueError:
            return None
        return path if path.is_file() else None
