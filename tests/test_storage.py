"""LocalStorage: the only code that turns keys into paths."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from reelstack.storage import LocalStorage, asset_prefix, media_key, media_prefix, source_key


def test_put_open_stat_list_delete(tmp_path: Path) -> None:
    store = LocalStorage(tmp_path / "media")
    src = tmp_path / "file.bin"
    src.write_bytes(b"abc")
    key = source_key("a1", ".MP4")
    assert key == "assets/a1/source/original.mp4"
    store.put_file(key, src)
    assert src.exists()  # copied
    assert store.exists(key) and store.stat(key).size == 3
    with store.open(key) as fh:
        assert fh.read() == b"abc"
    store.put_file(key, src, move=True)
    assert not src.exists()  # moved
    assert [o.key for o in store.list("assets")] == [key]
    store.delete_prefix(asset_prefix("a1"))
    assert not store.exists(key)
    assert list(store.list("assets")) == []


def test_put_tree_swaps_whole_trees(tmp_path: Path) -> None:
    store = LocalStorage(tmp_path / "media")
    with store.staging_dir() as staging:
        (staging / "master.m3u8").write_text("v1")
        (staging / "old-segment.m4s").write_bytes(b"x")
        store.put_tree(media_prefix("a1"), staging)
    with store.staging_dir() as staging:
        (staging / "master.m3u8").write_text("v2")
        store.put_tree(media_prefix("a1"), staging)
    keys = [o.key for o in store.list(media_prefix("a1"))]
    assert keys == [media_key("a1", "master.m3u8")]  # nothing of the old tree survives
    path = store.direct_path(media_key("a1", "master.m3u8"))
    assert path is not None and path.read_text() == "v2"
    # Readable by other users (an nginx edge), unlike the private staging dir.
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o755
    assert list((tmp_path / "media" / ".staging").iterdir()) == []


@pytest.mark.parametrize("key", ["../etc/passwd", "assets/../../x", "assets/.staging/x", "", "/"])
def test_keys_cannot_escape_the_root(tmp_path: Path, key: str) -> None:
    store = LocalStorage(tmp_path / "media")
    with pytest.raises(ValueError):
        store.stat(key)
    assert store.direct_path(key) is None


def test_source_key_sanitises_suffix() -> None:
    assert source_key("a", Path("../../evil.sh;rm").suffix) == "assets/a/source/original.shrm"
    assert source_key("a", ".a/../b") == "assets/a/source/original.ab"
    assert source_key("a", "") == "assets/a/source/original.bin"


def test_sweep_staging_removes_only_dead_owners(tmp_path: Path) -> None:
    import os

    store = LocalStorage(tmp_path / "media")
    staging = tmp_path / "media" / ".staging"
    dead = staging / f"{2**22 + 11}-abandoned"  # above pid_max: no such process
    dead.mkdir()
    (dead / "seg-0-00001.m4s").write_bytes(b"half")
    with store.staging_dir() as mine:
        assert mine.name.startswith(f"{os.getpid()}-")
        assert store.sweep_staging() == [dead.name]
        assert mine.exists() and not dead.exists()
