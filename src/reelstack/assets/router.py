from __future__ import annotations

from functools import partial
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from reelstack.assets import purges, service
from reelstack.assets.schemas import (
    AssetOut,
    PurgeAction,
    PurgeFeed,
    PurgeIn,
    PurgeOut,
    ReprocessIn,
    ReprocessOut,
)
from reelstack.deps import DbSession, ExecutorDep, RuntimeDep
from reelstack.problems import responses
from reelstack.uow import on_commit

# Mounted under the admin parent router (reelstack.api): /v1/admin/assets and
# /v1/admin/edge.
router = APIRouter(prefix="/assets", tags=["assets"])
edge_router = APIRouter(prefix="/edge", tags=["edge"])


@router.get(
    "/{asset_id}", response_model=AssetOut, operation_id="getAsset", responses=responses(404)
)
def get_asset(asset_id: str, session: DbSession) -> AssetOut:
    return AssetOut.model_validate(service.get_asset(session=session, asset_id=asset_id))


@router.post(
    "/{asset_id}/reprocess",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=ReprocessOut,
    operation_id="reprocessAsset",
    responses=responses(404, 409),
)
def reprocess_asset(
    asset_id: str,
    session: DbSession,
    runtime: RuntimeDep,
    executor: ExecutorDep,
    body: ReprocessIn | None = None,
) -> ReprocessOut:
    """Re-transcode with the current (or the given) ladder into a new version. The
    current version keeps playing until the new one is published; 409 ``asset_busy``
    while another processing run is in progress."""
    ladder = body.ladder if body and body.ladder else runtime.settings.ladder
    job = service.reprocess(
        session=session,
        asset_id=asset_id,
        ladder=ladder,
        max_attempts=runtime.settings.job_max_attempts,
    )
    on_commit(session, partial(executor.submit, job.id))
    return ReprocessOut(asset_id=asset_id, job_id=job.id)


@router.delete(
    "/{asset_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    operation_id="deleteAsset",
    responses=responses(404),
)
def delete_asset(
    asset_id: str, session: DbSession, runtime: RuntimeDep, executor: ExecutorDep
) -> Response:
    """Delete an asset: its rows and jobs now (a running job stops and cleans up after
    itself), then every stored object (source and all versions) once that committed."""
    running = service.delete_asset(session=session, asset_id=asset_id)
    for job_id in running:
        on_commit(session, partial(executor.cancel, job_id))
    on_commit(
        session,
        partial(service.discard_asset_objects, storage=runtime.storage, asset_id=asset_id),
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{asset_id}/purge",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=PurgeOut,
    operation_id="purgeAsset",
    responses=responses(404),
)
def purge_asset(asset_id: str, body: PurgeIn, session: DbSession) -> PurgeOut:
    """Tell the edges to drop their cached copies of this asset's media (``revoke``:
    and to refuse its URLs from now on, whatever their token). Edges apply it within
    seconds of polling the feed."""
    service.get_asset(session=session, asset_id=asset_id)
    action = PurgeAction.REVOKE if body.revoke else PurgeAction.PURGE
    return purges.record(session=session, asset_id=asset_id, action=action)


@edge_router.get("/purges", response_model=PurgeFeed, operation_id="listEdgePurges")
def list_purges(session: DbSession, after: Annotated[int, Query(ge=0, le=2**62)] = 0) -> PurgeFeed:
    """The purge records after ``after``, oldest first (at most 1000): what an edge polls."""
    return purges.feed(session=session, after=after)
