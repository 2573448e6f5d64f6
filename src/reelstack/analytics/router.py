from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, status

from reelstack.analytics import service
from reelstack.analytics.schemas import (
    MAX_BATCH_BYTES,
    MAX_BATCH_EVENTS,
    EventBatchIn,
    EventsAccepted,
    SummaryOut,
    ViewMetricsOut,
)
from reelstack.db import utcnow
from reelstack.deps import DbSession
from reelstack.errors import BadRequest, PayloadTooLarge, ValidationFailed
from reelstack.geo import CountryResolver
from reelstack.problems import responses
from reelstack.security import OPTIONAL_AUTH, MaybePrincipal

# Mounted under the viewer parent router (reelstack.api): /v1/events.
router = APIRouter(tags=["analytics"])
# Mounted under the admin parent router (reelstack.api): /v1/admin/analytics.
admin_router = APIRouter(prefix="/analytics", tags=["analytics"])

# A summary without ``from`` covers this long before ``to``.
DEFAULT_SUMMARY_RANGE = timedelta(days=30)


class BatchTooLarge(PayloadTooLarge):
    code = "batch_too_large"
    title = "Batch too large"


def _inline(schema: Any, defs: dict[str, Any]) -> Any:
    """``schema`` with its local ``$ref``s replaced by the definitions they name."""
    if isinstance(schema, dict):
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            return _inline(defs[ref.removeprefix("#/$defs/")], defs)
        return {k: _inline(v, defs) for k, v in schema.items() if k != "$defs"}
    if isinstance(schema, list):
        return [_inline(v, defs) for v in schema]
    return schema


def _batch_schema() -> dict[str, Any]:
    # The body is read by hand (a size cap, then each event checked on its own), so its
    # schema is written into the operation rather than derived from a parameter.
    schema = EventBatchIn.model_json_schema()
    return {
        "required": True,
        "content": {"application/json": {"schema": _inline(schema, schema.get("$defs", {}))}},
    }


def _not_json(name: str) -> Any:
    # NaN and Infinity: Python reads them, JSON (and PostgreSQL's json) does not.
    raise ValueError(f"{name} is not JSON")


async def read_batch(request: Request) -> list[Any]:
    """The body's ``events``, at most ``MAX_BATCH_BYTES`` and ``MAX_BATCH_EVENTS`` (413);
    not JSON: 400; not ``{"events": [...]}``: 422. Any content type is read as JSON
    (``navigator.sendBeacon`` posts text/plain without a preflight)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BATCH_BYTES:
        raise BatchTooLarge(f"a batch is at most {MAX_BATCH_BYTES} bytes", limit=MAX_BATCH_BYTES)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BATCH_BYTES:
            raise BatchTooLarge(
                f"a batch is at most {MAX_BATCH_BYTES} bytes", limit=MAX_BATCH_BYTES
            )
    try:
        document = json.loads(bytes(body), parse_constant=_not_json)
    except (ValueError, RecursionError) as exc:
        raise BadRequest("the body is not JSON") from exc
    if (
        not isinstance(document, dict)
        or set(document) != {"events"}
        or not isinstance(document["events"], list)
    ):
        raise ValidationFailed('send {"events": [...]} and nothing else')
    events: list[Any] = document["events"]
    if len(events) > MAX_BATCH_EVENTS:
        raise BatchTooLarge(
            f"a batch holds at most {MAX_BATCH_EVENTS} events, not {len(events)}",
            max_events=MAX_BATCH_EVENTS,
        )
    return events


def _country(request: Request) -> str | None:
    """The viewer's country (the trusted edge's header, else the GeoIP database, else
    unknown): stored instead of the address, which is not kept."""
    geo: CountryResolver = request.app.state.geo
    return geo.country(request.headers, request.client.host if request.client else None)


@router.post(
    "/events",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=EventsAccepted,
    operation_id="postEvents",
    responses=responses(400, 401, 413),
    # Beacons may come without a token (the session id is the credential).
    openapi_extra={**OPTIONAL_AUTH, "requestBody": _batch_schema()},
)
def post_events(
    items: Annotated[list[Any], Depends(read_batch)],
    request: Request,
    session: DbSession,
    principal: MaybePrincipal,
) -> EventsAccepted:
    """Store a batch of player events (QoE beacons); 202 once they are committed.

    Each event is checked on its own: the good ones are kept, the others listed in
    ``rejected`` by index with a ``reason`` (``invalid``, ``too_old``, ``in_future``,
    ``unknown_session``, ``other_household``, ``session_closed``, ``view_conflict``).
    A replayed event (same ``view_id`` and ``event_id``) is accepted and stored once.
    With an access token, the sessions must be the household's own.
    """
    return service.ingest(
        session=session,
        principal=principal,
        items=items,
        country=_country(request),
    )


@admin_router.get(
    "/views/{view_id}",
    response_model=ViewMetricsOut,
    operation_id="getViewMetrics",
    responses=responses(404),
)
def get_view(view_id: Annotated[str, Path(max_length=64)], session: DbSession) -> ViewMetricsOut:
    """One view's QoE metrics (startup time, watch time, rebuffering, exit before video
    start, failure...) computed from its events."""
    return service.get_view(session=session, view_id=view_id)


@admin_router.get(
    "/summary",
    response_model=SummaryOut,
    operation_id="getAnalyticsSummary",
)
def summary(
    session: DbSession,
    title_id: Annotated[str | None, Query(max_length=32)] = None,
    from_: Annotated[datetime | None, Query(alias="from")] = None,
    to: Annotated[datetime | None, Query()] = None,
) -> SummaryOut:
    """Aggregates over the views that started in ``[from, to)`` (default: the 30 days
    before ``to``, which defaults to now), of one title or all. Times without a zone
    are UTC."""
    end = to or utcnow()
    start = from_ or end - DEFAULT_SUMMARY_RANGE
    if service.as_utc(start) >= service.as_utc(end):
        raise ValidationFailed("'from' must be before 'to'")
    return service.summary(session=session, title_id=title_id, start=start, end=end)
