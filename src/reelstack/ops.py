"""Operations endpoints: liveness, readiness and Prometheus metrics (all public)."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy import text

from reelstack import metrics, problems
from reelstack.deps import RuntimeDep

router = APIRouter(tags=["ops"])


@router.get("/healthz", operation_id="healthz")
def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz", operation_id="readyz", responses=problems.responses(503))
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
    probe_key = f"readyz/{uuid.uuid4().hex}"
    try:
        rt.storage.put_stream(probe_key, [b"ready"], size=5)
        rt.storage.delete(probe_key)
        with rt.workdir.scratch() as scratch:
            (scratch / "ready").write_bytes(b"")
    except Exception as exc:
        return problems.problem(
            503, "not_ready", "Not ready", f"media storage not writable: {type(exc).__name__}"
        )
    return JSONResponse({"status": "ready", "database": rt.engine.dialect.name})


@router.get(
    "/metrics",
    operation_id="metrics",
    response_class=Response,
    responses={200: {"description": "Prometheus text format", "content": {"text/plain": {}}}},
)
def metrics_endpoint(request: Request) -> Response:
    """Prometheus metrics: HTTP requests by route template, jobs, FFmpeg speed."""
    app_metrics: metrics.AppMetrics = request.app.state.metrics
    return Response(app_metrics.render(), media_type=metrics.CONTENT_TYPE)
