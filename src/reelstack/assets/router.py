from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, status
from starlette.concurrency import run_in_threadpool

from reelstack.assets import service
from reelstack.assets.schemas import AssetOut, UploadOut
from reelstack.catalog.models import TitleKind
from reelstack.deps import DbSession, ExecutorDep, RuntimeDep
from reelstack.errors import BadRequest, PayloadTooLarge
from reelstack.problems import responses

router = APIRouter(prefix="/v1/admin", tags=["assets"])


@router.post(
    "/uploads",
    status_code=status.HTTP_201_CREATED,
    response_model=UploadOut,
    operation_id="uploadVideo",
    responses=responses(400, 413),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
            },
        }
    },
)
async def upload(
    request: Request,
    runtime: RuntimeDep,
    executor: ExecutorDep,
    title: Annotated[str, Query(min_length=1, max_length=500)],
    filename: Annotated[str | None, Query(max_length=255)] = None,
    kind: TitleKind = TitleKind.MOVIE,
) -> UploadOut:
    """Upload a video as the raw request body; it is streamed to disk, never held in memory.

    The file is probed before anything is recorded: a file that is not a decodable video
    gets 422 ``invalid_media`` and leaves no rows and no files.
    """
    limit = runtime.settings.max_upload_bytes
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise BadRequest("Content-Length is not a number")
        if int(declared) > limit:
            raise PayloadTooLarge(f"upload is larger than the {limit}-byte limit", limit=limit)
    with runtime.storage.staging_dir() as tmp:
        path = tmp / "upload"
        size = 0
        with path.open("wb") as fh:
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise PayloadTooLarge(
                        f"upload is larger than the {limit}-byte limit", limit=limit
                    )
                # Off the event loop: a slow disk must not stall other requests.
                await run_in_threadpool(fh.write, chunk)
        result = await run_in_threadpool(
            service.ingest_file,
            runtime=runtime,
            path=path,
            title=title,
            original_filename=filename,
            kind=kind,
            move=True,
        )
    executor.submit(result.job_id)
    return UploadOut(title_id=result.title_id, asset_id=result.asset_id, job_id=result.job_id)


@router.get(
    "/assets/{asset_id}", response_model=AssetOut, operation_id="getAsset", responses=responses(404)
)
def get_asset(asset_id: str, session: DbSession) -> AssetOut:
    return AssetOut.model_validate(service.get_asset(session=session, asset_id=asset_id))
