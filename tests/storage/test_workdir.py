"""Workdir: a worker's scratch space, swept after a crash, and local copies for FFmpeg."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from reelstack.storage import LocalStorage, MemoryStorage, ObjectNotFound
from reelstack.workdir import Workdir


def dead_pid() -> int:
    """The pid of a process that has exited (and been reaped) on this host."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_scratch_is_fresh_private_tagged_and_removed(tmp_path: Path) -> None:
    work = Workdir(tmp_path / "work")
    with work.scratch() as one, work.scratch() as two:
        assert one != two and one.parent == two.parent == tmp_path / "work"
        assert one.name.startswith(f"{os.getpid()}-")
        assert stat.S_IMODE(one.stat().st_mode) == 0o700
        assert list(one.iterdir()) == []
        (one / "deep").mkdir()
        (one / "deep" / "seg.m4s").write_bytes(b"x")
    assert list((tmp_path / "work").iterdir()) == []


def test_scratch_is_removed_on_error_too(tmp_path: Path) -> None:
    work = Workdir(tmp_path / "work")
    with pytest.raises(RuntimeError), work.scratch() as path:
        (path / "half.mp4").write_bytes(b"x")
        raise RuntimeError("ffmpeg failed")
    assert list((tmp_path / "work").iterdir()) == []


def test_sweep_removes_only_dirs_of_dead_processes(tmp_path: Path) -> None:
    work = Workdir(tmp_path / "work")
    dead = tmp_path / "work" / f"{dead_pid()}-abandoned"
    (dead / "v0").mkdir(parents=True)
    (dead / "v0" / "seg-00001.m4s").write_bytes(b"half")
    parent = tmp_path / "work" / f"{os.getppid()}-alive"  # a live process, not ours
    parent.mkdir()
    (tmp_path / "work" / "notes-1").mkdir()  # not a scratch dir's name
    (tmp_path / "work" / "99999999-file").write_bytes(b"a file, not a dir")
    with work.scratch() as mine:
        assert work.sweep() == [dead.name]
        assert mine.exists() and parent.exists() and not dead.exists()
        assert work.sweep() == []


def test_local_copy_of_a_local_object_is_the_file_itself(tmp_path: Path) -> None:
    store = LocalStorage(tmp_path / "media")
    store.put_stream("assets/a1/source/original.mp4", iter([b"video"]))
    work = Workdir(tmp_path / "work")
    with work.local_copy(store, "assets/a1/source/original.mp4") as path:
        assert path == store.file_path("assets/a1/source/original.mp4")
    assert path.exists()  # zero copy: nothing to remove
    assert list((tmp_path / "work").iterdir()) == []


def test_local_copy_of_a_remote_object_is_downloaded_then_removed(tmp_path: Path) -> None:
    store = MemoryStorage()
    store.put_stream("assets/a1/source/original.mp4", iter([b"video"]))
    work = Workdir(tmp_path / "work")
    with work.local_copy(store, "assets/a1/source/original.mp4") as path:
        assert path.read_bytes() == b"video"
        assert path.name == "original.mp4"  # FFmpeg may look at the suffix
        assert path.is_relative_to(tmp_path / "work")
    assert not path.exists()
    assert list((tmp_path / "work").iterdir()) == []


@pytest.mark.parametrize("store_kind", ["local", "memory"])
def test_local_copy_of_a_missing_object(tmp_path: Path, store_kind: str) -> None:
    store = LocalStorage(tmp_path / "media") if store_kind == "local" else MemoryStorage()
    work = Workdir(tmp_path / "work")
    with pytest.raises(ObjectNotFound), work.local_copy(store, "assets/a1/source/x.mp4"):
        pass
    assert list((tmp_path / "work").iterdir()) == []
