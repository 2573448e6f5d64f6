from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, status

from reelstack.deps import ExecutorDep, RuntimeDep
from reelstack.errors import BadRequest
from reelstack.ingest import uploads
from reelstack.ingest.schemas import TitleKind, UploadOut
from reelstack.problems import responses
from reelstack.security import AdminActor

# Mounted under the admin parent router (reelstack.api): /v1/admin/uploads.
router = APIRouter(tags=["ingest"])


def _content_length(request: Request) -> int | None:
    declared = request.headers.get("content-length")
    if declared is None:
        return None
    if not declared.isdigit():
        raise BadRequest("Content-Length is not a number")
    return int(declared)


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
    actor: AdminActor,
    title: Annotated[str, Query(min_length=1, max_length=500)],
    filename: Annotated[str | None, Query(max_length=255)] = None,
    kind: TitleKind = TitleKind.MOVIE,
) -> UploadOut:
    """Upload a video as the raw request body; it is streamed to disk, never held in memory.

    The file is probed before anything is recorded: a file that is not a decodable video
    gets 422 ``invalid_media`` and leaves no rows and no files.
    """
    result = await uploads.receive_upload(
        runtime=runtime,
        stream=request.stream(),
        declared_bytes=_content_length(request),
        title=title,
        filename=filename,
        kind=kind,
        created_by=actor.principal.user_id if actor.principal else None,
    )
    # ingest_file has committed the rows by now, so the job is there for the worker.
    executor.submit(result.job_id)
    return UploadOut(title_id=result.title_id, asset_id=result.asset_id, job_id=result.job_id)
