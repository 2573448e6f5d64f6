from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from reelstack.assets.models import Asset, AssetStatus
from reelstack.catalog import service
from reelstack.catalog.models import Title
from reelstack.catalog.schemas import TitleOut, TitlePage
from reelstack.deps import DbSession
from reelstack.playback.urls import poster_url
from reelstack.problems import responses

# Mounted under the viewer parent router (reelstack.api): /v1/titles.
router = APIRouter(prefix="/titles", tags=["catalog"])


def _out(title: Title, asset: Asset | None) -> TitleOut:
    out = TitleOut(
        id=title.id,
        kind=title.kind,
        title=title.title,
        description=title.description,
        status="no_media",
        duration_s=None,
        audio_languages=[],
        poster_url=None,
        created_at=title.created_at,
    )
    if asset is not None:
        out.status = asset.status.value
        out.duration_s = asset.duration_s
        if asset.status is AssetStatus.READY:
            out.poster_url = poster_url(asset.id)
            out.audio_languages = [str(t["language"]) for t in asset.audio_tracks]
    return out


@router.get("", response_model=TitlePage, operation_id="listTitles", responses=responses(400))
def list_titles(
    session: DbSession,
    cursor: str | None = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> TitlePage:
    rows, next_cursor = service.list_titles(session=session, limit=limit, cursor=cursor, q=q)
    return TitlePage(items=[_out(t, a) for t, a in rows], next_cursor=next_cursor)


@router.get(
    "/{title_id}", response_model=TitleOut, operation_id="getTitle", responses=responses(404)
)
def get_title(title_id: str, session: DbSession) -> TitleOut:
    title, asset = service.get_title(session=session, title_id=title_id)
    return _out(title, asset)
