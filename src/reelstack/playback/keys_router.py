"""Key and licence routes under a session's signed media prefix (``playback.keys``).

Mounted at the root (reelstack.api's public router): the paths extend the signed media
prefix ``/s/<token>/<asset>/v<n>/`` the player got from ``POST /v1/playback``, so the
manifests' relative key URIs inherit the token.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi import APIRouter, Request, Response
from sqlalchemy import Connection
from starlette.concurrency import run_in_threadpool

from reelstack.delivery.router import check_revoked, cookie_token
from reelstack.deps import RuntimeDep
from reelstack.errors import PayloadTooLarge
from reelstack.playback import keys
from reelstack.playback.drm import ClearKeyLicence, ClearKeyRequest, Licence, UnknownKeyId
from reelstack.problems import responses
from reelstack.runtime import Runtime

router = APIRouter(tags=["playback"])

_KID = re.compile(r"^[0-9a-f]{32}$")
# A licence request is a small EME message.
MAX_LICENCE_REQUEST = 64 * 1024
# The OpenAPI description of both forms (path token, signed cookie) of each route.
_KEY_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The 16-byte AES-128 key (Cache-Control: no-store)",
        "content": {keys.KEY_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}}},
    },
    **responses(403, 404, 410),
}
_LICENCE_REQUEST: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "The CDM's licence request (ClearKey: JSON)",
        "content": {
            "application/json": {"schema": ClearKeyRequest.model_json_schema()},
            "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
        },
    }
}
_LICENCE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The licence (ClearKey: a JSON Web Key Set; no-store)",
        "content": {"application/json": {"schema": ClearKeyLicence.model_json_schema()}},
    },
    **responses(400, 403, 404, 410, 413),
}


@router.get(
    "/s/{token}/{asset_id}/v{version}/keys/{kid}.key",
    operation_id="getMediaKey",
    response_class=Response,
    responses=_KEY_RESPONSES,
)
def get_media_key(
    token: str, asset_id: str, version: int, kid: str, request: Request, runtime: RuntimeDep
) -> Response:
    """An HLS AES-128 key of the version, for a live playback session only: the token
    must name a session of this version that has not ended (403 ``invalid_url_token``,
    410 ``url_token_expired`` or ``session_ended``, 404 ``key_not_found``; 410
    ``media_revoked`` once the asset is revoked)."""
    return _media_key(token, asset_id, version, kid, request, runtime)


@router.get(
    "/m/{asset_id}/v{version}/keys/{kid}.key",
    operation_id="getCookieMediaKey",
    response_class=Response,
    responses=_KEY_RESPONSES,
)
def get_cookie_media_key(
    asset_id: str, version: int, kid: str, request: Request, runtime: RuntimeDep
) -> Response:
    """The same key for a session started with a signed cookie (the cookie's token;
    403 ``media_cookie_required`` without it)."""
    return _media_key(cookie_token(request), asset_id, version, kid, request, runtime)


def _media_key(
    token: str, asset_id: str, version: int, kid: str, request: Request, runtime: Runtime
) -> Response:
    check_revoked(request, asset_id)
    if _KID.fullmatch(kid) is None:
        raise UnknownKeyId(f"no key {kid!r}")
    access = keys.KeyAccess.from_settings(runtime.settings)
    with _reading(runtime) as connection:
        key = keys.media_key(
            connection, access, token=token, asset_id=asset_id, version=version, kid=kid
        )
    return Response(key, media_type=keys.KEY_MEDIA_TYPE, headers=keys.NO_STORE)


@router.post(
    "/s/{token}/{asset_id}/v{version}/drm/{system}",
    operation_id="getDrmLicence",
    response_class=Response,
    openapi_extra=_LICENCE_REQUEST,
    responses=_LICENCE_RESPONSES,
)
async def drm_licence(
    token: str, asset_id: str, version: int, system: str, request: Request, runtime: RuntimeDep
) -> Response:
    """A licence for the version's content keys (``system``: ``clearkey``, the W3C
    ClearKey format), for a live playback session only: the same checks as the keys."""
    return await _drm_licence(token, asset_id, version, system, request, runtime)


@router.post(
    "/m/{asset_id}/v{version}/drm/{system}",
    operation_id="getCookieDrmLicence",
    response_class=Response,
    openapi_extra=_LICENCE_REQUEST,
    responses=_LICENCE_RESPONSES,
)
async def cookie_drm_licence(
    asset_id: str, version: int, system: str, request: Request, runtime: RuntimeDep
) -> Response:
    """The same licence for a session started with a signed cookie."""
    return await _drm_licence(cookie_token(request), asset_id, version, system, request, runtime)


async def _drm_licence(
    token: str, asset_id: str, version: int, system: str, request: Request, runtime: Runtime
) -> Response:
    check_revoked(request, asset_id)
    body = await request.body()
    if len(body) > MAX_LICENCE_REQUEST:
        raise PayloadTooLarge(f"a licence request is at most {MAX_LICENCE_REQUEST} bytes")
    answer = await run_in_threadpool(_licence, runtime, token, asset_id, version, system, body)
    return Response(answer.body, media_type=answer.media_type, headers=keys.NO_STORE)


@contextmanager
def _reading(runtime: Runtime) -> Iterator[Connection]:
    """A pooled connection in autocommit: these routes only read, and without a
    transaction PostgreSQL needs no BEGIN and no ROLLBACK round trip around the reads."""
    with runtime.engine.connect() as connection:
        yield connection.execution_options(isolation_level="AUTOCOMMIT")


def _licence(
    runtime: Runtime, token: str, asset_id: str, version: int, system: str, body: bytes
) -> Licence:
    access = keys.KeyAccess.from_settings(runtime.settings)
    with _reading(runtime) as connection:
        return keys.licence(
            connection,
            access,
            token=token,
            asset_id=asset_id,
            version=version,
            system=system,
            request=body,
        )
