from __future__ import annotations

from fastapi import APIRouter, status

from reelstack.deps import DbSession, RuntimeDep
from reelstack.playback import service
from reelstack.playback.schemas import PlaybackOut, PlaybackRequest
from reelstack.problems import responses

# Mounted under the viewer parent router (reelstack.api): /v1/playback.
router = APIRouter(prefix="/playback", tags=["playback"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=PlaybackOut,
    operation_id="startPlayback",
    responses=responses(404, 409),
)
def start_playback(body: PlaybackRequest, session: DbSession, runtime: RuntimeDep) -> PlaybackOut:
    return service.start_playback(
        session=session, title_id=body.title_id, ttl_s=runtime.settings.playback_ttl_s
    )
