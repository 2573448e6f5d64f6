"""Handler threads are few; storage waits run on their own pool (reelstack.threads)."""

from __future__ import annotations

import threading

import anyio
import anyio.to_thread
from fastapi.testclient import TestClient

from reelstack import threads
from reelstack.app import create_app
from reelstack.config import Settings


def test_io_pool_is_separate_from_the_handler_pool() -> None:
    """Five blocking storage waits that need each other all run at once although
    handlers get only two threads: a slow store cannot starve the handlers' pool."""

    async def main() -> tuple[float, list[int]]:
        threads.configure(api_threads=2, io_threads=5)
        barrier = threading.Barrier(5, timeout=5)
        results: list[int] = []

        async def wait(i: int) -> None:
            results.append(await threads.run_io(lambda: barrier.wait() * 0 + i))

        async with anyio.create_task_group() as tg:
            for i in range(5):
                tg.start_soon(wait, i)
        return anyio.to_thread.current_default_thread_limiter().total_tokens, sorted(results)

    tokens, results = anyio.run(main)
    assert tokens == 2
    assert results == [0, 1, 2, 3, 4]


def test_iterate_io_yields_every_item_in_order() -> None:
    async def main() -> list[bytes]:
        return [chunk async for chunk in threads.iterate_io(iter([b"a", b"b", b"c"]))]

    assert anyio.run(main) == [b"a", b"b", b"c"]


def test_app_sizes_the_handler_pool_from_settings(settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"api_threads": 3, "embedded_worker": False}))
    seen: list[float] = []

    @app.get("/_threads")
    async def probe() -> dict[str, int]:
        seen.append(anyio.to_thread.current_default_thread_limiter().total_tokens)
        return {}

    with TestClient(app) as client:
        assert client.get("/_threads").status_code == 200
    assert seen == [3]
