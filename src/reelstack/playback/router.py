from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials

from reelstack.accounts.identity import Identity
from reelstack.db import session_scope, utcnow
from reelstack.deps import DbSession, RuntimeDep
from reelstack.playback import service
from reelstack.playback.schemas import (
    HeartbeatOut,
    PlaybackOut,
    PlaybackRequest,
    PlaybackSessionOut,
)
from reelstack.problems import responses
from reelstack.runtime import Runtime
from reelstack.security import (
    OPTIONAL_AUTH,
    BearerCredentials,
    CurrentPrincipal,
    IdentityDep,
    principal_from,
)

# Mounted under the viewer parent router (reelstack.api): /v1/playback.
router = APIRouter(prefix="/playback", tags=["playback"])


def _config(
    runtime: Runtime,
    request: Request | None = None,
    cdn: str | None = None,
    *,
    signed_cookie: bool = False,
) -> service.PlaybackConfig:
    """The playback rules; with the request, also where its media URLs point and how
    they are signed: a healthy CDN of REELSTACK_CDNS by weight (``cdn``: that one) with
    the others as alternates, else REELSTACK_DELIVERY_BASE_URL, else the origin the
    request came to."""
    settings = runtime.settings
    if request is None:
        return service.PlaybackConfig.from_settings(settings)
    client = request.client.host if request.client else None
    country = request.app.state.geo.country(request.headers, client)
    origin = (settings.delivery_base_url or str(request.base_url)).rstrip("/")
    pick = request.app.state.cdns.pick()
    if cdn is not None:
        named = [c for c in (pick.primary, *pick.alternates) if c is not None and c[0] == cdn]
        if named:
            return service.PlaybackConfig.from_settings(
                settings,
                media_base=named[0][1],
                cdn=cdn,
                country=country,
                signed_cookie=signed_cookie,
            )
    if pick.primary is None:
        return service.PlaybackConfig.from_settings(
            settings, media_base=origin, country=country, signed_cookie=signed_cookie
        )
    return service.PlaybackConfig.from_settings(
        settings,
        media_base=pick.primary[1],
        cdn=pick.primary[0],
        alternates=tuple(pick.alternates),
        country=country,
        signed_cookie=signed_cookie,
    )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=PlaybackOut,
    operation_id="startPlayback",
    responses=responses(401, 403, 404, 409, 451),
    # Anonymous calls are answered (403 not_signed_in), so the token is optional here.
    openapi_extra=OPTIONAL_AUTH,
)
async def start_playback(
    body: PlaybackRequest,
    request: Request,
    response: Response,
    runtime: RuntimeDep,
    identity: IdentityDep,
    credentials: BearerCredentials,
) -> PlaybackOut:
    """Check entitlement, take a stream lease, and return the stream URLs.

    Refusals are 403 with a reason ``code``: ``not_signed_in``, ``account_suspended``,
    ``profile_required``, ``maturity``, ``not_entitled``, ``rental_expired``,
    ``device_limit``, ``stream_limit``; and 451 ``region_blocked`` from a blocked country.
    """
    # The hottest viewer route runs in ONE worker-thread hop (token check, entitlement,
    # lease, commit) instead of one per dependency: the hops cost more than the queries.
    config = _config(runtime, request, signed_cookie=body.signed == "cookie")
    out = await run_in_threadpool(
        _start_playback, runtime, identity, credentials, body.title_id, config
    )
    if out.cookie is not None:
        response.set_cookie(
            out.cookie.name,
            out.cookie.value,
            max_age=max(0, int((out.cookie.expires_at - utcnow()).total_seconds())),
            path=out.cookie.path,
            domain=out.cookie.domain,
            secure=out.cookie.secure,
            httponly=True,
            # Sent with the player's requests to the media host on the same site (an
            # edge or CDN on a sibling domain), never with another site's requests.
            samesite="lax",
        )
    return out


def _start_playback(
    runtime: Runtime,
    identity: Identity,
    credentials: HTTPAuthorizationCredentials | None,
    title_id: str,
    config: service.PlaybackConfig,
) -> PlaybackOut:
    with session_scope(runtime.sessions) as session:
        return service.start_playback(
            session=session,
            principal=principal_from(session, identity, credentials),
            title_id=title_id,
            config=config,
        )


@router.get(
    "/sessions",
    response_model=list[PlaybackSessionOut],
    operation_id="listPlaybackSessions",
    responses=responses(401),
)
def list_sessions(session: DbSession, principal: CurrentPrincipal) -> list[PlaybackSessionOut]:
    """The household's streams that hold a lease now."""
    return service.list_live(session=session, principal=principal)


@router.post(
    "/{session_id}/heartbeat",
    response_model=HeartbeatOut,
    operation_id="playbackHeartbeat",
    responses=responses(401, 404, 410),
)
def heartbeat(
    session_id: str,
    request: Request,
    session: DbSession,
    runtime: RuntimeDep,
    principal: CurrentPrincipal,
) -> HeartbeatOut:
    # The title's availability is checked again, in the viewer's country now.
    client = request.client.host if request.client else None
    country = request.app.state.geo.country(request.headers, client)
    config = replace(_config(runtime), country=country)
    return service.heartbeat(
        session=session, principal=principal, session_id=session_id, config=config
    )


@router.delete(
    "/{session_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    operation_id="stopPlayback",
    responses=responses(401, 404),
)
def stop(session_id: str, session: DbSession, principal: CurrentPrincipal) -> Response:
    """End a stream (this device's or another's) and free its slot."""
    service.stop(session=session, principal=principal, session_id=session_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/{session_id}/{name}",
    operation_id="getSessionManifest",
    responses=responses(404, 410),
    response_class=Response,
)
def session_manifest(
    session_id: str,
    name: str,
    request: Request,
    session: DbSession,
    runtime: RuntimeDep,
    cdn: Annotated[str | None, Query(max_length=64)] = None,
    signed: Annotated[Literal["url", "cookie"], Query()] = "url",
) -> Response:
    """The session's master playlist or MPD, limited to its plan's resolution; its
    media URLs go through ``cdn`` when that network is healthy (``signed=cookie``: the
    plain /m/ URLs of a session started with a signed cookie)."""
    text, media_type = service.session_manifest(
        session=session,
        storage=runtime.storage,
        session_id=session_id,
        name=name,
        config=_config(runtime, request, cdn, signed_cookie=signed == "cookie"),
    )
    return Response(text, media_type=media_type, headers={"Cache-Control": "private, no-store"})
