"""A worker's local scratch space (FFmpeg reads and writes files, not objects).

Not part of Storage: a workdir is per host and per process, whatever the store is. Each
scratch dir is named after its owner's pid so that :meth:`Workdir.sweep` can remove those
left behind by a process that died (killed mid-upload or mid-transcode).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from reelstack.storage import LocalStorage, Storage


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        # It exists, owned by someone else.
        return True
    return True


class Workdir:
    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.root.mkdir(parents=True, exist_ok=True)

    @contextmanager
    def scratch(self) -> Iterator[Path]:
        """A fresh private (0700) directory, removed with everything in it afterwards."""
        path = Path(tempfile.mkdtemp(dir=self.root, prefix=f"{os.getpid()}-"))
        try:
            yield path
        finally:
            shutil.rmtree(path, ignore_errors=True)

    def sweep(self) -> list[str]:
        """Remove scratch dirs whose owning process is gone; return their names.

        The workdir is local disk, so a pid names a process of this host. Call it when a
        worker starts, before it makes scratch dirs of its own.
        """
        removed: list[str] = []
        for path in sorted(self.root.iterdir()):
            pid, sep, _ = path.name.partition("-")
            if not (sep and pid.isdigit() and path.is_dir()) or _alive(int(pid)):
                continue
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path.name)
        return removed

    @contextmanager
    def local_copy(self, storage: Storage, key: str) -> Iterator[Path]:
        """A local file holding the object, for the duration of the context.

        On local disk it is the stored file itself (no copy; do not write to it).
        Otherwise the object is downloaded into a scratch dir that is removed afterwards.
        Raises ObjectNotFound.
        """
        if isinstance(storage, LocalStorage):
            yield storage.file_path(key)
            return
        with self.scratch() as tmp:
            dest = tmp / key.rsplit("/", 1)[-1]
            storage.download(key, dest)
            yield dest
