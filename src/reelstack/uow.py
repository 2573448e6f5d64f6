"""After-commit work: side effects that must only happen once the rows are durable.

A service that changes state and then needs the outside world to act on it (submit a job
to an executor, cancel a running one, purge an edge) registers the action with
``on_commit``. It runs after the session's transaction commits, whoever commits it: the
request's unit of work (``deps.get_session``), ``db.session_scope``, or a bare
``session.commit()``. If the transaction rolls back or is closed without a commit, the
action is dropped, so no worker ever looks for a row that does not exist.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import structlog
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

log = structlog.get_logger(__name__)

_PENDING = "reelstack.after_commit"
_COMMITTED = "reelstack.after_commit.committed"
_LISTENING = "reelstack.after_commit.listening"


def on_commit(session: Session, fn: Callable[[], Any]) -> None:
    """Run ``fn()`` once the session's current (or next) outermost transaction commits.

    Dropped when that transaction rolls back or is closed uncommitted. Actions run in the
    order registered, outside any transaction (do not use ``session`` in them). An action
    that raises is logged and the rest still run: the commit has already happened.
    (Savepoints are not tracked: an action registered inside a rolled-back SAVEPOINT
    still runs if the outer transaction commits.)
    """
    if not session.info.get(_LISTENING):
        event.listen(session, "after_commit", _mark_committed)
        event.listen(session, "after_transaction_end", _transaction_end)
        session.info[_LISTENING] = True
    session.info.setdefault(_PENDING, []).append(fn)


def pending(session: Session) -> int:
    """How many actions wait for this session's commit (for tests and diagnostics)."""
    return len(session.info.get(_PENDING, ()))


def _mark_committed(session: Session) -> None:
    # Also fired when a SAVEPOINT is released; only the outermost commit is durable.
    if not session.in_nested_transaction():
        session.info[_COMMITTED] = True


def _transaction_end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is not None:
        return
    actions: list[Callable[[], Any]] = session.info.pop(_PENDING, [])
    if not session.info.pop(_COMMITTED, False):
        if actions:
            log.debug("uow.after_commit_dropped", actions=len(actions))
        return
    for fn in actions:
        try:
            fn()
        except Exception:
            log.exception("uow.after_commit_failed", action=getattr(fn, "__qualname__", repr(fn)))
