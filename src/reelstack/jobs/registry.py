"""Which handler runs each job kind. Filled by one bootstrap module (reelstack.bootstrap)
for the API, the CLI and workers alike; jobs/ itself knows no domain."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from reelstack.jobs.models import Job, JobKind

if TYPE_CHECKING:
    from reelstack.jobs.context import JobContext


@dataclass(frozen=True)
class JobHandler:
    """What a job kind does, and how its domain learns the job gave up.

    ``run`` returns the job's result (stored on success, read by its parent) or None.
    It raises ``PermanentJobError`` when retrying cannot help, ``JobCancelled`` when
    told to stop; any other exception is a failed attempt, retried with backoff.
    ``on_give_up`` runs inside the transaction that fails or cancels the job.
    """

    run: Callable[[JobContext], dict[str, Any] | None]
    on_give_up: Callable[[Session, Job, str], None] | None = None


class UnknownJobKind(LookupError):
    pass


class JobRegistry:
    def __init__(self) -> None:
        self._handlers: dict[JobKind, JobHandler] = {}

    def register(self, kind: JobKind, handler: JobHandler) -> None:
        if kind in self._handlers:
            raise ValueError(f"a handler for {kind.value} is already registered")
        self._handlers[kind] = handler

    def handler(self, kind: JobKind) -> JobHandler:
        try:
            return self._handlers[kind]
        except KeyError:
            raise UnknownJobKind(f"no handler registered for job kind {kind.value}") from None

    def missing(self) -> set[JobKind]:
        """Job kinds with no handler (bootstrap refuses to start with any)."""
        return set(JobKind) - set(self._handlers)

    def on_give_up(self, session: Session, job: Job, reason: str) -> None:
        """The give-up hook of ``job``'s kind, for the service's cascades (none for a kind
        this registry lacks: the job still fails rather than stay stuck)."""
        handler = self._handlers.get(job.kind)
        hook = handler.on_give_up if handler is not None else None
        if hook is not None:
            hook(session, job, reason)
