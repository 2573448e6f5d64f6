"""The job state machine: allowed transitions, nothing else."""

from __future__ import annotations

from reelstack.errors import InvalidJobTransition
from reelstack.jobs.models import JobState

W, Q, R, S, F, C = (
    JobState.WAITING,
    JobState.QUEUED,
    JobState.RUNNING,
    JobState.SUCCEEDED,
    JobState.FAILED,
    JobState.CANCELLED,
)

TRANSITIONS: dict[JobState, frozenset[JobState]] = {
    # A parent waits for its children: queued to run its own step once they all
    # succeeded, failed or cancelled with them.
    W: frozenset({Q, F, C}),
    # queued -> running when a worker claims it; cancelled before it starts.
    Q: frozenset({R, C}),
    # running -> queued is a retry after a failed attempt or recovery from a dead worker.
    R: frozenset({S, F, C, Q}),
    # A failed job may be retried by hand (a parent goes back to waiting for the
    # children that are retried with it).
    F: frozenset({Q, W}),
    S: frozenset(),
    C: frozenset(),
}

TERMINAL = frozenset({S, F, C})


def can_transition(src: JobState, dst: JobState) -> bool:
    return dst in TRANSITIONS[src]


def check_transition(src: JobState, dst: JobState) -> None:
    """Raise InvalidJobTransition unless ``src -> dst`` is allowed."""
    if not can_transition(src, dst):
        raise InvalidJobTransition(
            f"a job cannot go from {src.value} to {dst.value}",
            from_state=src.value,
            to_state=dst.value,
        )
