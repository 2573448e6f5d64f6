"""The one place errors become RFC 9457 problem+json responses."""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from reelstack.errors import AppError

log = structlog.get_logger(__name__)

PROBLEM = "application/problem+json"


class Problem(BaseModel):
    """RFC 9457 problem details; ``code`` is stable, ``detail`` is for people."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    code: str
    detail: str
    instance: str | None = None


_REASONS = {
    400: "Malformed request",
    401: "Missing or invalid credentials",
    403: "Not allowed (the code says why)",
    404: "Not found",
    409: "Conflict with the current state",
    410: "Gone",
    413: "Payload too large",
    416: "Range not satisfiable",
    422: "Validation failed",
    429: "Too many requests (see Retry-After)",
    503: "Not ready",
}


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the problem responses an operation can give."""
    return {
        status: {
            "description": _REASONS.get(status, "Problem"),
            "content": {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for status in (*statuses, 422)
    }


HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "payload_too_large",
    415: "unsupported_media_type",
    416: "range_not_satisfiable",
    429: "too_many_requests",
}


def problem(status: int, code: str, title: str, detail: str, **extra: Any) -> JSONResponse:
    body = {
        "type": f"https://reelstack.dev/problems/{code}",
        "title": title,
        "status": status,
        "code": code,
        "detail": detail,
        **extra,
    }
    return JSONResponse(body, status_code=status, media_type=PROBLEM)


def add_problem_schema(spec: dict[str, Any]) -> dict[str, Any]:
    """Register the Problem schema that ``responses()`` entries refer to."""
    schemas = spec.setdefault("components", {}).setdefault("schemas", {})
    schemas["Problem"] = Problem.model_json_schema()
    return spec


def install(app: FastAPI) -> None:
    """Handlers for expected errors; an unexpected one becomes a 500 in
    ``middleware.RequestContext``, where it can still carry the request id and CORS."""

    @app.exception_handler(AppError)
    async def _app_error(request: Request, exc: AppError) -> JSONResponse:
        return JSONResponse(
            exc.to_problem(instance=request.url.path),
            status_code=exc.status,
            media_type=PROBLEM,
            headers=exc.headers,
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
            for e in exc.errors()
        ]
        first = errors[0] if errors else {"loc": [], "msg": "invalid request"}
        where = ".".join(str(p) for p in first["loc"])
        return problem(
            422,
            "validation_failed",
            "Validation failed",
            f"{where}: {first['msg']}" if where else str(first["msg"]),
            errors=errors,
            instance=request.url.path,
        )

    @app.exception_handler(DataError)
    async def _data(request: Request, exc: DataError) -> JSONResponse:
        # A value the database cannot store or compare (a NUL byte in a PostgreSQL text
        # value, an out-of-range number): the request is at fault, not the server.
        log.info("request.data_error", path=request.url.path, error=str(exc.orig))
        return problem(
            400,
            "bad_request",
            "Bad request",
            "a value in the request cannot be stored or searched (e.g. a NUL character)",
            instance=request.url.path,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = HTTP_CODES.get(exc.status_code, "http_error")
        resp = problem(
            exc.status_code,
            code,
            code.replace("_", " ").capitalize(),
            str(exc.detail),
            instance=request.url.path,
        )
        if exc.headers:
            resp.headers.update(exc.headers)
        return resp
