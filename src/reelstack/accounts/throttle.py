"""Failed-login throttling, per account and per client IP.

Counters live in a ``FailureCounter``: in process memory in the embedded topology, in
Redis (``REELSTACK_REDIS_URL``) when several API processes must share them. A key's
window starts at its first failure (fixed window); ``Retry-After`` is what is left of it.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass
from typing import Protocol

from reelstack.errors import TooManyRequests


class FailureCounter(Protocol):
    def count(self, key: str) -> tuple[int, float]:
        """Failures recorded under ``key`` and the seconds left in its window."""
        ...

    def add(self, key: str, window_s: float) -> int:
        """Record one failure; the window starts with the first. Returns the new count."""
        ...

    def reset(self, key: str) -> None: ...


class MemoryCounter:
    """Counters in this process (the embedded default)."""

    def __init__(self, *, max_keys: int = 100_000) -> None:
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[int, float]] = {}
        self._max_keys = max_keys

    def _live(self, key: str, now: float) -> tuple[int, float] | None:
        entry = self._entries.get(key)
        if entry is not None and entry[1] <= now:
            del self._entries[key]
            return None
        return entry

    def count(self, key: str) -> tuple[int, float]:
        now = time.monotonic()
        with self._lock:
            entry = self._live(key, now)
        return (0, 0.0) if entry is None else (entry[0], entry[1] - now)

    def add(self, key: str, window_s: float) -> int:
        now = time.monotonic()
        with self._lock:
            if len(self._entries) >= self._max_keys:
                for stale in [k for k, (_, end) in self._entries.items() if end <= now]:
                    del self._entries[stale]
            entry = self._live(key, now)
            count, end = (1, now + window_s) if entry is None else (entry[0] + 1, entry[1])
            self._entries[key] = (count, end)
        return count

    def reset(self, key: str) -> None:
        with self._lock:
            self._entries.pop(key, None)


class RedisCounter:
    """Counters shared by every API process through Redis."""

    def __init__(self, url: str, *, prefix: str = "reelstack:login:") -> None:
        import redis

        self._redis = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self._prefix = prefix

    def count(self, key: str) -> tuple[int, float]:
        pipe = self._redis.pipeline()
        pipe.get(self._prefix + key)
        pipe.pttl(self._prefix + key)
        raw, pttl = pipe.execute()
        if raw is None or pttl is None or pttl < 0:
            return 0, 0.0
        return int(raw), pttl / 1000

    def add(self, key: str, window_s: float) -> int:
        name = self._prefix + key
        pipe = self._redis.pipeline()
        pipe.incr(name)
        pipe.pexpire(name, math.ceil(window_s * 1000), nx=True)
        count, _ = pipe.execute()
        return int(count)

    def reset(self, key: str) -> None:
        self._redis.delete(self._prefix + key)

    def close(self) -> None:
        self._redis.close()


@dataclass(frozen=True)
class LoginThrottle:
    counter: FailureCounter
    max_per_account: int
    max_per_ip: int
    window_s: float

    def check(self, *, email: str, ip: str | None) -> None:
        """429 ``too_many_attempts`` while the account or the IP is over its limit."""
        for key, limit in self._keys(email, ip):
            count, left = self.counter.count(key)
            if count >= limit:
                raise TooManyRequests(
                    "too many failed sign-in attempts; try again later",
                    headers={"Retry-After": str(max(1, math.ceil(left)))},
                )

    def failed(self, *, email: str, ip: str | None) -> None:
        for key, _ in self._keys(email, ip):
            self.counter.add(key, self.window_s)

    def succeeded(self, *, email: str) -> None:
        self.counter.reset(f"account:{email}")

    def _keys(self, email: str, ip: str | None) -> list[tuple[str, int]]:
        keys = [(f"account:{email}", self.max_per_account)]
        if ip:
            keys.append((f"ip:{ip}", self.max_per_ip))
        return keys
