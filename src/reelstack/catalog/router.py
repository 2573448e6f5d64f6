from __future__ import annotations

import hashlib
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response
from pydantic import BaseModel

from reelstack.catalog import browse
from reelstack.catalog.localization import LANGUAGE_PATTERN, preferences
from reelstack.catalog.schemas import TitleDetail, TitleKind, TitlePage
from reelstack.deps import DbSession
from reelstack.problems import responses
from reelstack.security import OPTIONAL_AUTH, ViewerCeiling

# Mounted under the viewer parent router (reelstack.api): /v1/titles.
router = APIRouter(prefix="/titles", tags=["catalog"])

_NOT_MODIFIED: dict[int | str, dict[str, Any]] = {
    304: {"description": "Not modified (the ETag sent in If-None-Match still matches)"}
}
Lang = Annotated[str | None, Query(max_length=35, pattern=LANGUAGE_PATTERN)]
AcceptLanguage = Annotated[str | None, Header(max_length=500, include_in_schema=False)]


def _country(request: Request) -> str | None:
    """The viewer's country, from the resolver playback uses (trusted header, GeoIP)."""
    client = request.client.host if request.client else None
    country: str | None = request.app.state.geo.country(request.headers, client)
    return country


def _with_etag(request: Request, model: BaseModel) -> Response:
    """The JSON body with a strong ETag of its bytes; 304 when If-None-Match has it.
    The answer depends on the language, the profile (its ceiling) and the country, so
    the cache keys on them too."""
    body = model.model_dump_json().encode()
    etag = f'"{hashlib.sha256(body).hexdigest()[:32]}"'
    vary = ["Accept-Language", "Authorization"]
    header = request.app.state.geo.header
    if header:
        vary.append(header)
    headers = {"ETag": etag, "Vary": ", ".join(vary), "Cache-Control": "private, no-cache"}
    sent = request.headers.get("if-none-match")
    if sent is not None:
        tags = {t.strip().removeprefix("W/") for t in sent.split(",")}
        if etag in tags or "*" in tags:
            return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/json", headers=headers)


@router.get(
    "",
    response_model=TitlePage,
    operation_id="listTitles",
    responses={**responses(400, 401), **_NOT_MODIFIED},
    openapi_extra=OPTIONAL_AUTH,
)
def list_titles(
    request: Request,
    session: DbSession,
    ceiling: ViewerCeiling,
    cursor: Annotated[str | None, Query(max_length=1000)] = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    kind: TitleKind | None = None,
    genre: Annotated[str | None, Query(max_length=100)] = None,
    year: Annotated[int | None, Query(ge=1870, le=2200)] = None,
    lang: Lang = None,
    accept_language: AcceptLanguage = None,
) -> Response:
    """Published titles available in the viewer's country now, newest first (episodes
    only with ``kind=episode``); a kids profile's ceiling hides the titles above it.
    Text in ``lang`` (else ``Accept-Language``), falling back to each title's default."""
    page = browse.list_titles(
        session=session,
        limit=limit,
        cursor=cursor,
        q=q,
        max_maturity=ceiling,
        kind=kind,
        genre=genre,
        year=year,
        country=_country(request),
        wanted=preferences(lang, accept_language),
    )
    return _with_etag(request, page)


@router.get(
    "/{title_id}",
    response_model=TitleDetail,
    operation_id="getTitle",
    responses={**responses(401, 404), **_NOT_MODIFIED},
    openapi_extra=OPTIONAL_AUTH,
)
def get_title(
    title_id: str,
    request: Request,
    session: DbSession,
    ceiling: ViewerCeiling,
    lang: Lang = None,
    accept_language: AcceptLanguage = None,
) -> Response:
    """A title with its genres and credits; a series with its seasons and their
    episodes, in order. Titles a viewer may not see (a draft, a withdrawn one, outside
    its windows, above a kids profile's ceiling) are 404."""
    detail = browse.get_title(
        session=session,
        title_id=title_id,
        max_maturity=ceiling,
        country=_country(request),
        wanted=preferences(lang, accept_language),
    )
    return _with_etag(request, detail)
