"""The CMS's other routes under /v1/admin/catalog: seasons and episodes, genres, people,
credits, availability windows and asset links (same guard as ``admin_router``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from reelstack.catalog import availability, links, metadata, people, series
from reelstack.catalog.admin_router import Editor
from reelstack.catalog.admin_schemas import (
    AssetLinkIn,
    AssetLinkOut,
    CreditAdminOut,
    CreditIn,
    CreditUpdate,
    EpisodeCreate,
    GenreAdminOut,
    GenreIn,
    GenreUpdate,
    PersonIn,
    PersonOut,
    PersonPage,
    PersonUpdate,
    SeasonAdminOut,
    SeasonIn,
    SeasonUpdate,
    TitleAdminOut,
    WindowIn,
    WindowOut,
    WindowUpdate,
)
from reelstack.deps import DbSession, RuntimeDep
from reelstack.problems import responses

router = APIRouter(prefix="/catalog", tags=["admin: catalog"], responses=responses(404))

_NO_CONTENT = status.HTTP_204_NO_CONTENT
_CREATED = status.HTTP_201_CREATED


# --- seasons and episodes ------------------------------------------------------------------


@router.post(
    "/titles/{series_id}/seasons",
    status_code=_CREATED,
    response_model=SeasonAdminOut,
    operation_id="adminCatalogCreateSeason",
    responses=responses(409),
)
def create_season(series_id: str, body: SeasonIn, session: DbSession, by: Editor) -> SeasonAdminOut:
    """A season of a series (409 naming ``number`` when the series has it)."""
    return series.create_season(session=session, series_id=series_id, body=body, by=by)


@router.get(
    "/titles/{series_id}/seasons",
    response_model=list[SeasonAdminOut],
    operation_id="adminCatalogListSeasons",
)
def list_seasons(series_id: str, session: DbSession) -> list[SeasonAdminOut]:
    return series.seasons(session=session, series_id=series_id)


@router.get(
    "/seasons/{season_id}", response_model=SeasonAdminOut, operation_id="adminCatalogGetSeason"
)
def get_season(season_id: str, session: DbSession) -> SeasonAdminOut:
    return series.get_season(session=session, season_id=season_id)


@router.patch(
    "/seasons/{season_id}",
    response_model=SeasonAdminOut,
    operation_id="adminCatalogUpdateSeason",
    responses=responses(409),
)
def update_season(
    season_id: str, body: SeasonUpdate, session: DbSession, by: Editor
) -> SeasonAdminOut:
    return series.update_season(session=session, season_id=season_id, body=body, by=by)


@router.delete(
    "/seasons/{season_id}",
    status_code=_NO_CONTENT,
    operation_id="adminCatalogDeleteSeason",
    responses=responses(409),
)
def delete_season(season_id: str, session: DbSession, by: Editor) -> Response:
    """Delete a season and its episodes (409 while one of them is published)."""
    series.delete_season(session=session, season_id=season_id, by=by)
    return Response(status_code=_NO_CONTENT)


@router.post(
    "/seasons/{season_id}/episodes",
    status_code=_CREATED,
    response_model=TitleAdminOut,
    operation_id="adminCatalogCreateEpisode",
    responses=responses(409),
)
def create_episode(
    season_id: str, body: EpisodeCreate, session: DbSession, runtime: RuntimeDep, by: Editor
) -> TitleAdminOut:
    """A draft episode of the season (numbered next when ``episode_number`` is left out;
    409 naming it when taken). Episodes are titles: read, change and delete them at
    /titles/{id}."""
    return metadata.create_title(
        session=session,
        body=body,
        by=by,
        default_language=runtime.settings.catalog_default_language,
        season_id=season_id,
    )


# --- genres --------------------------------------------------------------------------------


@router.get("/genres", response_model=list[GenreAdminOut], operation_id="adminCatalogListGenres")
def list_genres(session: DbSession) -> list[GenreAdminOut]:
    return people.genres(session=session)


@router.post(
    "/genres",
    status_code=_CREATED,
    response_model=GenreAdminOut,
    operation_id="adminCatalogCreateGenre",
    responses=responses(409),
)
def create_genre(body: GenreIn, session: DbSession, by: Editor) -> GenreAdminOut:
    return people.create_genre(session=session, body=body, by=by)


@router.patch(
    "/genres/{genre_id}",
    response_model=GenreAdminOut,
    operation_id="adminCatalogUpdateGenre",
    responses=responses(409),
)
def update_genre(genre_id: str, body: GenreUpdate, session: DbSession, by: Editor) -> GenreAdminOut:
    return people.update_genre(session=session, genre_id=genre_id, body=body, by=by)


@router.delete(
    "/genres/{genre_id}", status_code=_NO_CONTENT, operation_id="adminCatalogDeleteGenre"
)
def delete_genre(genre_id: str, session: DbSession, by: Editor) -> Response:
    people.delete_genre(session=session, genre_id=genre_id, by=by)
    return Response(status_code=_NO_CONTENT)


# --- people and credits --------------------------------------------------------------------


@router.get("/people", response_model=PersonPage, operation_id="adminCatalogListPeople")
def list_people(
    session: DbSession,
    q: Annotated[str | None, Query(max_length=200)] = None,
    cursor: Annotated[str | None, Query(max_length=400)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> PersonPage:
    return people.people(session=session, q=q, cursor=cursor, limit=limit)


@router.post(
    "/people",
    status_code=_CREATED,
    response_model=PersonOut,
    operation_id="adminCatalogCreatePerson",
)
def create_person(body: PersonIn, session: DbSession, by: Editor) -> PersonOut:
    return people.create_person(session=session, body=body, by=by)


@router.get("/people/{person_id}", response_model=PersonOut, operation_id="adminCatalogGetPerson")
def get_person(person_id: str, session: DbSession) -> PersonOut:
    return people.get_person(session=session, person_id=person_id)


@router.patch(
    "/people/{person_id}", response_model=PersonOut, operation_id="adminCatalogUpdatePerson"
)
def update_person(person_id: str, body: PersonUpdate, session: DbSession, by: Editor) -> PersonOut:
    return people.update_person(session=session, person_id=person_id, body=body, by=by)


@router.delete(
    "/people/{person_id}", status_code=_NO_CONTENT, operation_id="adminCatalogDeletePerson"
)
def delete_person(person_id: str, session: DbSession, by: Editor) -> Response:
    """Delete a person and their credits."""
    people.delete_person(session=session, person_id=person_id, by=by)
    return Response(status_code=_NO_CONTENT)


@router.get(
    "/titles/{title_id}/credits",
    response_model=list[CreditAdminOut],
    operation_id="adminCatalogListCredits",
)
def list_credits(title_id: str, session: DbSession) -> list[CreditAdminOut]:
    return people.credits(session=session, title_id=title_id)


@router.post(
    "/titles/{title_id}/credits",
    status_code=_CREATED,
    response_model=CreditAdminOut,
    operation_id="adminCatalogCreateCredit",
)
def create_credit(title_id: str, body: CreditIn, session: DbSession, by: Editor) -> CreditAdminOut:
    return people.add_credit(session=session, title_id=title_id, body=body, by=by)


@router.patch(
    "/credits/{credit_id}", response_model=CreditAdminOut, operation_id="adminCatalogUpdateCredit"
)
def update_credit(
    credit_id: str, body: CreditUpdate, session: DbSession, by: Editor
) -> CreditAdminOut:
    return people.update_credit(session=session, credit_id=credit_id, body=body, by=by)


@router.delete(
    "/credits/{credit_id}", status_code=_NO_CONTENT, operation_id="adminCatalogDeleteCredit"
)
def delete_credit(credit_id: str, session: DbSession, by: Editor) -> Response:
    people.delete_credit(session=session, credit_id=credit_id, by=by)
    return Response(status_code=_NO_CONTENT)


# --- availability windows ------------------------------------------------------------------


@router.get(
    "/titles/{title_id}/windows",
    response_model=list[WindowOut],
    operation_id="adminCatalogListWindows",
)
def list_windows(title_id: str, session: DbSession) -> list[WindowOut]:
    return availability.windows(session=session, title_id=title_id)


@router.post(
    "/titles/{title_id}/windows",
    status_code=_CREATED,
    response_model=WindowOut,
    operation_id="adminCatalogCreateWindow",
)
def create_window(title_id: str, body: WindowIn, session: DbSession, by: Editor) -> WindowOut:
    """When and where the title can be seen (422 naming ``ends_at`` when it ends before
    it starts, ``country`` for a code that is not ISO 3166 alpha-2). A title without
    windows is available everywhere, always."""
    return availability.add_window(session=session, title_id=title_id, body=body, by=by)


@router.get("/windows/{window_id}", response_model=WindowOut, operation_id="adminCatalogGetWindow")
def get_window(window_id: str, session: DbSession) -> WindowOut:
    return availability.get_window(session=session, window_id=window_id)


@router.patch(
    "/windows/{window_id}", response_model=WindowOut, operation_id="adminCatalogUpdateWindow"
)
def update_window(window_id: str, body: WindowUpdate, session: DbSession, by: Editor) -> WindowOut:
    return availability.update_window(session=session, window_id=window_id, body=body, by=by)


@router.delete(
    "/windows/{window_id}", status_code=_NO_CONTENT, operation_id="adminCatalogDeleteWindow"
)
def delete_window(window_id: str, session: DbSession, by: Editor) -> Response:
    availability.delete_window(session=session, window_id=window_id, by=by)
    return Response(status_code=_NO_CONTENT)


# --- asset links ---------------------------------------------------------------------------


@router.get(
    "/titles/{title_id}/assets",
    response_model=list[AssetLinkOut],
    operation_id="adminCatalogListAssetLinks",
)
def list_links(title_id: str, session: DbSession) -> list[AssetLinkOut]:
    return links.links(session=session, title_id=title_id)


@router.post(
    "/titles/{title_id}/assets",
    status_code=_CREATED,
    response_model=list[AssetLinkOut],
    operation_id="adminCatalogLinkAsset",
)
def link_asset(
    title_id: str, body: AssetLinkIn, session: DbSession, by: Editor
) -> list[AssetLinkOut]:
    """Link an asset in a role: main (what plays; replaces the old one), trailer, extra."""
    return links.link(session=session, title_id=title_id, body=body, by=by)


@router.delete(
    "/titles/{title_id}/assets/{asset_id}",
    status_code=_NO_CONTENT,
    operation_id="adminCatalogUnlinkAsset",
)
def unlink_asset(title_id: str, asset_id: str, session: DbSession, by: Editor) -> Response:
    links.unlink(session=session, title_id=title_id, asset_id=asset_id, by=by)
    return Response(status_code=_NO_CONTENT)
