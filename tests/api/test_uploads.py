"""The upload stream helper: bytes to a scratch file, refused past the limit."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from reelstack.errors import PayloadTooLarge
from reelstack.ingest import uploads


async def _chunks(*pieces: bytes) -> AsyncIterator[bytes]:
    for piece in pieces:
        yield piece


def test_stream_is_written_whole(tmp_path: Path) -> None:
    big = b"\x01" * (uploads.WRITE_BYTES + 123)  # crosses one buffered write
    pieces = (b"head", big, b"", b"tail")
    dest = tmp_path / "upload"
    size = asyncio.run(uploads.write_stream(_chunks(*pieces), dest, limit_bytes=10**9))
    assert size == dest.stat().st_size == sum(map(len, pieces))
    assert dest.read_bytes() == b"".join(pieces)


def test_stream_over_the_limit_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PayloadTooLarge) as refused:
        asyncio.run(
            uploads.write_stream(_chunks(b"a" * 60, b"b" * 60), tmp_path / "up", limit_bytes=100)
        )
    assert refused.value.extra["limit"] == 100
    # Exactly at the limit is fine.
    dest = tmp_path / "exact"
    assert asyncio.run(uploads.write_stream(_chunks(b"c" * 100), dest, limit_bytes=100)) == 100


def test_declared_size_is_checked_before_reading() -> None:
    uploads.check_declared_size(None, limit_bytes=10)
    uploads.check_declared_size(10, limit_bytes=10)
    with pytest.raises(PayloadTooLarge):
        uploads.check_declared_size(11, limit_bytes=10)
