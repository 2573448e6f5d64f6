from __future__ import annotations

from fastapi import APIRouter, status

from reelstack.deps import DbSession, RuntimeDep
from reelstack.playback import service, urls
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
    row = service.start_playback(
        session=session, title_id=body.title_id, ttl_s=runtime.settings.playback_ttl_s
    )
    return PlaybackOut(
        session_id=row.id,
        title_id=row.title_id,
        hls=urls.hls_url(row.asset_id),
        dash=urls.dash_url(row.asset_id),
        poster=urls.poster_url(row.asset_id),
        expires_at=row.expires_at,
    )
