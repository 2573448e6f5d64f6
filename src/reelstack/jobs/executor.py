"""Executors run jobs whose state lives in the database; they hold no state of their own.

``LocalExecutor`` is the embedded default: a few threads in the API process. A Celery
executor (scale-out issue) calls the same ``run_job`` with the same id.
"""

from __future__ import annotations

import os
import queue
import socket
import threading
import time
from typing import Protocol

import structlog

from reelstack.db import session_scope
from reelstack.jobs import service
from reelstack.jobs.runner import run_job
from reelstack.runtime import Runtime

log = structlog.get_logger(__name__)


class Executor(Protocol):
    def submit(self, job_id: str) -> None: ...

    def cancel(self, job_id: str) -> None: ...


class LocalExecutor:
    """In-process worker threads pulling job ids from a queue."""

    def __init__(
        self, runtime: Runtime, *, concurrency: int = 1, stale_after_s: float = 120.0
    ) -> None:
        self.runtime = runtime
        self.concurrency = max(1, concurrency)
        self.stale_after_s = stale_after_s
        self._known: set[str] = set()
        self.worker_name = f"{socket.gethostname()}:{os.getpid()}"
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._threads: list[threading.Thread] = []
        self._cancel_events: dict[str, threading.Event] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._idle = threading.Condition()
        self._busy = 0

    def start(self, *, resume: bool = True, poll_interval_s: float | None = 2.0) -> None:
        """Start the worker threads.

        With ``resume``, jobs left running by a dead process are re-queued and every queued
        job is picked up, now and then every ``poll_interval_s`` (so a job queued by another
        process, e.g. ``reelstack ingest``, runs here too; claims are atomic).
        """
        for i in range(self.concurrency):
            t = threading.Thread(target=self._loop, name=f"reelstack-worker-{i}", daemon=True)
            t.start()
            self._threads.append(t)
        for name in self.runtime.storage.sweep_staging():
            log.warning("storage.staging_removed", dir=name)
        if resume:
            self.sweep()
            if poll_interval_s:
                t = threading.Thread(
                    target=self._poll, args=(poll_interval_s,), name="reelstack-poll", daemon=True
                )
                t.start()
                self._threads.append(t)

    def sweep(self) -> None:
        """Re-queue orphaned jobs, then submit every queued job not already in hand."""
        with self._lock:
            live = set(self._known)
        with session_scope(self.runtime.sessions) as session:
            for job_id in service.recover_orphans(
                session=session, stale_after_s=self.stale_after_s, live_ids=live
            ):
                log.warning("job.recovered", job_id=job_id)
            pending = service.queued_job_ids(session=session)
        for job_id in pending:
            self.submit(job_id)

    def _poll(self, interval_s: float) -> None:
        while not self._stopping.wait(interval_s):
            try:
                self.sweep()
            except Exception:  # a database blip must not kill the poller
                log.exception("executor.sweep_failed")

    def submit(self, job_id: str) -> None:
        with self._lock:
            if job_id in self._known:
                return
            self._known.add(job_id)
        with self._idle:
            self._busy += 1
        self._queue.put(job_id)

    def cancel(self, job_id: str) -> None:
        """Stop a running job now (its row already carries cancel_requested)."""
        with self._lock:
            event = self._cancel_events.get(job_id)
        if event is not None:
            event.set()

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until every submitted job has been run (for the CLI's --wait and tests)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._idle:
            while self._busy:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self._idle.wait(remaining)
        return True

    def stop(self, *, timeout: float = 10.0) -> None:
        """Stop FFmpeg for running jobs (they go back to queued) and join the threads."""
        self._stopping.set()
        with self._lock:
            for event in self._cancel_events.values():
                event.set()
        for _ in range(self.concurrency):
            self._queue.put(None)
        for t in self._threads:
            t.join(timeout)
        self._threads.clear()

    def _loop(self) -> None:
        while True:
            job_id = self._queue.get()
            if job_id is None:
                return
            if self._stopping.is_set():
                # Leave it queued in the database for the next start.
                self._done(job_id, retry_in=None)
                continue
            event = threading.Event()
            with self._lock:
                self._cancel_events[job_id] = event
            try:
                retry_in = run_job(
                    self.runtime,
                    job_id=job_id,
                    worker=self.worker_name,
                    cancel=event,
                    shutting_down=self._stopping,
                )
            except Exception:  # the runner records failures; this guards the thread itself
                log.exception("job.runner_crashed", job_id=job_id)
                retry_in = None
            with self._lock:
                self._cancel_events.pop(job_id, None)
            self._done(job_id, retry_in=retry_in)

    def _done(self, job_id: str, *, retry_in: float | None) -> None:
        """Account for one finished run and schedule its retry, if any."""
        retry = retry_in is not None and not self._stopping.is_set()
        if retry:
            # Count the retry as busy before this run stops counting, so wait_idle
            # never sees a gap between the attempts.
            with self._idle:
                self._busy += 1
            timer = threading.Timer(retry_in or 0.0, self._queue.put, args=(job_id,))
            timer.daemon = True
            timer.start()
        else:
            with self._lock:
                self._known.discard(job_id)
        with self._idle:
            self._busy -= 1
            self._idle.notify_all()
