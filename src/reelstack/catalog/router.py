from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from reelstack.catalog import service
from reelstack.catalog.schemas import TitleOut, TitlePage
from reelstack.deps import DbSession
from reelstack.problems import responses
from reelstack.security import OPTIONAL_AUTH, ViewerCeiling

# Mounted under the viewer parent router (reelstack.api): /v1/titles.
router = APIRouter(prefix="/titles", tags=["catalog"])


@router.get(
    "",
    response_model=TitlePage,
    operation_id="listTitles",
    responses=responses(400, 401),
    openapi_extra=OPTIONAL_AUTH,
)
def list_titles(
    session: DbSession,
    ceiling: ViewerCeiling,
    cursor: str | None = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> TitlePage:
    items, next_cursor = service.list_titles(
        session=session, limit=limit, cursor=cursor, q=q, max_maturity=ceiling
    )
    return TitlePage(items=items, next_cursor=next_cursor)


@router.get(
    "/{title_id}",
    response_model=TitleOut,
    operation_id="getTitle",
    responses=responses(401, 404),
    openapi_extra=OPTIONAL_AUTH,
)
def get_title(title_id: str, session: DbSession, ceiling: ViewerCeiling) -> TitleOut:
    """A title; a kids profile's ceiling hides the titles above it (404)."""
    return service.get_title(session=session, title_id=title_id, max_maturity=ceiling)
