"""LocalStorage: what the contract cannot see (paths, modes, temp files, the old local API)."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from reelstack.storage import InvalidKey, LocalStorage, ObjectNotFound, media_prefix, source_key


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


# The local-only API below stays until its callers move to Workdir and versioned keys.


def test_old_api_put_file_move_and_local_path(tmp_path: Path) -> None:
    store = LocalStorage(tmp_path / "media")
    src = tmp_path / "file.bin"
    src.write_bytes(b"abc")
    key = source_key("a1", ".MP4")
    store.put_file(key, src, move=True)
    assert not src.exists()  # moved
    with store.local_path(key) as path:
        assert path.read_bytes() == b"abc" and mode(path) == 0o644
    assert store.direct_path(key) == tmp_path / "media" / key


@pytest.mark.parametrize("key", ["../etc/passwd", "assets/../../x", "assets/.staging/x", "", "/"])
def test_old_api_direct_path_refuses_bad_keys(tmp_path: Path, key: str) -> None:
    assert LocalStorage(tmp_path / "media").direct_path(key) is None


def test_old_api_staging_into_put_tree(tmp_path: Path) -> None:
    store = LocalStorage(tmp_path / "media")
    with store.staging_dir() as staging:
        (staging / "master.m3u8").write_text("v1")
        store.put_tree(media_prefix("a1"), staging)
    assert store.read_bytes(f"{media_prefix('a1')}/master.m3u8") == b"v1"
    assert list((tmp_path / "media" / ".staging").iterdir()) == []


def test_old_api_sweep_staging_removes_only_dead_owners(tmp_path: Path) -> None:
    store = LocalStorage(tmp_path / "media")
    staging = tmp_path / "media" / ".staging"
    staging.mkdir()
    dead = staging / f"{2**22 + 11}-abandoned"  # above pid_max: no such process
    dead.mkdir()
    (dead / "seg-0-00001.m4s").write_bytes(b"half")
    with store.staging_dir() as mine:
        assert mine.name.startswith(f"{os.getpid()}-")
        assert store.sweep_staging() == [dead.name]
        assert mine.exists() and not dead.exists()
