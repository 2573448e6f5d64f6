"""One contract, every store: local disk, memory and S3 (moto) must behave alike."""

from __future__ import annotations

import io
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from reelstack.storage import (
    InvalidKey,
    ObjectNotFound,
    Storage,
    media_version_key,
    media_version_prefix,
)
from reelstack.storage.s3 import S3Storage

DATA = bytes(range(256)) * 40  # 10240 bytes, every offset tells its position


def put(store: Storage, key: str, data: bytes) -> None:
    store.put_stream(key, io.BytesIO(data), size=len(data))


def keys(store: Storage, prefix: str) -> list[str]:
    return [o.key for o in store.list(prefix)]


def test_put_file_round_trip(store: Storage, tmp_path: Path) -> None:
    src = tmp_path / "clip.mp4"
    src.write_bytes(DATA)
    store.put_file("assets/a1/source/original.mp4", src)
    assert src.read_bytes() == DATA  # the source is left as it was
    assert store.exists("assets/a1/source/original.mp4")
    assert store.read_bytes("assets/a1/source/original.mp4") == DATA
    assert store.stat("assets/a1/source/original.mp4").size == len(DATA)

    src.write_bytes(b"replaced")
    store.put_file("assets/a1/source/original.mp4", src)
    assert store.read_bytes("assets/a1/source/original.mp4") == b"replaced"


def test_put_stream_of_unknown_size(store: Storage) -> None:
    def chunks() -> Iterator[bytes]:
        for i in range(0, len(DATA), 1000):
            yield DATA[i : i + 1000]

    store.put_stream("a/chunks.bin", chunks())
    store.put_stream("a/file.bin", io.BytesIO(DATA))
    store.put_stream("a/empty.bin", iter([]))
    assert store.read_bytes("a/chunks.bin") == DATA
    assert store.read_bytes("a/file.bin") == DATA
    assert store.read_bytes("a/empty.bin") == b""
    assert store.stat("a/empty.bin").size == 0


@pytest.mark.parametrize("declared", [len(DATA) - 1, len(DATA) + 1])
def test_put_stream_refuses_a_wrong_size_and_stores_nothing(store: Storage, declared: int) -> None:
    put(store, "a/kept.bin", b"old")
    with pytest.raises(ValueError, match="size"):
        store.put_stream("a/kept.bin", io.BytesIO(DATA), size=declared)
    with pytest.raises(ValueError, match="size"):
        store.put_stream("a/new.bin", iter([DATA]), size=declared)
    assert store.read_bytes("a/kept.bin") == b"old"
    assert not store.exists("a/new.bin")
    assert keys(store, "a") == ["a/kept.bin"]


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (0, None, DATA),
        (0, 10, DATA[:10]),
        (1000, 2000, DATA[1000:2000]),
        (len(DATA) - 7, None, DATA[-7:]),
        (len(DATA) - 7, len(DATA), DATA[-7:]),
        (len(DATA) - 7, len(DATA) + 500, DATA[-7:]),  # end past the end: clamped
        (len(DATA), None, b""),  # starts at the end
        (len(DATA) + 100, None, b""),  # starts past the end
        (len(DATA) + 100, len(DATA) + 200, b""),
        (5, 5, b""),
        (0, 1, DATA[:1]),
    ],
)
def test_ranged_reads(store: Storage, start: int, end: int | None, expected: bytes) -> None:
    put(store, "a/data.bin", DATA)
    with store.open_range("a/data.bin", start, end) as stream:
        assert stream.size == len(DATA)
        assert stream.start == min(start, len(DATA))
        assert stream.length == len(expected)
        assert b"".join(stream) == expected


def test_ranged_read_of_an_empty_object(store: Storage) -> None:
    put(store, "a/empty", b"")
    assert store.open_range("a/empty").read_all() == b""
    assert store.open_range("a/empty", 3).read_all() == b""


def test_a_range_may_be_closed_early(store: Storage) -> None:
    put(store, "a/data.bin", DATA)
    stream = store.open_range("a/data.bin")
    stream.close()
    assert list(stream) == []
    assert store.read_bytes("a/data.bin") == DATA  # nothing held


@pytest.mark.parametrize(("start", "end"), [(-1, None), (10, 9)])
def test_bad_ranges_are_refused(store: Storage, start: int, end: int | None) -> None:
    put(store, "a/data.bin", DATA)
    with pytest.raises(ValueError, match="range"):
        store.open_range("a/data.bin", start, end)


def test_stat_size_mtime_and_a_stable_etag(store: Storage) -> None:
    before = time.time()
    put(store, "a/x.bin", DATA)
    first = store.stat("a/x.bin")
    assert first.key == "a/x.bin" and first.size == len(DATA)
    assert before - 5 <= first.mtime <= time.time() + 5
    assert first.etag
    assert store.stat("a/x.bin") == first  # reading changes nothing
    store.read_bytes("a/x.bin")
    assert store.stat("a/x.bin").etag == first.etag
    [listed] = store.list("a")
    assert listed.etag == first.etag and listed.size == first.size

    put(store, "a/x.bin", DATA[::-1])
    assert store.stat("a/x.bin").etag != first.etag


def test_list_is_by_folder_prefix_in_key_order(store: Storage) -> None:
    for key in ["a/b/2", "a/b/1", "a/bc/3", "a/x", "a-c/y", "z", "a/b/deep/er/4"]:
        put(store, key, key.encode())
    assert keys(store, "a/b") == ["a/b/1", "a/b/2", "a/b/deep/er/4"]  # never a/bc
    assert keys(store, "a") == ["a/b/1", "a/b/2", "a/b/deep/er/4", "a/bc/3", "a/x"]
    assert keys(store, "") == [
        "a-c/y",
        "a/b/1",
        "a/b/2",
        "a/b/deep/er/4",
        "a/bc/3",
        "a/x",
        "z",
    ]
    assert keys(store, "a/x") == []  # an object is not a folder
    assert keys(store, "nothing/here") == []
    assert {o.key: o.size for o in store.list("a/b")} == {
        "a/b/1": 5,
        "a/b/2": 5,
        "a/b/deep/er/4": 13,
    }


def test_delete_and_delete_prefix(store: Storage) -> None:
    for key in ["a/b/1", "a/b/2", "a/b/c/3", "a/bc/4", "a/x"]:
        put(store, key, b"x")
    store.delete("a/x")
    store.delete("a/x")  # missing is fine
    assert not store.exists("a/x")
    store.delete_prefix("a/b")
    assert keys(store, "") == ["a/bc/4"]  # a sibling sharing the letters survives
    store.delete_prefix("a/b")  # missing is fine
    store.delete_prefix("never/was")
    with pytest.raises(InvalidKey):
        store.delete_prefix("")  # never the whole store by accident
    assert keys(store, "") == ["a/bc/4"]


def test_missing_keys_raise_object_not_found(store: Storage, tmp_path: Path) -> None:
    put(store, "a/present", b"x")
    assert not store.exists("a/missing")
    assert not store.exists("a")  # a folder-like prefix is not an object
    for read in (
        lambda: store.stat("a/missing"),
        lambda: store.read_bytes("a/missing"),
        lambda: store.open_range("a/missing"),
        lambda: store.open_range("a/missing", 10, 20),
        lambda: store.open_range("a/missing", 5, 5),
        lambda: store.download("a/missing", tmp_path / "out"),
        lambda: store.stat("a"),
    ):
        with pytest.raises(ObjectNotFound) as info:
            read()
        assert isinstance(info.value, FileNotFoundError)
    assert not (tmp_path / "out").exists()


BAD_KEYS = [
    "",
    "/",
    "/abs",
    "trailing/",
    "a//b",
    "../etc/passwd",
    "assets/../../x",
    "assets/./x",
    "assets/.staging/x",
    ".hidden",
    "a\\b",
    "..\\..\\windows",
    "a/b\x00c",
    "line\nbreak",
]


@pytest.mark.parametrize("key", BAD_KEYS)
def test_unsafe_keys_are_refused_everywhere(store: Storage, key: str, tmp_path: Path) -> None:
    src = tmp_path / "f"
    src.write_bytes(b"x")
    src_dir = tmp_path / "tree"
    src_dir.mkdir()
    (src_dir / "f").write_bytes(b"x")
    calls: list[Callable[[], object]] = [
        lambda: store.put_file(key, src),
        lambda: store.put_stream(key, iter([b"x"])),
        lambda: store.open_range(key),
        lambda: store.read_bytes(key),
        lambda: store.stat(key),
        lambda: store.exists(key),
        lambda: store.delete(key),
        lambda: store.download(key, tmp_path / "out"),
        lambda: store.url(key, 60),
    ]
    if key:  # "" is the whole store for list(), and refused only by delete_prefix
        calls += [lambda: list(store.list(key)), lambda: store.put_tree(key, src_dir)]
    calls.append(lambda: store.delete_prefix(key))
    for call in calls:
        with pytest.raises(InvalidKey) as info:
            call()
        assert isinstance(info.value, ValueError)
    assert keys(store, "") == []


def test_put_tree_stores_a_nested_dir(store: Storage, tmp_path: Path) -> None:
    src = tmp_path / "out"
    files = {
        "master.m3u8": b"#EXTM3U",
        "manifest.mpd": b"<MPD/>",
        "v0/init.mp4": b"init",
        "v0/seg-00001.m4s": DATA,
        "audio/en/seg-00001.m4s": b"aac",
    }
    for rel, data in files.items():
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        (src / rel).write_bytes(data)
    prefix = media_version_prefix("a1", 2)
    assert prefix == "assets/a1/media/v2"
    store.put_tree(prefix, src)
    assert keys(store, prefix) == sorted(f"{prefix}/{rel}" for rel in files)
    for rel, data in files.items():
        assert store.read_bytes(media_version_key("a1", 2, rel)) == data
    assert (src / "v0/seg-00001.m4s").read_bytes() == DATA  # the source tree is untouched
    with pytest.raises(NotADirectoryError):
        store.put_tree(prefix, src / "master.m3u8")


def test_download_copies_to_a_local_file(store: Storage, tmp_path: Path) -> None:
    put(store, "a/source.mp4", DATA)
    dest = tmp_path / "deep" / "work" / "source.mp4"
    store.download("a/source.mp4", dest)
    assert dest.read_bytes() == DATA
    dest.write_bytes(b"stale")
    store.download("a/source.mp4", dest)  # replaces
    assert dest.read_bytes() == DATA
    assert [p.name for p in dest.parent.iterdir()] == ["source.mp4"]  # no temp files left


def test_url_is_presigned_on_s3_only(store: Storage) -> None:
    put(store, "assets/a1/media/v1/master.m3u8", DATA)
    url = store.url("assets/a1/media/v1/master.m3u8", 300)
    if not isinstance(store, S3Storage):
        assert url is None
        return
    assert url is not None and url.startswith("http://127.0.0.1:")
    assert "X-Amz-Signature=" in url and "X-Amz-Expires=300" in url
    with urllib.request.urlopen(url, timeout=10) as resp:
        assert resp.read() == DATA
        assert resp.headers["Content-Type"] == "application/vnd.apple.mpegurl"


def test_concurrent_writers(store: Storage) -> None:
    errors: list[BaseException] = []

    def write(n: int) -> None:
        try:
            for i in range(5):
                put(store, f"c/{n}/{i}", f"{n}-{i}".encode())
                put(store, "c/shared", f"{n}-{i}".encode())
        except BaseException as exc:  # reported by the assert below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(keys(store, "c")) == 31
    assert store.read_bytes("c/shared").decode().count("-") == 1  # one whole write won
