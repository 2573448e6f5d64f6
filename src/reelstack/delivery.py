"""Embedded delivery: the API process serves manifests and segments.

In production an nginx edge sits in front (edge issue); this origin still answers with
the same headers so any cache in between behaves.
"""

from __future__ import annotations

import hashlib

from fastapi import APIRouter, Request, Response
from fastapi.responses import FileResponse
from starlette.responses import MalformedRangeHeader
from starlette.responses import RangeNotSatisfiable as StarletteRangeNotSatisfiable

from reelstack.deps import RuntimeDep
from reelstack.errors import BadRequest, NotFound, RangeNotSatisfiable
from reelstack.problems import responses
from reelstack.storage import media_key

router = APIRouter(tags=["delivery"])

CONTENT_TYPES = {
    ".m3u8": "application/vnd.apple.mpegurl",
    ".mpd": "application/dash+xml",
    ".m4s": "video/iso.segment",
    ".mp4": "video/mp4",
    ".jpg": "image/jpeg",
    ".vtt": "text/vtt",
}
MANIFEST_SUFFIXES = {".m3u8", ".mpd"}
IMMUTABLE = "public, max-age=31536000, immutable"


def _suffix(name: str) -> str:
    dot = name.rfind(".")
    return name[dot:].lower() if dot >= 0 else ""


@router.head("/media/{asset_id}/{path:path}", include_in_schema=False)
@router.get(
    "/media/{asset_id}/{path:path}",
    operation_id="getMediaFile",
    response_class=FileResponse,
    responses={
        200: {"description": "The file (manifest, segment or image)"},
        206: {"description": "Part of the file, for a Range request"},
        304: {"description": "Not modified (If-None-Match)"},
        **responses(400, 404, 416),
    },
)
def media_file(asset_id: str, path: str, request: Request, runtime: RuntimeDep) -> Response:
    """A manifest, segment or image of a packaged asset, with Range, ETag and caching."""
    suffix = _suffix(path)
    local = runtime.storage.direct_path(media_key(asset_id, path))
    if suffix not in CONTENT_TYPES or local is None:
        raise NotFound(f"no media file {path!r} for asset {asset_id}")
    st = local.stat()
    tag = hashlib.md5(f"{st.st_mtime}-{st.st_size}".encode(), usedforsecurity=False).hexdigest()
    etag = f'"{tag}"'
    if suffix in MANIFEST_SUFFIXES:
        cache = f"public, max-age={runtime.settings.manifest_max_age_s}"
    else:
        cache = IMMUTABLE
    headers = {"etag": etag, "cache-control": cache}
    inm = request.headers.get("if-none-match")
    if inm and etag in {t.strip() for t in inm.split(",")}:
        return Response(status_code=304, headers=headers)
    if "if-range" not in request.headers:
        _check_range(request.headers.get("range"), st.st_size)
    return FileResponse(local, media_type=CONTENT_TYPES[suffix], headers=headers, stat_result=st)


def _check_range(header: str | None, size: int) -> None:
    """Refuse a bad Range as problem+json (Starlette's FileResponse would answer plain text).

    Starlette's own parser decides, so what is accepted here is exactly what it serves.
    """
    if header is None:
        return
    try:
        FileResponse._parse_range_header(header, size)
    except MalformedRangeHeader as exc:
        raise BadRequest(f"malformed Range header: {exc.content}") from exc
    except StarletteRangeNotSatisfiable as exc:
        raise RangeNotSatisfiable(
            f"the range lies outside the file's {size} bytes",
            headers={"content-range": f"bytes */{exc.max_size}"},
        ) from exc
