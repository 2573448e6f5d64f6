"""The key layout and the one key check every store shares."""

from __future__ import annotations

from pathlib import Path

import pytest

from reelstack.storage import (
    InvalidKey,
    asset_prefix,
    media_key,
    media_prefix,
    media_version_key,
    media_version_prefix,
    source_key,
    validate_key,
    validate_prefix,
)


def test_layout() -> None:
    assert asset_prefix("a1") == "assets/a1"
    assert source_key("a1", ".MP4") == "assets/a1/source/original.mp4"
    assert media_prefix("a1") == "assets/a1/media"
    assert media_key("a1", "master.m3u8") == "assets/a1/media/master.m3u8"
    assert media_version_prefix("a1", 3) == "assets/a1/media/v3"
    assert media_version_key("a1", 3, "v0/seg-00001.m4s") == "assets/a1/media/v3/v0/seg-00001.m4s"
    # Every version lives below the asset's media prefix, so deleting an asset gets them all.
    assert media_version_prefix("a1", 1).startswith(media_prefix("a1") + "/")


def test_versions_start_at_one_and_names_stay_inside() -> None:
    with pytest.raises(ValueError, match="start at 1"):
        media_version_prefix("a1", 0)
    with pytest.raises(InvalidKey):
        media_version_key("a1", 1, "../../a2/media/v1/master.m3u8")


def test_source_key_sanitises_suffix() -> None:
    assert source_key("a", Path("../../evil.sh;rm").suffix) == "assets/a/source/original.shrm"
    assert source_key("a", ".a/../b") == "assets/a/source/original.ab"
    assert source_key("a", "") == "assets/a/source/original.bin"


@pytest.mark.parametrize(
    "key",
    ["a", "assets/a1/media/v1/master.m3u8", "with space/and-dash_and.dot", "ünïcode/ключ"],
)
def test_good_keys(key: str) -> None:
    assert validate_key(key) == key


@pytest.mark.parametrize(
    "key", ["", "/", "a/", "/a", "a//b", "..", "a/..", "./a", ".git/x", "a\\b", "a\tb", "a\x7f"]
)
def test_bad_keys(key: str) -> None:
    with pytest.raises(InvalidKey):
        validate_key(key)


def test_overlong_keys_are_refused() -> None:
    validate_key("k" * 1024)
    with pytest.raises(InvalidKey, match="1024"):
        validate_key("k" * 1025)


def test_the_empty_prefix_only_where_asked() -> None:
    assert validate_prefix("", allow_empty=True) == ""
    with pytest.raises(InvalidKey):
        validate_prefix("")
