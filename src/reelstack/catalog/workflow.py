"""The publishing workflow: a state machine over ``TitleState``, bulk operations, and
publishes and unpublishes scheduled for a time (a ``catalog_schedule`` job fires each).

Allowed transitions (anything else is 409 ``invalid_transition``):

    draft       -> in_review, archived
    in_review   -> published, draft (sent back), archived
    published   -> unpublished
    unpublished -> published, draft, archived
    archived    -> draft (restored)

Only published titles reach viewers; a published title must be unpublished before it is
archived or deleted, so nothing disappears from under a viewer without a trace.
"""

from __future__ import annotations

from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session

from reelstack.catalog import audit, metadata
from reelstack.catalog.admin_schemas import BulkOut, ScheduleIn, ScheduleOut, TitleAdminOut
from reelstack.catalog.audit import ChangedBy
from reelstack.catalog.errors import InvalidTransition, invalid
from reelstack.catalog.models import ScheduleAction, ScheduleState, Title, TitleSchedule, TitleState
from reelstack.db import utcnow
from reelstack.errors import Conflict, NotFound
from reelstack.jobs import service as job_service
from reelstack.jobs.context import JobContext
from reelstack.jobs.models import JobKind
from reelstack.jobs.payloads import CatalogSchedulePayload
from reelstack.jobs.registry import JobHandler, JobRegistry

log = structlog.get_logger(__name__)

TRANSITIONS: dict[TitleState, frozenset[TitleState]] = {
    TitleState.DRAFT: frozenset({TitleState.IN_REVIEW, TitleState.ARCHIVED}),
    TitleState.IN_REVIEW: frozenset({TitleState.PUBLISHED, TitleState.DRAFT, TitleState.ARCHIVED}),
    TitleState.PUBLISHED: frozenset({TitleState.UNPUBLISHED}),
    TitleState.UNPUBLISHED: frozenset(
        {TitleState.PUBLISHED, TitleState.DRAFT, TitleState.ARCHIVED}
    ),
    TitleState.ARCHIVED: frozenset({TitleState.DRAFT}),
}
_ACTION_TARGET = {
    ScheduleAction.PUBLISH: TitleState.PUBLISHED,
    ScheduleAction.UNPUBLISH: TitleState.UNPUBLISHED,
}
MAX_BULK = 100
SUBJECT = "title"


def can_transition(source: TitleState, target: TitleState) -> bool:
    return target in TRANSITIONS[source]


def _refusal(row: Title, target: TitleState) -> InvalidTransition:
    allowed = sorted(s.value for s in TRANSITIONS[row.state])
    return InvalidTransition(
        f"title {row.id} cannot go from {row.state.value} to {target.value}",
        field="to",
        state=row.state.value,
        to=target.value,
        allowed=allowed,
    )


def _apply(session: Session, row: Title, target: TitleState, by: ChangedBy, action: str) -> None:
    before = row.state
    row.state = target
    row.updated_at = utcnow()
    if target is TitleState.PUBLISHED:
        row.published_at = row.updated_at
    audit.record(
        session,
        by=by,
        action=action,
        entity_type="title",
        entity_id=row.id,
        title_id=row.id,
        before={"state": before.value},
        after={"state": target.value},
    )


def transition(
    *, session: Session, title_id: str, target: TitleState, by: ChangedBy
) -> TitleAdminOut:
    """Move a title to ``target`` (409 ``invalid_transition`` when not allowed)."""
    row = metadata.get_row(session, title_id)
    if not can_transition(row.state, target):
        raise _refusal(row, target)
    _apply(session, row, target, by, "transition")
    session.flush()
    return metadata.admin_outs(session, [row])[0]


def bulk(
    *, session: Session, ids: list[str], action: str, target: TitleState | None, by: ChangedBy
) -> BulkOut:
    """A transition or a delete of up to 100 titles, all or nothing: every title is
    checked first; one refusal refuses the whole batch (409 listing each failure)."""
    wanted = list(dict.fromkeys(ids))
    if len(wanted) > MAX_BULK:
        raise invalid("ids", f"at most {MAX_BULK} titles at once")
    if action == "transition" and target is None:
        raise invalid("to", "a bulk transition needs its target state")
    rows = {r.id: r for r in session.scalars(select(Title).where(Title.id.in_(wanted)))}
    failures: list[dict[str, Any]] = []
    for title_id in wanted:
        row = rows.get(title_id)
        if row is None:
            failures.append({"id": title_id, "code": "not_found"})
        elif target is not None and action == "transition":
            if not can_transition(row.state, target):
                failures.append({"id": title_id, "code": "invalid_transition"})
        else:
            try:
                metadata.check_deletable(session, row)
            except Conflict as refused:
                failures.append({"id": title_id, "code": refused.code})
    if failures:
        raise Conflict(
            f"{len(failures)} of {len(wanted)} titles refused: nothing was changed",
            field="ids",
            failures=failures,
        )
    for title_id in wanted:
        if action == "transition" and target is not None:
            _apply(session, rows[title_id], target, by, "transition")
        else:
            metadata.delete_title(session=session, title_id=title_id, by=by)
    session.flush()
    return BulkOut(action="transition" if action == "transition" else "delete", ids=wanted)


def _schedule_out(row: TitleSchedule) -> ScheduleOut:
    return ScheduleOut(
        id=row.id,
        title_id=row.title_id,
        action=row.action,
        at=row.run_at,
        state=row.state,
        job_id=row.job_id,
        created_by=row.created_by,
        error=row.error,
        done_at=row.done_at,
    )


def schedule(
    *, session: Session, title_id: str, body: ScheduleIn, by: ChangedBy, max_attempts: int = 3
) -> ScheduleOut:
    """Plan a publish or unpublish at ``body.at`` (a time in the past fires at once). The
    transition is checked when it fires: the title may change state meanwhile. The caller
    tells the executor about ``job_id`` after the commit."""
    metadata.get_row(session, title_id)
    row = TitleSchedule(title_id=title_id, action=body.action, run_at=body.at, created_by=by.label)
    session.add(row)
    session.flush()
    job = job_service.create_job(
        session=session,
        payload=CatalogSchedulePayload(schedule_id=row.id),
        subject_type=SUBJECT,
        subject_id=title_id,
        max_attempts=max_attempts,
        priority=50,
        not_before=body.at,
    )
    row.job_id = job.id
    audit.record(
        session,
        by=by,
        action="schedule",
        entity_type="schedule",
        entity_id=row.id,
        title_id=title_id,
        before=None,
        after={"action": row.action.value, "at": row.run_at},
    )
    session.flush()
    return _schedule_out(row)


def _get_schedule(session: Session, schedule_id: str) -> TitleSchedule:
    row = session.get(TitleSchedule, schedule_id)
    if row is None:
        raise NotFound(f"schedule {schedule_id} does not exist")
    return row


def cancel_schedule(*, session: Session, schedule_id: str, by: ChangedBy) -> ScheduleOut:
    """Cancel a pending schedule (its job then does nothing); 409 once it has fired."""
    row = _get_schedule(session, schedule_id)
    if row.state is not ScheduleState.PENDING:
        raise Conflict(f"schedule {schedule_id} is {row.state.value}", state=row.state.value)
    row.state = ScheduleState.CANCELLED
    row.done_at = utcnow()
    audit.record(
        session,
        by=by,
        action="cancel",
        entity_type="schedule",
        entity_id=row.id,
        title_id=row.title_id,
        before={"state": ScheduleState.PENDING.value},
        after={"state": row.state.value},
    )
    session.flush()
    return _schedule_out(row)


def schedules(*, session: Session, title_id: str) -> list[ScheduleOut]:
    metadata.get_row(session, title_id)
    rows = session.scalars(
        select(TitleSchedule)
        .where(TitleSchedule.title_id == title_id)
        .order_by(TitleSchedule.run_at, TitleSchedule.id)
    )
    return [_schedule_out(r) for r in rows]


def get_schedule(*, session: Session, schedule_id: str) -> ScheduleOut:
    return _schedule_out(_get_schedule(session, schedule_id))


def fire(*, session: Session, schedule_id: str) -> str:
    """Apply a due schedule once: "done", "failed" (the title's state did not allow the
    transition; the reason is kept on the schedule) or "skipped" (cancelled, already
    fired, or gone with its title). Idempotent: a re-run finds it no longer pending."""
    row = session.get(TitleSchedule, schedule_id)
    if row is None or row.state is not ScheduleState.PENDING:
        return "skipped"
    title = session.get(Title, row.title_id)
    if title is None:
        return "skipped"
    target = _ACTION_TARGET[row.action]
    row.done_at = utcnow()
    by = ChangedBy("system", f"schedule:{row.id}")
    if not can_transition(title.state, target):
        row.state = ScheduleState.FAILED
        row.error = f"cannot {row.action.value} a title in state {title.state.value}"
        audit.record(
            session,
            by=by,
            action="schedule_failed",
            entity_type="schedule",
            entity_id=row.id,
            title_id=title.id,
            before={"state": ScheduleState.PENDING.value},
            after={"state": row.state.value, "error": row.error},
        )
        return "failed"
    _apply(session, title, target, by, row.action.value)
    row.state = ScheduleState.DONE
    return "done"


def run_schedule(ctx: JobContext) -> dict[str, Any]:
    """The ``catalog_schedule`` job: fire its schedule (in the job's fenced transaction)."""
    payload = ctx.payload
    assert isinstance(payload, CatalogSchedulePayload)
    with ctx.transaction() as session:
        outcome = fire(session=session, schedule_id=payload.schedule_id)
    log.info("catalog.schedule_fired", schedule_id=payload.schedule_id, outcome=outcome)
    return {"outcome": outcome}


def register(registry: JobRegistry) -> None:
    registry.register(JobKind.CATALOG_SCHEDULE, JobHandler(run=run_schedule))
