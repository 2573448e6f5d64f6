"""``reelstack worker --executor celery``: a Celery worker running the registry's handlers.

The composition root of the Celery topology (``reelstack.jobs.celery_app`` knows no
domain): the task ``reelstack.run_job`` runs the handlers of ``bootstrap.job_registry``,
the same ones the embedded executor runs.

Processes: Celery's main process consumes the queues and runs the ``Sweeper`` thread;
its pool's child processes (prefork, ``--concurrency``) run one job at a time each,
named ``host:pid`` in the job rows, with their own database connections and scratch
dirs. On a warm shutdown (SIGTERM, Ctrl-C) the children stop FFmpeg and hand their
running jobs back to the queue without spending an attempt, as ``LocalExecutor`` does.
"""

from __future__ import annotations

import multiprocessing
import os
import socket
import threading
from collections.abc import Sequence
from typing import Any

import structlog
from celery import Celery
from celery.signals import worker_process_init, worker_ready, worker_shutdown, worker_shutting_down

from reelstack.bootstrap import job_registry
from reelstack.config import Settings
from reelstack.jobs.celery_app import (
    QUEUES,
    TASK_NAME,
    Publisher,
    Sweeper,
    make_celery,
    queue_name,
    run_task,
)
from reelstack.jobs.registry import JobRegistry
from reelstack.runtime import Runtime, build_runtime

log = structlog.get_logger(__name__)


class _ProcessState:
    """What one process of the worker holds: its runtime (built in the process that uses
    it, never inherited across a fork) and the cancel event of the job it runs."""

    def __init__(self, settings: Settings, registry: JobRegistry) -> None:
        self.settings = settings
        self.registry = registry
        self.shutting_down = threading.Event()
        self.running: threading.Event | None = None
        self._runtime: Runtime | None = None
        self._pid = 0

    def runtime(self) -> Runtime:
        if self._runtime is None or self._pid != os.getpid():
            self._runtime = build_runtime(self.settings)
            self._pid = os.getpid()
        return self._runtime

    def stop_running(self) -> None:
        """The worker is shutting down: stop the running job, which goes back to the queue."""
        self.shutting_down.set()
        event = self.running
        if event is not None:
            event.set()


def build_app(settings: Settings) -> tuple[Celery, _ProcessState]:
    """The Celery app with ``reelstack.run_job`` registered on it."""
    app = make_celery(settings)
    state = _ProcessState(settings, job_registry())
    publisher = Publisher(app, settings)

    def run(job_id: str) -> str | None:
        cancel = threading.Event()
        state.running = cancel
        if state.shutting_down.is_set():
            cancel.set()  # claimed, then handed straight back
        try:
            return run_task(
                state.runtime(),
                state.registry,
                publisher,
                job_id,
                cancel=cancel,
                shutting_down=state.shutting_down,
            )
        finally:
            state.running = None

    app.task(name=TASK_NAME, acks_late=True, reject_on_worker_lost=True, ignore_result=True)(run)
    return app, state


def run_worker(settings: Settings, *, queues: Sequence[str] = QUEUES, concurrency: int = 1) -> int:
    """Run a Celery worker until it is told to stop; returns its exit code."""
    unknown = set(queues) - set(QUEUES)
    if unknown or not queues:
        raise ValueError(f"queues must be among {', '.join(QUEUES)}: got {', '.join(queues)}")
    app, state = build_app(settings)
    runtime = build_runtime(settings)
    for name in runtime.workdir.sweep():
        log.warning("workdir.scratch_removed", dir=name)
    sweeper = Sweeper(runtime, state.registry, Publisher(app, settings))
    # Set once by the main process at shutdown; every pool process (forked after this)
    # waits on it in a thread of its own.
    stopping = multiprocessing.get_context("fork").Event()
    hostname = f"reelstack-{os.getpid()}@{socket.gethostname()}"

    def child_init(**_: Any) -> None:
        # The main process's pooled connections came along with the fork: leave them to it.
        runtime.engine.dispose(close=False)

        def watch() -> None:
            stopping.wait()
            state.stop_running()

        threading.Thread(target=watch, name="reelstack-shutdown", daemon=True).start()

    def ready(**_: Any) -> None:
        sweeper.start()
        log.info("celery.worker_ready", worker=hostname, queues=list(queues))

    def shutting_down(**_: Any) -> None:
        stopping.set()

    def shutdown(**_: Any) -> None:
        sweeper.stop()

    worker_process_init.connect(child_init, weak=False)
    worker_ready.connect(ready, weak=False)
    worker_shutting_down.connect(shutting_down, weak=False)
    worker_shutdown.connect(shutdown, weak=False)
    worker = app.Worker(
        hostname=hostname,
        queues=[queue_name(settings, q) for q in queues],
        concurrency=concurrency,
        pool="prefork",
        loglevel=settings.log_level.upper(),
        optimization="fair",
        without_mingle=True,
        without_gossip=True,
        without_heartbeat=True,
        quiet=True,
    )
    try:
        worker.start()
    finally:
        sweeper.stop()
        runtime.close()
        app.close()
    return int(worker.exitcode or 0)
