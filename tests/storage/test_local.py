"""LocalStorage: what the contract cannot see (paths, modes, temp files, the old local API)."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from reelstack.storage import InvalidKey, LocalStorage, ObjectNotFound


@pytest.fixture
def strict_umask() -> Iterator[None]:
    old = os.umask(0o077)
    try:
        yield
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_objects_are_readable_by_an_edge_server_whatever_the_umask(
    tmp_path: Path, strict_umask: None
) -> None:
    store = LocalStorage(tmp_path / "media")
    src = tmp_path / "out"
    (src / "v0").mkdir(parents=True)
    (src / "v0" / "seg.m4s").write_bytes(b"x")
    (src / "v0" / "seg.m4s").chmod(0o600)
    store.put_tree("assets/a1/media/v1", src)
    store.put_stream("assets/a1/source/original.mp4", iter([b"x"]))
    seg = tmp_path / "media" / "assets" / "a1" / "media" / "v1" / "v0" / "seg.m4s"
    assert mode(seg) == 0o644
    assert mode(tmp_path / "media" / "assets" / "a1" / "source" / "original.mp4") == 0o644
    folder = seg.parent
    while folder != tmp_path:
        assert mode(folder) == 0o755, folder
        folder = folder.parent


def test_a_failed_write_leaves_the_old_file_and_no_temp_file(tmp_path: Path) -> None:
    store = LocalStorage(tmp_path / "media")
    store.put_stream("a/x", iter([b"old"]))

    def broken() -> Iterator[bytes]:
        yield b"partial"
        raise OSError("client went away")

    with pytest.raises(OSError, match="went away"):
        store.put_stream("a/x", broken())
    assert store.read_bytes("a/x") == b"old"
    assert sorted(p.name for p in (tmp_path / "media" / "a").iterdir()) == ["x"]


def test_hidden_files_are_not_objects(tmp_path: Path) -> None:
    store = LocalStorage(tmp_path / "media")
    store.put_stream("a/x", iter([b"1"]))
    (tmp_path / "media" / "a" / ".x.123.tmp").write_bytes(b"in flight")
    (tmp_path / "media" / ".staging" / "123-abc").mkdir(parents=True)
    (tmp_path / "media" / ".staging" / "123-abc" / "seg").write_bytes(b"old staging")
    assert [o.key for o in store.list("")] == ["a/x"]


def test_deleting_prunes_empty_folders(tmp_path: Path) -> None:
    store = LocalStorage(tmp_path / "media")
    store.put_stream("assets/a1/media/v1/x", iter([b"1"]))
    store.put_stream("assets/a1/source/original.mp4", iter([b"1"]))
    store.delete_prefix("assets/a1/media/v1")
    assert not (tmp_path / "media" / "assets" / "a1" / "media").exists()
    store.delete("assets/a1/source/original.mp4")
    assert list((tmp_path / "media").iterdir()) == []
    store.put_stream("assets/a1/source/original.mp4", iter([b"2"]))  # folders come back
    assert store.read_bytes("assets/a1/source/original.mp4") == b"2"


def test_file_path_is_the_object_itself(tmp_path: Path) -> None:
    store = LocalStorage(tmp_path / "media")
    store.put_stream("a/b", iter([b"1"]))
    assert store.file_path("a/b") == tmp_path / "media" / "a" / "b"
    with pytest.raises(ObjectNotFound):
        store.file_path("a/missing")
    with pytest.raises(ObjectNotFound):
        store.file_path("a")  # a folder
    with pytest.raises(InvalidKey):
        store.file_path("../media/a/b")
