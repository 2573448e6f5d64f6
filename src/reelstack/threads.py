"""How many threads run request work in one API process, and which work runs where.

FastAPI runs every ``def`` handler and dependency on AnyIO's default thread pool (40
threads unless told otherwise). In one CPython process those threads share one GIL, so
more than a few of them buy no throughput for work that is mostly Python (handlers,
the ORM, token checks); they only split the GIL's time more thinly. That turns into a
convoy on SQLite: the thread that holds the writer lock (``db.serialized_writes``) gets
1/N of the GIL while N threads run their reads, so every writer queued behind it waits
N times longer. Measured with ``bench/playback.py`` (200 plays/s, one process): 40
threads gave p99 115-260 ms with 100-200 ms stalls; 4 threads removed them.

So: handler work runs on ``REELSTACK_API_THREADS`` threads (default 4), and work that
mostly waits on the network or a disk (streaming media from storage, writing uploads)
runs on its own, larger pool (``REELSTACK_IO_THREADS``, default 32), where a slow object
store cannot take the handlers' threads.
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Callable, Iterator
from typing import TypeVar

import anyio.to_thread
from anyio import CapacityLimiter

T = TypeVar("T")

_io_limiter: CapacityLimiter | None = None
_io_threads = 32


def configure(*, api_threads: int, io_threads: int) -> None:
    """Size this event loop's pools; call from the app's lifespan (inside the loop)."""
    global _io_limiter, _io_threads
    anyio.to_thread.current_default_thread_limiter().total_tokens = api_threads
    _io_threads = io_threads
    _io_limiter = CapacityLimiter(io_threads)


def _io() -> CapacityLimiter:
    global _io_limiter
    if _io_limiter is None:  # an app served without its lifespan (some test clients)
        _io_limiter = CapacityLimiter(_io_threads)
    return _io_limiter


async def run_io(func: Callable[..., T], *args: object) -> T:
    """Run a blocking call that mostly waits (storage, files) on the I/O pool."""
    return await anyio.to_thread.run_sync(func, *args, limiter=_io())


def freeze_startup_heap() -> None:
    """Move everything made while starting (modules, the app, compiled caches) out of
    the collector's reach: a full collection then scans only what requests made since.
    Measured: a 130 ms gen-2 pause during bench/playback.py became about 12 ms."""
    gc.collect()
    gc.freeze()


_DONE = object()


async def iterate_io(iterator: Iterator[T]) -> AsyncIterator[T]:
    """Iterate a blocking iterator (a storage stream) on the I/O pool."""
    while True:
        item = await run_io(next, iterator, _DONE)
        if item is _DONE:
            return
        yield item
