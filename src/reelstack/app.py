"""The app factory: the composed API (``reelstack.api``), problem+json handlers,
middleware, metrics and the embedded worker."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from reelstack import __version__, api, problems, threads
from reelstack.accounts.identity import build_identity
from reelstack.accounts.mailer import QueuedMailer, build_mailer
from reelstack.assets.purges import RevokedAssets
from reelstack.bootstrap import job_registry
from reelstack.config import Settings, check_production, get_settings
from reelstack.delivery.cdns import CdnSet
from reelstack.geo import CountryResolver
from reelstack.jobs.celery_app import CeleryExecutor
from reelstack.jobs.executor import Executor, LocalExecutor
from reelstack.logs import configure_logging
from reelstack.metrics import AppMetrics
from reelstack.middleware import RequestContext
from reelstack.runtime import Runtime, build_runtime

WEB_DIR = Path(__file__).parent / "web"


def create_app(
    settings: Settings | None = None,
    *,
    runtime: Runtime | None = None,
    executor: Executor | None = None,
) -> FastAPI:
    """Build the ASGI app. With no executor given, the embedded worker runs in-process.

    In production mode (``REELSTACK_ENV=production``) unsafe settings raise
    ``UnsafeProductionSettings`` here, before anything starts.
    """
    settings = settings or (runtime.settings if runtime else get_settings())
    check_production(settings)
    configure_logging(level=settings.log_level, json=settings.log_json)
    runtime = runtime or build_runtime(settings)
    identity = build_identity(settings, runtime.engine)
    # Messages leave on the mailer's own thread, never in a request (see accounts.mailer).
    mailer = QueuedMailer(build_mailer(settings, runtime.sessions))
    registry = job_registry()
    cdns = CdnSet.of(settings.cdns, interval_s=settings.cdn_health_interval_s)
    geo = CountryResolver(header=settings.country_header, database=settings.geoip_db)
    # The origin refuses revoked assets' signed URLs as the edges do (delivery.router).
    revoked = RevokedAssets(runtime.sessions)
    owned_executor: LocalExecutor | CeleryExecutor | None = None
    if executor is None:
        # REELSTACK_EXECUTOR=celery: this process only publishes job ids; Celery workers
        # (`reelstack worker`) run them, so it never runs FFmpeg.
        if settings.executor == "celery":
            owned_executor = CeleryExecutor(runtime)
        else:
            owned_executor = LocalExecutor(runtime, registry)
        executor = owned_executor

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # Load (on first start: make) the signing key now, outside any request: on SQLite
        # a key written inside a request's write transaction would wait on that request.
        identity.auth.ring.signing_key()
        threads.configure(api_threads=settings.api_threads, io_threads=settings.io_threads)
        if isinstance(owned_executor, LocalExecutor) and settings.embedded_worker:
            owned_executor.start()
        cdns.start()
        revoked.start()
        threads.freeze_startup_heap()
        try:
            yield
        finally:
            cdns.stop()
            revoked.stop()
            geo.close()
            if owned_executor is not None:
                owned_executor.stop()
            mailer.close()
            identity.close()

    app = FastAPI(
        title="Reelstack",
        version=__version__,
        summary="Open-source OTT backend: ingest, ABR transcoding, HLS + DASH delivery.",
        lifespan=lifespan,
        # Every operation can answer 400 (a value the database refuses) and 422 problem+json.
        responses=problems.responses(400),
    )
    build_openapi = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = problems.add_problem_schema(build_openapi())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    app.state.runtime = runtime
    app.state.executor = executor
    app.state.job_registry = registry
    app.state.identity = identity
    app.state.mailer = mailer
    app.state.cdns = cdns
    app.state.revoked_assets = revoked
    app.state.geo = geo
    app.state.metrics = AppMetrics(job_counts=partial(api.job_counts, runtime))
    problems.install(app)
    # The first added is the innermost: RequestContext runs inside CORS, so even its
    # last-resort 500 gets the CORS headers.
    app.add_middleware(
        RequestContext,
        metrics=app.state.metrics,
        sample_rate=settings.access_log_sample_rate,
    )
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        # Players stop sessions (DELETE); consoles edit (PATCH, PUT, DELETE).
        allow_methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
        allow_headers=["Range", "Content-Type", "Authorization", "If-None-Match"],
        expose_headers=["Content-Length", "Content-Range", "ETag", "Accept-Ranges"],
        max_age=600,
    )
    app.include_router(api.api_router())

    if (WEB_DIR / "index.html").is_file():
        # The web app's pages that OAuth links to (the device grant's verification URI,
        # the consent page): its index.html, which routes by path. Before the mount,
        # which only knows files.
        @app.get("/app/activate", include_in_schema=False)
        @app.get("/app/authorize", include_in_schema=False)
        def oauth_page() -> FileResponse:
            return FileResponse(WEB_DIR / "index.html")

        app.mount("/app", StaticFiles(directory=WEB_DIR, html=True), name="web")

        @app.get("/", include_in_schema=False)
        def index() -> RedirectResponse:
            return RedirectResponse("/app/")

    return app
