"""What media of an asset a store holds, from one listing."""

from __future__ import annotations

from reelstack.storage import MemoryStorage
from reelstack.storage.versions import stored_media


def test_versions_and_unversioned_files() -> None:
    store = MemoryStorage()
    for key in (
        "assets/a1/media/v1/master.m3u8",
        "assets/a1/media/v1/seg-0-00001.m4s",
        "assets/a1/media/v12/master.m3u8",
        "assets/a1/media/master.m3u8",  # the layout before versioning
        "assets/a1/media/other/x.m4s",  # not a version folder
        "assets/a1/source/original.mp4",
        "assets/a2/media/v3/master.m3u8",
    ):
        store.put_stream(key, [b"x"])
    found = stored_media(store, "a1")
    assert found.versions == {1, 12}
    assert found.unversioned == ["assets/a1/media/master.m3u8"]
    assert stored_media(store, "a9").versions == set()
