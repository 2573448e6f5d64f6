"""Embedded delivery: the API process serves manifests and segments from any Storage.

In production an nginx edge sits in front (edge issue); this origin still answers with
the same headers so any cache in between behaves. Objects are streamed in ranged reads
(never loaded whole), or, with ``REELSTACK_DELIVERY_REDIRECT``, the client is sent to
the store's own time-limited URL when it has one (S3).
"""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse, StreamingResponse
from pydantic import BaseModel
from starlette.background import BackgroundTask

from reelstack.delivery.signing import COOKIE_NAME, Verdict, url_signer
from reelstack.deps import RuntimeDep
from reelstack.errors import BadRequest, Forbidden, Gone, NotFound, RangeNotSatisfiable
from reelstack.media.ffmpeg import POSTER_NAME
from reelstack.problems import responses
from reelstack.runtime import Runtime
from reelstack.storage import InvalidKey, ObjectNotFound, media_version_key
from reelstack.threads import iterate_io, run_io

router = APIRouter(tags=["delivery"])
# Mounted under the admin parent router (reelstack.api): /v1/admin/cdns.
cdn_admin_router = APIRouter(prefix="/cdns", tags=["delivery"])

CONTENT_TYPES = {
    ".m3u8": "application/vnd.apple.mpegurl",
    ".mpd": "application/dash+xml",
    ".m4s": "video/iso.segment",
    ".mp4": "video/mp4",
    ".jpg": "image/jpeg",
    ".vtt": "text/vtt",
}
# Every URL names one immutable published version, manifests included.
IMMUTABLE = "public, max-age=31536000, immutable"
_PATH = re.compile(r"^v([1-9][0-9]{0,8})/([A-Za-z0-9][A-Za-z0-9._-]{0,127})$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
# Files of a version served at plain URLs even while signing is on: catalog artwork.
PUBLIC_FILES = frozenset({POSTER_NAME})


class SignedUrlRequired(Forbidden):
    code = "signed_url_required"
    title = "A signed URL is required"


class InvalidUrlToken(Forbidden):
    code = "invalid_url_token"
    title = "Invalid media URL token"


class UrlTokenExpired(Gone):
    code = "url_token_expired"
    title = "Media URL expired"


class MediaRevoked(Gone):
    code = "media_revoked"
    title = "Media revoked"


class MediaCookieRequired(Forbidden):
    code = "media_cookie_required"
    title = "The signed media cookie is missing"


_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def _suffix(name: str) -> str:
    dot = name.rfind(".")
    return name[dot:].lower() if dot >= 0 else ""


@router.head("/media/{asset_id}/{path:path}", include_in_schema=False)
@router.get(
    "/media/{asset_id}/{path:path}",
    operation_id="getMediaFile",
    response_class=StreamingResponse,
    responses={
        200: {"description": "The file (manifest, segment or image)"},
        206: {"description": "Part of the file, for a Range request"},
        304: {"description": "Not modified (If-None-Match)"},
        307: {"description": "Redirect to the object store (when configured)"},
        **responses(400, 403, 404, 416),
    },
)
async def media_file(asset_id: str, path: str, request: Request, runtime: RuntimeDep) -> Response:
    """A published media version's file (``v{n}/name``) at a plain URL: its poster (public
    artwork) always, the rest only while URL signing is off (development). With Range,
    ETag, conditional GET and year-long immutable caching."""
    match = _PATH.match(path)
    if match is None:
        raise NotFound(f"no media file {path!r} for asset {asset_id}")
    name = match.group(2)
    if runtime.settings.url_signing != "off" and name not in PUBLIC_FILES:
        raise SignedUrlRequired(
            "media is served at signed URLs: start playback (POST /v1/playback) for them"
        )
    return await serve_media(runtime, request, asset_id, int(match.group(1)), name)


@router.head("/s/{token}/{asset_id}/v{version}/{name}", include_in_schema=False)
@router.get(
    "/s/{token}/{asset_id}/v{version}/{name}",
    operation_id="getSignedMediaFile",
    response_class=StreamingResponse,
    responses={
        200: {"description": "The file (manifest, segment or image)"},
        206: {"description": "Part of the file, for a Range request"},
        304: {"description": "Not modified (If-None-Match)"},
        307: {"description": "Redirect to the object store (when configured)"},
        **responses(400, 403, 404, 410, 416),
    },
)
async def signed_media_file(
    token: str, asset_id: str, version: int, name: str, request: Request, runtime: RuntimeDep
) -> Response:
    """A file of a published media version behind a signed token (``POST /v1/playback``
    hands these URLs out; relative URLs in its manifests inherit the token). A bad
    token is 403 ``invalid_url_token``, an expired one 410 ``url_token_expired``: the
    same answers an nginx edge gives for the same token."""
    _check_token(runtime, token, asset_id, version)
    check_revoked(request, asset_id)
    return await serve_media(runtime, request, asset_id, version, name)


@router.head("/m/{asset_id}/v{version}/{name}", include_in_schema=False)
@router.get(
    "/m/{asset_id}/v{version}/{name}",
    operation_id="getCookieMediaFile",
    response_class=StreamingResponse,
    responses={
        200: {"description": "The file (manifest, segment or image)"},
        206: {"description": "Part of the file, for a Range request"},
        304: {"description": "Not modified (If-None-Match)"},
        307: {"description": "Redirect to the object store (when configured)"},
        **responses(400, 403, 404, 410, 416),
    },
)
async def cookie_media_file(
    asset_id: str, version: int, name: str, request: Request, runtime: RuntimeDep
) -> Response:
    """A file of a published media version for a player holding the version's signed
    cookie (``POST /v1/playback`` with ``"signed": "cookie"`` sets it, scoped to this
    version's path). The same token and answers as ``/s/<token>/...``; no cookie is
    403 ``media_cookie_required``."""
    _check_token(runtime, cookie_token(request), asset_id, version)
    check_revoked(request, asset_id)
    return await serve_media(runtime, request, asset_id, version, name)


def cookie_token(request: Request) -> str:
    """The token of the signed media cookie; 403 ``media_cookie_required`` without it."""
    token = request.cookies.get(COOKIE_NAME)
    if not token:
        raise MediaCookieRequired(f"send the {COOKIE_NAME} cookie that POST /v1/playback set")
    return token


def check_revoked(request: Request, asset_id: str) -> None:
    """410 ``media_revoked`` for an asset revoked by the purge feed (the set the app
    keeps, ``assets.purges.RevokedAssets``), whatever the token: the edges' answer."""
    if asset_id in request.app.state.revoked_assets:
        raise MediaRevoked("this media is no longer available")


def _check_token(runtime: Runtime, token: str, asset_id: str, version: int) -> None:
    signer = url_signer(runtime.settings)
    if signer is None:
        raise NotFound("URL signing is off: media is at /media/...")
    verdict = signer.verify(token, asset_id=asset_id, version=version, now=time.time())
    if verdict is Verdict.EXPIRED:
        raise UrlTokenExpired("this media URL has expired: start playback again")
    if verdict is not Verdict.OK:
        raise InvalidUrlToken("this media URL's token is not valid for this file")


async def serve_media(
    runtime: Runtime, request: Request, asset_id: str, version: int, name: str
) -> Response:
    """Stream one file of a published version from storage (or redirect to the store)."""
    suffix = _suffix(name)
    if suffix not in CONTENT_TYPES or _NAME.match(name) is None or version < 1:
        raise NotFound(f"no media file {name!r} in version {version} of asset {asset_id}")
    storage = runtime.storage
    try:
        key = media_version_key(asset_id, version, name)
        obj = await run_io(storage.stat, key)
    except (InvalidKey, ObjectNotFound, ValueError) as exc:
        raise NotFound(f"no media file {name!r} in version {version} of asset {asset_id}") from exc
    headers = {
        "etag": f'"{obj.etag.strip(chr(34))}"',
        "cache-control": IMMUTABLE,
        "accept-ranges": "bytes",
    }
    inm = request.headers.get("if-none-match")
    if inm and headers["etag"] in {t.strip() for t in inm.split(",")}:
        return Response(status_code=304, headers=headers)
    if runtime.settings.delivery_redirect:
        url = await run_io(storage.url, key, runtime.settings.delivery_url_ttl_s)
        if url is not None:
            return RedirectResponse(url, status_code=307, headers={"cache-control": "no-store"})
    start, end, status = 0, obj.size, 200
    if_range = request.headers.get("if-range")
    if "range" in request.headers and (if_range is None or if_range == headers["etag"]):
        start, end = parse_range(request.headers["range"], obj.size)
        status = 206
        headers["content-range"] = f"bytes {start}-{end - 1}/{obj.size}"
    headers["content-length"] = str(end - start)
    media_type = CONTENT_TYPES[suffix]
    if request.method == "HEAD" or end == start:
        return Response(status_code=status, headers=headers, media_type=media_type)
    stream = await run_io(storage.open_range, key, start, end)

    async def body() -> AsyncIterator[bytes]:
        # A player that aborts a request (a seek, a quality switch) stops the iteration
        # half-way: the object must still be closed.
        try:
            async for chunk in iterate_io(stream):
                yield chunk
        finally:
            stream.close()

    return StreamingResponse(
        body(),
        status_code=status,
        headers=headers,
        media_type=media_type,
        # Also after a disconnect that leaves the body generator suspended (close is
        # idempotent).
        background=BackgroundTask(stream.close),
    )


def parse_range(header: str, size: int) -> tuple[int, int]:
    """One byte range (RFC 9110) as ``[start, end)``; 400 when malformed, 416 with
    ``Content-Range: bytes */size`` when it lies outside the object."""
    match = _RANGE.match(header.strip())
    if match is None or match.groups() == ("", ""):
        raise BadRequest(f"malformed Range header: {header!r} (one bytes range expected)")
    first, last = match.groups()
    if first == "":
        # A suffix range: the last n bytes.
        length = int(last)
        if length == 0:
            raise _unsatisfiable(size)
        return max(0, size - length), size
    start = int(first)
    stop = size if last == "" else min(int(last) + 1, size)
    if last != "" and int(last) < start:
        raise BadRequest(f"malformed Range header: {header!r} (last byte before first)")
    if start >= size:
        raise _unsatisfiable(size)
    return start, stop


def _unsatisfiable(size: int) -> RangeNotSatisfiable:
    return RangeNotSatisfiable(
        f"the range lies outside the file's {size} bytes",
        headers={"content-range": f"bytes */{size}"},
    )


class CdnHealthOut(BaseModel):
    name: str
    base_url: str
    weight: int
    healthy: bool
    # Failed health checks in a row (two drop the network until it answers again).
    failures: int
    last_error: str | None


@cdn_admin_router.get("", response_model=list[CdnHealthOut], operation_id="listCdns")
def list_cdns(request: Request) -> list[CdnHealthOut]:
    """The configured delivery networks and their health as this API process sees it."""
    return [
        CdnHealthOut(
            name=state.config.name,
            base_url=state.config.base,
            weight=state.config.weight,
            healthy=state.healthy,
            failures=state.failures,
            last_error=state.last_error,
        )
        for state in request.app.state.cdns.snapshot()
    ]
