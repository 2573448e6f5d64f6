"""Executors run jobs whose state lives in the database; they hold no state of their own.

``LocalExecutor`` is the embedded default: a pool of threads in the API process that
claim due jobs straight from the database (``ORDER BY priority, created_at``), so a job
queued by any process runs, a retry waits out its ``not_before`` even across restarts,
and nothing is lost when the process dies. A Celery executor (scale-out issue) calls
the same ``run_job`` with the same ids.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterable
from typing import Protocol

import structlog
from sqlalchemy import select

from reelstack.db import session_scope, utcnow
from reelstack.jobs import service
from reelstack.jobs.models import Job
from reelstack.jobs.registry import JobRegistry
from reelstack.jobs.runner import run_job
from reelstack.jobs.states import TERMINAL
from reelstack.runtime import Runtime

log = structlog.get_logger(__name__)


class Executor(Protocol):
    def submit(self, job_id: str) -> None:
        """A job was queued (after its commit): run it soon."""

    def cancel(self, job_id: str) -> None:
        """A running job's row carries cancel_requested: stop it now if it runs here."""


def worker_name() -> str:
    """``host:pid``: lets recovery on the same host tell a dead worker at once."""
    return f"{socket.gethostname()}:{os.getpid()}"


class LocalExecutor:
    """In-process worker threads claiming due jobs from the database."""

    def __init__(
        self, runtime: Runtime, registry: JobRegistry, *, concurrency: int | None = None
    ) -> None:
        settings = runtime.settings
        self.runtime = runtime
        self.registry = registry
        self.concurrency = max(1, concurrency or settings.worker_concurrency)
        self.poll_interval_s = settings.job_poll_interval_s
        self.stale_after_s = settings.job_stale_after_s
        self.worker_name = worker_name()
        self._threads: list[threading.Thread] = []
        self._running: dict[str, threading.Event] = {}
        self._lock = threading.Lock()
        self._wake = threading.Condition()
        self._stopping = threading.Event()
        self._last_sweep = 0.0
        self._recover = False

    def start(self, *, recover: bool = True) -> None:
        """Start the pool; with ``recover``, jobs left running by dead workers are
        re-queued first (and again every half ``stale_after_s``)."""
        self._stopping.clear()
        self._recover = recover
        for name in self.runtime.workdir.sweep():
            log.warning("workdir.scratch_removed", dir=name)
        if recover:
            self.sweep()
        for i in range(self.concurrency):
            t = threading.Thread(target=self._loop, name=f"reelstack-worker-{i}", daemon=True)
            t.start()
            self._threads.append(t)

    def sweep(self) -> list[str]:
        """Re-queue jobs whose worker died (never the ones running here)."""
        self._last_sweep = time.monotonic()
        with self._lock:
            live = set(self._running)
        with session_scope(self.runtime.sessions) as session:
            recovered = service.recover_orphans(
                session=session,
                stale_after_s=self.stale_after_s,
                live_ids=live,
                on_give_up=self.registry.on_give_up,
            )
        for job_id in recovered:
            log.warning("job.recovered", job_id=job_id)
        if recovered:
            self._notify()
        return recovered

    def submit(self, job_id: str) -> None:  # noqa: ARG002 - the row is in the database
        self._notify()

    def cancel(self, job_id: str) -> None:
        with self._lock:
            event = self._running.get(job_id)
        if event is not None:
            event.set()

    def _notify(self) -> None:
        with self._wake:
            self._wake.notify_all()

    def busy(self) -> int:
        with self._lock:
            return len(self._running)

    def wait_for(self, job_ids: Iterable[str], timeout: float | None = None) -> bool:
        """Block until every job in ``job_ids`` is finished (succeeded, failed, cancelled)."""
        ids = list(job_ids)
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            with session_scope(self.runtime.sessions) as session:
                states = session.scalars(select(Job.state).where(Job.id.in_(ids))).all()
            if len(states) == len(ids) and all(s in TERMINAL for s in states):
                return True
            if deadline is not None and time.monotonic() > deadline:
                return False
            time.sleep(0.1)

    def stop(self, *, timeout: float = 10.0) -> None:
        """Stop FFmpeg for running jobs (they go back to queued) and join the threads."""
        self._stopping.set()
        with self._lock:
            for event in self._running.values():
                event.set()
        self._notify()
        for t in self._threads:
            t.join(timeout)
        self._threads.clear()

    def _loop(self) -> None:
        while not self._stopping.is_set():
            if self._recover and (time.monotonic() - self._last_sweep > self.stale_after_s / 2):
                try:
                    self.sweep()
                except Exception:  # a database blip must not kill the worker
                    log.exception("executor.sweep_failed")
            try:
                ran = self._run_one()
            except Exception:  # the runner records failures; this guards the thread
                log.exception("executor.run_failed")
                ran = False
            if not ran:
                wait_s = self._idle_wait_s()
                with self._wake:
                    if not self._stopping.is_set():
                        self._wake.wait(wait_s)

    def _idle_wait_s(self) -> float:
        """Sleep until the next poll, or until a held-back job (a retry) becomes due."""
        try:
            with session_scope(self.runtime.sessions) as session:
                due = service.next_due_at(session=session)
        except Exception:
            log.warning("executor.next_due_failed", exc_info=True)
            return self.poll_interval_s
        if due is None:
            return self.poll_interval_s
        until_due = (due - utcnow()).total_seconds()
        return min(self.poll_interval_s, max(0.01, until_due))

    def _run_one(self) -> bool:
        cancel = threading.Event()

        def on_claim(job_id: str) -> None:
            with self._lock:
                self._running[job_id] = cancel
                if self._stopping.is_set():
                    cancel.set()

        job_id = run_job(
            self.runtime,
            self.registry,
            worker=self.worker_name,
            cancel=cancel,
            shutting_down=self._stopping,
            on_claim=on_claim,
        )
        if job_id is not None:
            with self._lock:
                self._running.pop(job_id, None)
            # A finished child may have queued its parent: let idle threads look.
            self._notify()
        return job_id is not None
