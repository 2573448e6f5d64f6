"""Request ids, the last-resort 500, metrics and one structured access-log line per request.

``RequestContext`` sits inside the CORS middleware and outside everything else, so even
an unhandled error leaves as problem+json carrying ``X-Request-ID`` and the CORS headers
(Starlette's own ``ServerErrorMiddleware`` is outermost, beyond both).
"""

from __future__ import annotations

import random
import re
import time
import uuid

import structlog
from fastapi.routing import iter_route_contexts
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from reelstack import problems
from reelstack.metrics import UNMATCHED, AppMetrics

log = structlog.get_logger("reelstack.access")

# Accept a caller's id only when it is short and plain, so logs cannot be forged.
_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
# High-volume, low-information requests whose access lines may be sampled.
_SAMPLED_PATHS = frozenset({"/metrics", "/healthz", "/v1/admin/edge/purges"})
_SAMPLED_SUFFIXES = (".m4s",)


class RouteTemplates:
    """The matched route's full path template (``/media/{asset_id}/{path:path}``), never
    the raw path, so metric labels stay few.

    FastAPI puts the route as declared in ``scope["route"]``; for a route included under
    a prefix that path is relative (``/{job_id}``), so the full one is looked up among
    the app's effective routes (``fastapi.routing.iter_route_contexts``), rebuilt when a
    route appears that was not there before.
    """

    def __init__(self) -> None:
        self._paths: dict[int, str] = {}

    def __call__(self, scope: Scope) -> str:
        route = scope.get("route")
        if route is None:
            return UNMATCHED
        path = self._paths.get(id(route))
        if path is None:
            app = scope.get("app")
            routes = getattr(app, "routes", [])
            self._paths = {
                id(ctx.original_route): ctx.path
                for ctx in iter_route_contexts(routes)
                if isinstance(ctx.path, str)
            }
            own = getattr(route, "path", None)
            path = self._paths.setdefault(id(route), own if isinstance(own, str) else UNMATCHED)
        return path


def _sampled(path: str) -> bool:
    return path in _SAMPLED_PATHS or path.endswith(_SAMPLED_SUFFIXES)


class RequestContext:
    """Tags each request with ``X-Request-ID`` (the caller's, or a new one), turns an
    unhandled error into a 500 problem+json, counts the request and logs it."""

    def __init__(
        self, app: ASGIApp, *, metrics: AppMetrics | None = None, sample_rate: float = 1.0
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.sample_rate = sample_rate
        self.route_template = RouteTemplates()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if _SAFE_ID.match(incoming) else uuid.uuid4().hex
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status = message["status"]
                response_started = True
                MutableHeaders(scope=message)["x-request-id"] = request_id
            await send(message)

        with structlog.contextvars.bound_contextvars(request_id=request_id):
            try:
                await self.app(scope, receive, send_with_id)
            except Exception as exc:
                log.error(
                    "request.unhandled",
                    method=scope["method"],
                    path=scope["path"],
                    request_id=request_id,
                    exc_info=exc,
                )
                if response_started:
                    # Too late for a clean answer: let the server drop the connection.
                    raise
                response = problems.problem(
                    500,
                    "internal_error",
                    "Internal error",
                    "an unexpected error occurred",
                    instance=scope["path"],
                )
                await response(scope, receive, send_with_id)
            finally:
                self._record(scope, status, time.perf_counter() - started, request_id)

    def _record(self, scope: Scope, status: int, duration_s: float, request_id: str) -> None:
        path = scope["path"]
        if self.metrics is not None:
            self.metrics.observe_request(
                method=scope["method"],
                route=self.route_template(scope),
                status=status,
                duration_s=duration_s,
            )
        if (
            self.sample_rate < 1.0
            and status < 400
            and _sampled(path)
            and random.random() >= self.sample_rate
        ):
            return
        log.info(
            "request",
            method=scope["method"],
            path=path,
            status=status,
            duration_ms=round(duration_s * 1000, 1),
            request_id=request_id,
        )
