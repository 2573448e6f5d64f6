"""The catalog's audit log (who changed what, when, before and after) and the revision
history of titles' metadata.

An audit entry is written in the same transaction as the change it describes, so the log
never claims a change that was rolled back, nor misses one that was committed. ``before``
and ``after`` hold the changed fields only (the whole entity on create and delete).
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from reelstack.catalog.models import AuditEntry, TitleRevision
from reelstack.catalog.schemas import AuditOut, AuditPage, RevisionOut
from reelstack.errors import BadRequest, NotFound


@dataclass(frozen=True)
class ChangedBy:
    """Who made a change: ``user`` (a staff member's user id), ``api_key`` (its id),
    ``admin_key`` (the bootstrap key; no id) or ``system`` (the scheduler)."""

    actor_type: str
    actor_id: str | None = None

    @property
    def label(self) -> str:
        return self.actor_type if self.actor_id is None else f"{self.actor_type}:{self.actor_id}"


SYSTEM = ChangedBy("system")


def jsonable(value: Any) -> Any:
    """``value`` as JSON data (dates as ISO strings, enums as their values)."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


def diff(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The fields that changed, as (before, after)."""
    keys = [k for k in after if json.dumps(before.get(k)) != json.dumps(after.get(k))]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}


def record(
    session: Session,
    *,
    by: ChangedBy,
    action: str,
    entity_type: str,
    entity_id: str,
    title_id: str | None,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    """Add one audit entry (in the caller's transaction)."""
    session.add(
        AuditEntry(
            actor_type=by.actor_type,
            actor_id=by.actor_id,
            action=action,
            entity_type=entity_type,
            entity_id=entity_id,
            title_id=title_id,
            before=jsonable(before) if before is not None else None,
            after=jsonable(after) if after is not None else None,
        )
    )


def add_revision(
    session: Session, *, title_id: str, revision: int, by: ChangedBy, data: dict[str, Any]
) -> None:
    session.add(
        TitleRevision(
            title_id=title_id,
            revision=revision,
            actor_type=by.actor_type,
            actor_id=by.actor_id,
            data=jsonable(data),
        )
    )


def revisions(*, session: Session, title_id: str) -> list[RevisionOut]:
    """A title's metadata revisions, newest first."""
    rows = session.scalars(
        select(TitleRevision)
        .where(TitleRevision.title_id == title_id)
        .order_by(TitleRevision.revision.desc())
    ).all()
    return [
        RevisionOut(
            revision=r.revision,
            at=r.at,
            actor_type=r.actor_type,
            actor_id=r.actor_id,
            data=r.data,
        )
        for r in rows
    ]


def revision(*, session: Session, title_id: str, number: int) -> RevisionOut:
    row = session.get(TitleRevision, (title_id, number))
    if row is None:
        raise NotFound(f"title {title_id} has no revision {number}")
    return RevisionOut(
        revision=row.revision,
        at=row.at,
        actor_type=row.actor_type,
        actor_id=row.actor_id,
        data=row.data,
    )


def entries(
    *,
    session: Session,
    title_id: str | None = None,
    entity_type: str | None = None,
    entity_id: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> AuditPage:
    """Audit entries, newest first, keyset-paginated on the entry id."""
    stmt = select(AuditEntry)
    if title_id is not None:
        stmt = stmt.where(AuditEntry.title_id == title_id)
    if entity_type is not None:
        stmt = stmt.where(AuditEntry.entity_type == entity_type)
    if entity_id is not None:
        stmt = stmt.where(AuditEntry.entity_id == entity_id)
    if cursor is not None:
        if not cursor.isdigit() or len(cursor) > 19:
            raise BadRequest("cursor is not one this API returned", field="cursor")
        stmt = stmt.where(AuditEntry.id < int(cursor))
    rows = list(session.scalars(stmt.order_by(AuditEntry.id.desc()).limit(limit + 1)))
    next_cursor = str(rows[limit - 1].id) if len(rows) > limit else None
    return AuditPage(
        items=[
            AuditOut(
                id=r.id,
                at=r.at,
                actor_type=r.actor_type,
                actor_id=r.actor_id,
                action=r.action,
                entity_type=r.entity_type,
                entity_id=r.entity_id,
                title_id=r.title_id,
                before=r.before,
                after=r.after,
            )
            for r in rows[:limit]
        ],
        next_cursor=next_cursor,
    )
