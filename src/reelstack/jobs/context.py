"""What a handler gets to run one attempt of a job: its payload, fenced writes,
throttled progress and the stop signal."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import structlog
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from reelstack.db import session_scope
from reelstack.jobs import service
from reelstack.jobs.errors import ClaimLost, JobCancelled
from reelstack.jobs.models import Job, JobKind
from reelstack.jobs.payloads import JobPayload
from reelstack.runtime import Runtime

log = structlog.get_logger(__name__)

# Progress is written at most this often (the heartbeat thread keeps the row fresh).
PROGRESS_MIN_INTERVAL_S = 1.0


@dataclass(frozen=True, slots=True)
class JobRef:
    """A detached snapshot of the claimed row (handlers never hold ORM objects)."""

    id: str
    kind: JobKind
    payload: JobPayload
    parent_id: str | None
    subject_type: str
    subject_id: str
    attempt: int
    max_attempts: int

    @classmethod
    def of(cls, job: Job) -> JobRef:
        return cls(
            id=job.id,
            kind=job.kind,
            payload=job.payload,
            parent_id=job.parent_id,
            subject_type=job.subject_type,
            subject_id=job.subject_id,
            attempt=job.attempts,
            max_attempts=job.max_attempts,
        )


class JobContext:
    def __init__(
        self, runtime: Runtime, job: JobRef, claim: service.Claim, cancel: threading.Event
    ) -> None:
        self.runtime = runtime
        self.job = job
        self.claim = claim
        self.cancel = cancel
        # Set when another worker took the job over: this one must write nothing more.
        self.lost = threading.Event()
        self._last_progress = 0.0

    @property
    def payload(self) -> JobPayload:
        return self.job.payload

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A unit of work that commits only while this worker still holds the claim.

        It starts by re-checking (and locking) the claim, so the domain writes inside,
        such as publishing a version, happen at most once across workers.
        """
        try:
            with session_scope(self.runtime.sessions) as session:
                service.fence(session=session, claim=self.claim)
                yield session
        except ClaimLost:
            self.lost_claim()
            raise

    def checkpoint(self) -> None:
        """Prove the claim still holds and no cancel was asked for, right now (one fenced
        heartbeat); raise ``ClaimLost`` or ``JobCancelled`` otherwise. Call it around steps
        that make outside effects, such as uploading a version."""
        with session_scope(self.runtime.sessions) as s:
            try:
                cancel_requested = service.heartbeat(session=s, claim=self.claim)
            except ClaimLost:
                self.lost_claim()
                raise
        if cancel_requested:
            self.cancel.set()
        self.check()

    def lost_claim(self) -> None:
        self.lost.set()
        self.cancel.set()

    def check(self) -> None:
        """Raise when the job must stop: its claim is gone or it was cancelled."""
        if self.lost.is_set():
            raise ClaimLost(f"job {self.job.id} was taken over")
        if self.cancel.is_set():
            raise JobCancelled(f"job {self.job.id} was told to stop")

    def progress(self, percent: float) -> None:
        """Record progress (throttled; fenced). Never raises: a lost claim or a cancel
        sets ``cancel`` so the running tool stops."""
        now = time.monotonic()
        if now - self._last_progress < PROGRESS_MIN_INTERVAL_S and percent < 100:
            return
        self._last_progress = now
        self.beat(progress=percent)

    def beat(self, progress: float | None = None) -> None:
        """One fenced heartbeat; picks up a cancel requested from any process."""
        try:
            with session_scope(self.runtime.sessions) as s:
                if service.heartbeat(session=s, claim=self.claim, progress=progress):
                    self.cancel.set()
        except ClaimLost:
            log.warning("job.claim_lost", job_id=self.job.id, attempt=self.claim.attempt)
            self.lost_claim()
        except SQLAlchemyError:
            # A busy or briefly unreachable database must not kill a long job: the next
            # beat tries again (the job only looks dead after stale_after_s).
            log.warning("job.heartbeat_not_saved", job_id=self.job.id, exc_info=True)

    def child_results(self) -> list[tuple[JobKind, dict[str, Any] | None]]:
        """What this parent's children produced, oldest first."""
        with session_scope(self.runtime.sessions) as s:
            return [(k.kind, k.result) for k in service.children(session=s, parent_id=self.job.id)]


class Heartbeat:
    """Beats for a running job from a thread of its own, so a silent phase (a long
    upload, a quiet FFmpeg pass) never makes a live job look dead."""

    def __init__(self, ctx: JobContext, interval_s: float) -> None:
        self._ctx = ctx
        self._interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._loop, name=f"heartbeat-{ctx.job.id[:8]}", daemon=True
        )

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)

    def _loop(self) -> None:
        while not self._stop.wait(self._interval_s):
            self._ctx.beat()
            if self._ctx.lost.is_set():
                return
