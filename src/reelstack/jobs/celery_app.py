"""Distributed execution on Celery: the broker carries job ids, the database the truth.

Two queues: ``short`` (publish, purge: everything but an encode) and ``long`` (encodes;
workers fetch one message at a time). A message is only "job X may be due": the task
claims X through the same fenced ``run_job`` as ``LocalExecutor`` and returns quietly
when X is not queued and due (another worker holds it, it is done, a duplicate
message). Retries and backoff stay in the database (``not_before``); messages are
acknowledged late and rejected when their worker process dies.

Nothing depends on a message arriving: every worker runs a ``Sweeper`` that re-queues
jobs whose worker died (dead process on this host, or a stale heartbeat anywhere) and
re-publishes queued jobs that have been due for ``job_lost_after_s`` while their queue
holds no message, so a message lost by the broker, by a crash between commit and
publish, or never sent (a job made due later) still runs.

This module knows no domain: ``reelstack.celery_worker`` gives it the job registry.
"""

from __future__ import annotations

import queue
import threading
import time
from contextlib import suppress
from datetime import datetime, timedelta
from typing import Any

import structlog
from celery import Celery
from kombu.entity import Exchange, Queue

from reelstack.config import Settings
from reelstack.db import session_scope, utcnow
from reelstack.jobs import service
from reelstack.jobs.executor import worker_name
from reelstack.jobs.models import JobKind
from reelstack.jobs.registry import JobRegistry
from reelstack.jobs.runner import run_job
from reelstack.runtime import Runtime

log = structlog.get_logger(__name__)

# The one task; explicit, so that publishers and workers never depend on module paths.
TASK_NAME = "reelstack.run_job"
SHORT = "short"
LONG = "long"
QUEUES = (SHORT, LONG)
# Job kinds that encode (minutes to hours); everything else is short.
LONG_KINDS = frozenset({JobKind.TRANSCODE})
# The hard time limit (the worker process is killed) comes this long after the soft one.
HARD_LIMIT_GRACE_S = 60.0
# Redis hands an unacknowledged message to another consumer after the visibility timeout:
# it must outlast the longest attempt plus the longest retry countdown, by this margin.
VISIBILITY_MARGIN_S = 3600.0
# The sweep re-publishes at most this many overdue jobs per pass.
SWEEP_BATCH = 100


def queue_of(kind: JobKind) -> str:
    return LONG if kind in LONG_KINDS else SHORT


def queue_name(settings: Settings, name: str) -> str:
    """The broker's name of logical queue ``name`` (``short`` or ``long``)."""
    return f"{settings.broker_namespace}.{name}"


def time_limits(settings: Settings, name: str) -> tuple[float, float]:
    """(soft, hard) time limit of one attempt of a job on queue ``name``."""
    soft = settings.job_time_limit_long_s if name == LONG else settings.job_time_limit_short_s
    return soft, soft + HARD_LIMIT_GRACE_S


def visibility_timeout_s(settings: Settings) -> float:
    longest = max(time_limits(settings, q)[1] for q in QUEUES)
    return longest + settings.job_retry_cap_s + VISIBILITY_MARGIN_S


def make_celery(settings: Settings) -> Celery:
    """A Celery app for ``settings`` (publishers and workers build the same one)."""
    if settings.broker_url is None:
        raise ValueError("REELSTACK_BROKER_URL is not set")
    url = settings.broker_url.get_secret_value()
    ns = settings.broker_namespace
    queues = []
    for name in QUEUES:
        full = queue_name(settings, name)
        exchange = Exchange(full, type="direct")  # type: ignore[no-untyped-call]
        queues.append(Queue(full, exchange, routing_key=full))  # type: ignore[no-untyped-call]
    transport: dict[str, Any]
    if url.startswith("redis"):
        transport = {
            "visibility_timeout": visibility_timeout_s(settings),
            # Kombu's bookkeeping of unacknowledged messages, per namespace.
            "unacked_key": f"{ns}.unacked",
            "unacked_index_key": f"{ns}.unacked_index",
            "unacked_mutex_key": f"{ns}.unacked_mutex",
        }
    else:
        # Publisher confirms: a publish returns once RabbitMQ has the message.
        transport = {"confirm_publish": True}
    app = Celery("reelstack", set_as_current=False)
    app.conf.update(
        broker_url=url,
        broker_transport_options=transport,
        broker_connection_retry_on_startup=True,
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        result_backend=None,
        task_ignore_result=True,
        # Acknowledged after the attempt; re-delivered when the worker process is lost.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        # One message per process at a time (an encode holds a process for long).
        worker_prefetch_multiplier=1,
        task_queues=queues,
        task_default_queue=queue_name(settings, SHORT),
        task_default_exchange=queue_name(settings, SHORT),
        task_default_routing_key=queue_name(settings, SHORT),
        task_create_missing_queues=False,
        # Fallback limits for a message published without its own.
        task_soft_time_limit=time_limits(settings, LONG)[0],
        task_time_limit=time_limits(settings, LONG)[1],
        # No pidbox, event or mingle traffic: the database is where state is seen.
        worker_enable_remote_control=False,
        worker_send_task_events=False,
        task_send_sent_event=False,
        worker_hijack_root_logger=False,
        worker_redirect_stdouts=False,
        enable_utc=True,
        timezone="UTC",
    )
    return app


class Publisher:
    """Publishes job ids to the queue of their kind, with that queue's time limits."""

    def __init__(self, app: Celery, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    def publish(self, job_id: str, kind: JobKind, *, not_before: datetime | None = None) -> None:
        name = queue_of(kind)
        soft, hard = time_limits(self.settings, name)
        countdown = None
        if not_before is not None:
            wait_s = (not_before - utcnow()).total_seconds()
            countdown = wait_s if wait_s > 0 else None
        self.app.send_task(
            TASK_NAME,
            args=[job_id],
            queue=queue_name(self.settings, name),
            countdown=countdown,
            soft_time_limit=soft,
            time_limit=hard,
            ignore_result=True,
            add_to_parent=False,
        )

    def publish_queued(self, runtime: Runtime, job_ids: list[str]) -> list[str]:
        """Publish those of ``job_ids`` that are queued; returns the ids published."""
        with session_scope(runtime.sessions) as session:
            rows = [
                (j.id, j.kind, j.not_before)
                for j in service.queued_among(session=session, job_ids=job_ids)
            ]
        for job_id, kind, not_before in rows:
            self.publish(job_id, kind, not_before=not_before)
        return [r[0] for r in rows]

    def waiting(self, name: str) -> int:
        """Messages ready in logical queue ``name`` (not counting those a worker holds)."""
        with self.app.connection_for_read() as conn:
            channel = conn.channel()
            try:
                declared = channel.queue_declare(
                    queue=queue_name(self.settings, name), passive=True
                )
                return int(declared.message_count)
            except conn.channel_errors:
                return 0  # never declared yet (or, on Redis, empty)
            finally:
                with suppress(Exception):
                    channel.close()

    def close(self) -> None:
        self.app.close()


class CeleryExecutor:
    """The API side of the Celery topology: publishes job ids, runs nothing.

    ``submit`` returns at once (it may be called on the event loop): a thread of its
    own reads which jobs of the submitted graph are queued and publishes them. If the
    broker is down or the process dies first, the workers' sweep publishes them later.
    """

    def __init__(self, runtime: Runtime, app: Celery | None = None) -> None:
        self.runtime = runtime
        self.publisher = Publisher(app or make_celery(runtime.settings), runtime.settings)
        self._pending: queue.SimpleQueue[str | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def submit(self, job_id: str) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._loop, name="reelstack-publisher", daemon=True
                )
                self._thread.start()
        self._pending.put(job_id)

    def cancel(self, job_id: str) -> None:
        """Nothing to do here: the job's worker reads ``cancel_requested`` at its next
        heartbeat (``REELSTACK_JOB_HEARTBEAT_INTERVAL_S``) and stops FFmpeg."""

    def stop(self, *, timeout: float = 10.0) -> None:
        """Publish what was submitted, then close the broker connections."""
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._pending.put(None)
            thread.join(timeout)
        self.publisher.close()

    def _loop(self) -> None:
        while (job_id := self._pending.get()) is not None:
            try:
                with session_scope(self.runtime.sessions) as session:
                    ids = service.subtree_ids(session=session, job_id=job_id)
                self.publisher.publish_queued(self.runtime, ids)
            except Exception:
                # The rows are committed: the workers' sweep publishes them later.
                log.warning("job.publish_failed", job_id=job_id, exc_info=True)


def run_task(
    runtime: Runtime,
    registry: JobRegistry,
    publisher: Publisher,
    job_id: str,
    *,
    cancel: threading.Event,
    shutting_down: threading.Event | None = None,
) -> str | None:
    """The body of ``reelstack.run_job``: one attempt of ``job_id`` when it is queued and
    due, claimed and fenced exactly as ``LocalExecutor`` does; then publish what that
    made runnable (its own retry, its parent). Returns the id it ran, or None (another
    worker holds the job, it is finished or not due: a duplicate or early message)."""
    ran = run_job(
        runtime,
        registry,
        worker=worker_name(),
        cancel=cancel,
        job_id=job_id,
        shutting_down=shutting_down,
    )
    if ran is None:
        log.info("job.not_claimed", job_id=job_id)
        return None
    try:
        with session_scope(runtime.sessions) as session:
            job = service.get_job(session=session, job_id=ran)
            follow = [job.id] + ([job.parent_id] if job.parent_id else [])
        publisher.publish_queued(runtime, follow)
    except Exception:
        log.warning("job.publish_failed", job_id=ran, exc_info=True)
    return ran


class Sweeper:
    """Recovery for a Celery worker, in a thread of its main process.

    Every ``interval_s``: re-queue and publish jobs whose worker died (as the embedded
    executor does), and re-publish jobs queued and due for ``job_lost_after_s`` whose
    queue holds no ready message (so a backlog is never duplicated).
    """

    def __init__(self, runtime: Runtime, registry: JobRegistry, publisher: Publisher) -> None:
        settings = runtime.settings
        self.runtime = runtime
        self.registry = registry
        self.publisher = publisher
        self.lost_after_s = settings.job_lost_after_s
        self.interval_s = min(settings.job_stale_after_s, settings.job_lost_after_s) / 2
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        # Job id -> when this process last re-published it (no re-publishing in a loop).
        self._republished: dict[str, float] = {}

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="reelstack-sweeper", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _loop(self) -> None:
        while True:
            try:
                self.sweep()
            except Exception:  # a database or broker blip must not end recovery
                log.warning("sweeper.failed", exc_info=True)
            if self._stop.wait(self.interval_s):
                return

    def sweep(self) -> tuple[list[str], list[str]]:
        """One pass; returns (ids re-queued from dead workers, ids re-published)."""
        for name in self.runtime.workdir.sweep():
            log.warning("workdir.scratch_removed", dir=name)
        with session_scope(self.runtime.sessions) as session:
            recovered = service.recover_orphans(
                session=session,
                stale_after_s=self.runtime.settings.job_stale_after_s,
                live_ids=set(),  # this process runs none; its pool's children heartbeat
                on_give_up=self.registry.on_give_up,
            )
        for job_id in recovered:
            log.warning("job.recovered", job_id=job_id)
        self.publisher.publish_queued(self.runtime, recovered)
        return recovered, self._republish_lost()

    def _republish_lost(self) -> list[str]:
        now = time.monotonic()
        self._republished = {
            k: t for k, t in self._republished.items() if now - t < self.lost_after_s
        }
        cutoff = utcnow() - timedelta(seconds=self.lost_after_s)
        with session_scope(self.runtime.sessions) as session:
            rows = [
                (j.id, j.kind)
                for j in service.overdue(session=session, due_before=cutoff, limit=SWEEP_BATCH)
                if j.id not in self._republished
            ]
        republished: list[str] = []
        idle: dict[str, bool] = {}
        for job_id, kind in rows:
            name = queue_of(kind)
            if name not in idle:
                idle[name] = self.publisher.waiting(name) == 0
            if not idle[name]:
                continue  # a backlog: its messages will come; this one's too, if it exists
            self.publisher.publish(job_id, kind)
            self._republished[job_id] = now
            republished.append(job_id)
            log.warning("job.republished", job_id=job_id, queue=name)
        return republished
