"""Receiving an upload: a request body streamed to local scratch space, then ingested.

The body is never held in memory: chunks are gathered up to ``WRITE_BYTES`` and written
from a worker thread, so a slow disk never stalls the event loop.
"""

from __future__ import annotations

from collections.abc import AsyncIterable
from pathlib import Path
from typing import BinaryIO

from starlette.concurrency import run_in_threadpool

from reelstack.errors import PayloadTooLarge
from reelstack.ingest import service
from reelstack.ingest.schemas import TitleKind
from reelstack.ingest.service import IngestResult
from reelstack.runtime import Runtime
from reelstack.threads import run_io

# One thread hop per MiB rather than per network chunk (often 64 KiB).
WRITE_BYTES = 1024 * 1024


def _open_for_write(path: Path) -> BinaryIO:
    return path.open("wb")


def _too_large(limit_bytes: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"upload is larger than the {limit_bytes}-byte limit", limit=limit_bytes)


def check_declared_size(declared_bytes: int | None, *, limit_bytes: int) -> None:
    """Refuse a body whose declared length is over the limit before reading a byte."""
    if declared_bytes is not None and declared_bytes > limit_bytes:
        raise _too_large(limit_bytes)


async def write_stream(stream: AsyncIterable[bytes], dest: Path, *, limit_bytes: int) -> int:
    """Write ``stream`` to ``dest`` off the event loop; return the size in bytes.

    Raises ``PayloadTooLarge`` as soon as more than ``limit_bytes`` arrive (whatever was
    declared); ``dest`` then holds a partial file for the caller's scratch space to drop.
    """
    fh = await run_io(_open_for_write, dest)
    size = 0
    pending: list[bytes] = []
    pending_bytes = 0
    try:
        async for chunk in stream:
            size += len(chunk)
            if size > limit_bytes:
                raise _too_large(limit_bytes)
            pending.append(chunk)
            pending_bytes += len(chunk)
            if pending_bytes >= WRITE_BYTES:
                await run_io(fh.write, b"".join(pending))
                pending, pending_bytes = [], 0
        if pending:
            await run_io(fh.write, b"".join(pending))
    finally:
        await run_io(fh.close)
    return size


async def receive_upload(
    *,
    runtime: Runtime,
    stream: AsyncIterable[bytes],
    declared_bytes: int | None,
    title: str,
    filename: str | None,
    kind: TitleKind,
    created_by: str | None = None,
) -> IngestResult:
    """Stream an upload to scratch space and ingest it (probe, store, title, asset, job).

    Nothing is left behind on failure: the scratch directory goes, and ingest itself is
    all-or-nothing. The caller submits the returned job once this returns.
    """
    limit_bytes = runtime.settings.max_upload_bytes
    check_declared_size(declared_bytes, limit_bytes=limit_bytes)
    with runtime.workdir.scratch() as scratch:
        path = scratch / "upload"
        await write_stream(stream, path, limit_bytes=limit_bytes)
        # Probing and the database rows: handler work, on the handlers' pool.
        return await run_in_threadpool(
            service.ingest_file,
            runtime=runtime,
            path=path,
            title=title,
            original_filename=filename,
            kind=kind,
            created_by=created_by,
        )
