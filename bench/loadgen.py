"""The open-loop load generator the HTTP benchmarks share (bench/playback.py,
bench/keys.py).

Request i is due at start + i/rate whatever happened to earlier ones, and its latency is
measured from that due time, so a stall counts against every request queued behind it
(no coordinated omission). Requests go over keep-alive HTTP/1.1 connections from a
pool, written and parsed by hand with asyncio streams, so the generator stays cheap on
a 2-core machine. Callers keep this process's garbage collector off while measuring
(``quiet_collector``): its pauses would be counted against the server.
"""

from __future__ import annotations

import asyncio
import gc
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx2 as httpx


@dataclass
class Result:
    latencies_ms: list[float]
    errors: int
    statuses: dict[int, int]


def cpu_s(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def request_bytes(method: str, path: str, body: bytes = b"", token: str | None = None) -> bytes:
    head = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1"]
    if token:
        head.append(f"Authorization: Bearer {token}")
    if body:
        head += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


async def _roundtrip(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> int:
    writer.write(request)
    await writer.drain()
    status_line = await reader.readline()
    status = int(status_line.split()[1])
    length = 0
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b""):
            break
        name, _, value = line.decode().partition(":")
        if name.lower() == "content-length":
            length = int(value.strip())
    if length:
        await reader.readexactly(length)
    return status


async def load(
    port: int, requests: list[bytes], rate: float, connections: int, ok_status: int
) -> Result:
    """Send ``requests`` at ``rate`` per second; ``ok_status`` is the expected answer."""
    pool: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = asyncio.Queue()
    for _ in range(connections):
        pool.put_nowait(await asyncio.open_connection("127.0.0.1", port))
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    loop = asyncio.get_running_loop()
    start = loop.time() + 0.05

    async def one(i: int, request: bytes) -> None:
        due = start + i / rate
        delay = due - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        conn = await pool.get()
        try:
            status = await _roundtrip(*conn, request)
        except (OSError, ValueError, IndexError, asyncio.IncompleteReadError):
            status = 0
            conn = await asyncio.open_connection("127.0.0.1", port)
        pool.put_nowait(conn)
        latencies.append((loop.time() - due) * 1000)
        statuses[status] = statuses.get(status, 0) + 1

    await asyncio.gather(*(one(i, r) for i, r in enumerate(requests)))
    while not pool.empty():
        _, writer = pool.get_nowait()
        writer.close()
    errors = sum(n for status, n in statuses.items() if status != ok_status)
    return Result(latencies, errors, statuses)


def run_phase(
    port: int, requests: list[bytes], rate: float, connections: int, ok_status: int
) -> Result:
    """One measured phase, with this process's collector off (collected before)."""
    with quiet_collector():
        return asyncio.run(load(port, requests, rate, connections, ok_status))


@contextmanager
def quiet_collector() -> Iterator[None]:
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]


def report(name: str, result: Result, rate: float) -> None:
    lat = result.latencies_ms
    print(
        f"{name:<28} {len(lat)} req at {rate:.0f}/s: p50 {pct(lat, 50):6.2f} ms  "
        f"p90 {pct(lat, 90):6.2f} ms  p99 {pct(lat, 99):6.2f} ms  "
        f"max {max(lat):7.2f} ms  mean {statistics.fmean(lat):6.2f} ms  "
        f"errors {result.errors}  statuses {dict(sorted(result.statuses.items()))}"
    )


def start_api(env: dict[str, str], port: int, timeout_s: float = 30.0) -> subprocess.Popen[bytes]:
    """`reelstack api` in its own process with ``env``, once /healthz answers."""
    server = subprocess.Popen(
        [sys.executable, "-m", "reelstack", "api"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return server
        except httpx.TransportError:
            time.sleep(0.2)
    server.terminate()
    raise SystemExit(f"the API did not answer on port {port} within {timeout_s:.0f} s")
