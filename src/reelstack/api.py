"""The API's shape, in one place: three parent routers and what hangs under each.

- public: ``/healthz``, ``/readyz``, ``/metrics``, delivery (``/media/...``),
  ``/.well-known/jwks.json`` and ``openid-configuration``, the OAuth endpoints
  (``/oauth/...``); the app adds ``/openapi.json`` and the player (``/app/``).
- viewer (``/v1``): auth, me (profiles, devices), titles, playback, player events.
- admin (``/v1/admin``): uploads, assets, jobs, the catalog CMS; users, plans, API keys
  (admins only). The guard is a dependency of this parent router, so a route added under
  it is protected without a line of its own.

Domain routers carry prefixes relative to their parent (the jobs router is ``/jobs``).
A route under ``/v1/admin`` mounted anywhere else is caught by tests/api/test_guard.py.
"""

from __future__ import annotations

from collections.abc import Iterable

from fastapi import APIRouter, Depends

from reelstack import delivery, ops, problems
from reelstack.accounts.admin_router import keys_router as api_keys_admin_router
from reelstack.accounts.admin_router import router as users_admin_router
from reelstack.accounts.email_router import auth_router as email_auth_router
from reelstack.accounts.email_router import me_router as email_me_router
from reelstack.accounts.plans_router import admin_router as plans_admin_router
from reelstack.accounts.plans_router import router as plans_router
from reelstack.accounts.router import auth_router, me_router, wellknown_router
from reelstack.accounts.sso_router import router as sso_router
from reelstack.analytics.router import admin_router as analytics_admin_router
from reelstack.analytics.router import router as analytics_router
from reelstack.assets.router import edge_router
from reelstack.assets.router import router as assets_router
from reelstack.catalog.admin_parts_router import router as catalog_parts_admin_router
from reelstack.catalog.admin_router import router as catalog_admin_router
from reelstack.catalog.router import router as catalog_router
from reelstack.db import session_scope
from reelstack.ingest.router import router as ingest_router
from reelstack.jobs import service as jobs_service
from reelstack.jobs.router import router as jobs_router
from reelstack.oauth import router as oauth
from reelstack.playback.keys_router import router as playback_keys_router
from reelstack.playback.router import router as playback_router
from reelstack.runtime import Runtime
from reelstack.security import require_admin

VIEWER_PREFIX = "/v1"
ADMIN_PREFIX = "/v1/admin"


def public_router() -> APIRouter:
    router = APIRouter()
    router.include_router(ops.router)
    router.include_router(delivery.router)
    # HLS keys and DRM licences under a session's signed prefix (/s/<token>/...).
    router.include_router(playback_keys_router)
    router.include_router(wellknown_router)
    router.include_router(oauth.public_router)
    return router


def viewer_router() -> APIRouter:
    router = APIRouter(prefix=VIEWER_PREFIX)
    # Matching walks routes in order: the per-play and per-page routes come first.
    router.include_router(playback_router)
    router.include_router(analytics_router)
    router.include_router(catalog_router)
    router.include_router(me_router)
    router.include_router(email_me_router)
    router.include_router(auth_router)
    router.include_router(email_auth_router)
    router.include_router(sso_router)
    router.include_router(plans_router)
    router.include_router(oauth.viewer_router)
    return router


def admin_router() -> APIRouter:
    router = APIRouter(
        prefix=ADMIN_PREFIX,
        dependencies=[Depends(require_admin)],
        responses=problems.responses(401, 403),
    )
    router.include_router(ingest_router)
    router.include_router(assets_router)
    router.include_router(edge_router)
    router.include_router(jobs_router)
    router.include_router(catalog_admin_router)
    router.include_router(catalog_parts_admin_router)
    router.include_router(analytics_admin_router)
    router.include_router(users_admin_router)
    router.include_router(plans_admin_router)
    router.include_router(api_keys_admin_router)
    router.include_router(oauth.admin_router)
    router.include_router(delivery.cdn_admin_router)
    return router


def api_router() -> APIRouter:
    """Every API route, composed fresh (an app includes copies of the routes)."""
    root = APIRouter()
    root.include_router(public_router())
    root.include_router(viewer_router())
    root.include_router(admin_router())
    return root


def job_counts(runtime: Runtime) -> Iterable[tuple[str, str, int]]:
    """(kind, state, count) of the job rows: the ``reelstack_jobs`` gauge at scrape time."""
    with session_scope(runtime.sessions) as session:
        counts = jobs_service.count_by_kind_and_state(session=session)
    return [(kind, state, n) for (kind, state), n in counts.items()]
