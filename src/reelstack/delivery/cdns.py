"""Multi-CDN: the configured delivery networks (Reelstack edges or any CDN in front of
the origin), their health, and the choice for one playback session.

Each CDN has a base URL and a weight (``REELSTACK_CDNS``). A checker thread asks each
one's health URL (``<base>/edge-health`` unless given) every few seconds; a CDN that
fails twice in a row drops out until it answers again. A session gets a primary picked
at random by weight among the healthy ones, and the other healthy ones as alternates
(the player falls back to them). With none healthy the origin itself is the primary.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from reelstack.config import CdnConfig

FAILURES_TO_DROP = 2


@dataclass
class CdnState:
    config: CdnConfig
    healthy: bool = True
    failures: int = 0
    last_error: str | None = None


@dataclass(frozen=True)
class Pick:
    """Where one session's media comes from: (name, base URL) pairs, primary first."""

    primary: tuple[str, str] | None
    alternates: list[tuple[str, str]]


@dataclass
class CdnSet:
    states: list[CdnState]
    interval_s: float = 10.0
    timeout_s: float = 2.0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    @classmethod
    def of(cls, configs: list[CdnConfig], **kwargs: float) -> CdnSet:
        return cls(states=[CdnState(config=c) for c in configs], **kwargs)  # type: ignore[arg-type]

    def record(self, name: str, ok: bool, error: str | None = None) -> None:
        """One health answer: two failures in a row drop a CDN, one success restores it."""
        with self._lock:
            for state in self.states:
                if state.config.name != name:
                    continue
                if ok:
                    state.failures, state.healthy, state.last_error = 0, True, None
                else:
                    state.failures += 1
                    state.last_error = error
                    if state.failures >= FAILURES_TO_DROP:
                        state.healthy = False

    def check_once(self, client: httpx.Client) -> None:
        for state in list(self.states):
            try:
                resp = client.get(state.config.probe_url, timeout=self.timeout_s)
                ok = resp.status_code == 200
                self.record(state.config.name, ok, None if ok else f"HTTP {resp.status_code}")
            except httpx.HTTPError as exc:
                self.record(state.config.name, False, f"{type(exc).__name__}: {exc}")

    def pick(self, chooser: Callable[[list[float]], int] | None = None) -> Pick:
        """A primary by weight among the healthy CDNs, the others as alternates (heaviest
        first); no primary when none is healthy."""
        with self._lock:
            healthy = [s.config for s in self.states if s.healthy]
        if not healthy:
            return Pick(primary=None, alternates=[])
        weights = [float(c.weight) for c in healthy]
        index = (chooser or _weighted)(weights)
        primary = healthy[index]
        rest = sorted((c for c in healthy if c is not primary), key=lambda c: -c.weight)
        return Pick(
            primary=(primary.name, primary.base), alternates=[(c.name, c.base) for c in rest]
        )

    def snapshot(self) -> list[CdnState]:
        with self._lock:
            return [CdnState(s.config, s.healthy, s.failures, s.last_error) for s in self.states]

    def start(self) -> None:
        if not self.states or self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="cdn-health", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(self.timeout_s * len(self.states) + 1)

    def _run(self) -> None:
        with httpx.Client() as client:
            while True:
                self.check_once(client)
                if self._stop.wait(self.interval_s):
                    return


def _weighted(weights: list[float]) -> int:
    return random.choices(range(len(weights)), weights=weights)[0]
