"""The CMS's title routes under /v1/admin/catalog (editors and admins: the admin parent
router's guard): titles, their workflow, schedules, revisions and the audit log. Seasons,
genres, people, credits, windows and asset links are in ``admin_parts_router``."""

from __future__ import annotations

from functools import partial
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response, status

from reelstack.catalog import audit, listing, metadata, workflow
from reelstack.catalog.admin_schemas import (
    BulkIn,
    BulkOut,
    ScheduleIn,
    ScheduleOut,
    TitleAdminOut,
    TitleAdminPage,
    TitleCreate,
    TitleSort,
    TitleUpdate,
    TransitionIn,
)
from reelstack.catalog.audit import ChangedBy
from reelstack.catalog.schemas import AuditPage, RevisionOut, TitleKind, TitleState
from reelstack.deps import DbSession, ExecutorDep, RuntimeDep
from reelstack.problems import responses
from reelstack.security import AdminActor
from reelstack.uow import on_commit

router = APIRouter(prefix="/catalog", tags=["admin: catalog"], responses=responses(404))


def changed_by(actor: AdminActor) -> ChangedBy:
    """Who the audit log names: the staff member, the scoped API key, or the bootstrap
    admin key."""
    if actor.principal is not None:
        return ChangedBy("user", actor.principal.user_id)
    if actor.api_key_id is not None:
        return ChangedBy("api_key", actor.api_key_id)
    return ChangedBy("admin_key")


Editor = Annotated[ChangedBy, Depends(changed_by)]


@router.post(
    "/titles",
    status_code=status.HTTP_201_CREATED,
    response_model=TitleAdminOut,
    operation_id="adminCatalogCreateTitle",
    responses=responses(409),
)
def create_title(
    body: TitleCreate, session: DbSession, runtime: RuntimeDep, by: Editor
) -> TitleAdminOut:
    """A new title, as a draft. 409 naming ``slug`` (or an external id) when taken, or
    ``episode_number`` when the season has it; 422 naming the field for an unknown genre
    or rating, or an episode without a season."""
    return metadata.create_title(
        session=session,
        body=body,
        by=by,
        default_language=runtime.settings.catalog_default_language,
    )


@router.get("/titles", response_model=TitleAdminPage, operation_id="adminCatalogListTitles")
def list_titles(
    session: DbSession,
    sort: TitleSort = "-created_at",
    cursor: Annotated[str | None, Query(max_length=1000)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    kind: TitleKind | None = None,
    state: TitleState | None = None,
    genre: Annotated[str | None, Query(max_length=100)] = None,
    year: Annotated[int | None, Query(ge=1870, le=2200)] = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    season_id: Annotated[str | None, Query(max_length=64)] = None,
) -> TitleAdminPage:
    """Titles in every state: filtered, sorted (``-`` descending), keyset-paginated."""
    return listing.list_titles(
        session=session,
        sort=sort,
        cursor=cursor,
        limit=limit,
        kind=kind,
        state=state,
        genre=genre,
        year=year,
        q=q,
        season_id=season_id,
    )


@router.post(
    "/titles/bulk",
    response_model=BulkOut,
    operation_id="adminCatalogBulk",
    responses=responses(409),
)
def bulk(body: BulkIn, session: DbSession, by: Editor) -> BulkOut:
    """Transition or delete up to 100 titles, all or nothing (409 listing each refusal)."""
    return workflow.bulk(session=session, ids=body.ids, action=body.action, target=body.to, by=by)


@router.get("/titles/{title_id}", response_model=TitleAdminOut, operation_id="adminCatalogGetTitle")
def get_title(title_id: str, session: DbSession) -> TitleAdminOut:
    return metadata.get_admin(session=session, title_id=title_id)


@router.patch(
    "/titles/{title_id}",
    response_model=TitleAdminOut,
    operation_id="adminCatalogUpdateTitle",
    responses=responses(409),
)
def update_title(title_id: str, body: TitleUpdate, session: DbSession, by: Editor) -> TitleAdminOut:
    """Change the fields sent (null clears an optional one); each change is a revision."""
    return metadata.update_title(session=session, title_id=title_id, body=body, by=by)


@router.delete(
    "/titles/{title_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    operation_id="adminCatalogDeleteTitle",
    responses=responses(409),
)
def delete_title(title_id: str, session: DbSession, by: Editor) -> Response:
    """Delete a title that is not published (409 ``not_deletable``); a series goes with
    its seasons and episodes."""
    metadata.delete_title(session=session, title_id=title_id, by=by)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/titles/{title_id}/transitions",
    response_model=TitleAdminOut,
    operation_id="adminCatalogTransitionTitle",
    responses=responses(409),
)
def transition(title_id: str, body: TransitionIn, session: DbSession, by: Editor) -> TitleAdminOut:
    """Move the title along the workflow (409 ``invalid_transition`` with the allowed
    states when the move is not one of them)."""
    return workflow.transition(session=session, title_id=title_id, target=body.to, by=by)


@router.get(
    "/titles/{title_id}/revisions",
    response_model=list[RevisionOut],
    operation_id="adminCatalogListRevisions",
)
def revisions(title_id: str, session: DbSession) -> list[RevisionOut]:
    """The title's metadata after each change, newest first."""
    metadata.get_row(session, title_id)
    return audit.revisions(session=session, title_id=title_id)


@router.get(
    "/titles/{title_id}/revisions/{number}",
    response_model=RevisionOut,
    operation_id="adminCatalogGetRevision",
)
def revision(
    title_id: str, number: Annotated[int, Path(ge=1, le=2_000_000_000)], session: DbSession
) -> RevisionOut:
    return audit.revision(session=session, title_id=title_id, number=number)


@router.post(
    "/titles/{title_id}/schedules",
    status_code=status.HTTP_201_CREATED,
    response_model=ScheduleOut,
    operation_id="adminCatalogScheduleTitle",
)
def schedule(
    title_id: str,
    body: ScheduleIn,
    session: DbSession,
    runtime: RuntimeDep,
    executor: ExecutorDep,
    by: Editor,
) -> ScheduleOut:
    """Publish or unpublish the title at ``at`` (a job fires it; a past time fires at
    once). The transition is checked then: if the title's state does not allow it, the
    schedule ends ``failed`` with the reason."""
    out = workflow.schedule(
        session=session,
        title_id=title_id,
        body=body,
        by=by,
        max_attempts=runtime.settings.job_max_attempts,
    )
    if out.job_id is not None:
        on_commit(session, partial(executor.submit, out.job_id))
    return out


@router.get(
    "/titles/{title_id}/schedules",
    response_model=list[ScheduleOut],
    operation_id="adminCatalogListSchedules",
)
def schedules(title_id: str, session: DbSession) -> list[ScheduleOut]:
    return workflow.schedules(session=session, title_id=title_id)


@router.get(
    "/schedules/{schedule_id}", response_model=ScheduleOut, operation_id="adminCatalogGetSchedule"
)
def get_schedule(schedule_id: str, session: DbSession) -> ScheduleOut:
    return workflow.get_schedule(session=session, schedule_id=schedule_id)


@router.delete(
    "/schedules/{schedule_id}",
    response_model=ScheduleOut,
    operation_id="adminCatalogCancelSchedule",
    responses=responses(409),
)
def cancel_schedule(schedule_id: str, session: DbSession, by: Editor) -> ScheduleOut:
    """Cancel a pending schedule (409 once it has fired)."""
    return workflow.cancel_schedule(session=session, schedule_id=schedule_id, by=by)


@router.get("/audit", response_model=AuditPage, operation_id="adminCatalogAudit")
def audit_log(
    session: DbSession,
    title_id: Annotated[str | None, Query(max_length=64)] = None,
    entity_type: Annotated[str | None, Query(max_length=32)] = None,
    entity_id: Annotated[str | None, Query(max_length=64)] = None,
    cursor: Annotated[str | None, Query(max_length=20)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> AuditPage:
    """Who changed what in the catalog and when, with before and after, newest first."""
    return audit.entries(
        session=session,
        title_id=title_id,
        entity_type=entity_type,
        entity_id=entity_id,
        cursor=cursor,
        limit=limit,
    )
