"""The app factory: routers, the problem+json handler, middleware, the embedded worker."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text

from reelstack import __version__, delivery, problems
from reelstack.assets.router import router as assets_router
from reelstack.catalog.router import router as catalog_router
from reelstack.config import Settings, get_settings
from reelstack.deps import RuntimeDep
from reelstack.jobs.executor import Executor, LocalExecutor
from reelstack.jobs.router import router as jobs_router
from reelstack.logs import configure_logging
from reelstack.middleware import RequestContext
from reelstack.playback.router import router as playback_router
from reelstack.runtime import Runtime, build_runtime

WEB_DIR = Path(__file__).parent / "web"


def create_app(
    settings: Settings | None = None,
    *,
    runtime: Runtime | None = None,
    executor: Executor | None = None,
) -> FastAPI:
    """Build the ASGI app. With no executor given, the embedded worker runs in-process."""
    settings = settings or (runtime.settings if runtime else get_settings())
    configure_logging(level=settings.log_level, json=settings.log_json)
    runtime = runtime or build_runtime(settings)
    owned_executor: LocalExecutor | None = None
    if executor is None:
        owned_executor = LocalExecutor(runtime, concurrency=settings.worker_concurrency)
        executor = owned_executor

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if owned_executor is not None and settings.embedded_worker:
            owned_executor.start()
        try:
            yield
        finally:
            if owned_executor is not None:
                owned_executor.stop()

    app = FastAPI(
        title="Reelstack",
        version=__version__,
        summary="Open-source OTT backend: ingest, ABR transcoding, HLS + DASH delivery.",
        lifespan=lifespan,
        # Every operation can answer 422 problem+json (not FastAPI's default error shape).
        responses=problems.responses(),
    )
    build_openapi = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = problems.add_problem_schema(build_openapi())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    app.state.runtime = runtime
    app.state.executor = executor
    problems.install(app)
    app.add_middleware(RequestContext)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_methods=["GET", "HEAD", "POST", "OPTIONS"],
        allow_headers=["Range", "Content-Type", "Authorization", "If-None-Match"],
        expose_headers=["Content-Length", "Content-Range", "ETag", "Accept-Ranges"],
        max_age=600,
    )

    @app.get("/healthz", tags=["ops"], operation_id="healthz")
    def healthz() -> dict[str, str]:
        """The process is up."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["ops"], operation_id="readyz", responses=problems.responses(503))
    def readyz(rt: RuntimeDep) -> Any:
        """The database answers and media storage takes writes (a broker check joins when
        Celery does)."""
        try:
            with rt.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception as exc:
            return problems.problem(
                503, "not_ready", "Not ready", f"database unreachable: {type(exc).__name__}"
            )
        try:
            with rt.storage.staging_dir() as probe_dir:
                (probe_dir / "ready").write_bytes(b"")
        except OSError as exc:
            return problems.problem(
                503, "not_ready", "Not ready", f"media storage not writable: {exc.strerror}"
            )
        return JSONResponse({"status": "ready", "database": rt.engine.dialect.name})

    app.include_router(catalog_router)
    app.include_router(playback_router)
    app.include_router(assets_router)
    app.include_router(jobs_router)
    app.include_router(delivery.router)

    if (WEB_DIR / "index.html").is_file():
        app.mount("/app", StaticFiles(directory=WEB_DIR, html=True), name="web")

        @app.get("/", include_in_schema=False)
        def index() -> RedirectResponse:
            return RedirectResponse("/app/")

    return app
