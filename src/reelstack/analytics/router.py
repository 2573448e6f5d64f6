from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response, status

from reelstack.analytics import history, reports, service
from reelstack.analytics.schemas import (
    MAX_BATCH_BYTES,
    MAX_BATCH_EVENTS,
    BreakdownOut,
    ConcurrencyOut,
    ContinueWatchingOut,
    Dimension,
    EventBatchIn,
    EventsAccepted,
    Granularity,
    HistoryOut,
    ResumeOut,
    SummaryOut,
    TimeSeriesOut,
    ViewMetricsOut,
)
from reelstack.db import utcnow
from reelstack.deps import DbSession
from reelstack.errors import BadRequest, PayloadTooLarge, ValidationFailed
from reelstack.geo import CountryResolver
from reelstack.problems import responses
from reelstack.security import OPTIONAL_AUTH, CurrentPrincipal, MaybePrincipal

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


@router.get(
    "/me/continue-watching",
    response_model=ContinueWatchingOut,
    operation_id="getContinueWatching",
    tags=["history"],
    responses=responses(401, 403),
)
def continue_watching(session: DbSession, principal: CurrentPrincipal) -> ContinueWatchingOut:
    """The signed-in profile's titles in progress (between 5 % and 90 % watched), the
    most recently watched first: the home page's "continue watching" rail."""
    return history.continue_watching(session=session, principal=principal)


@router.get(
    "/me/resume/{title_id}",
    response_model=ResumeOut,
    operation_id="getResumePosition",
    tags=["history"],
    responses=responses(401, 403),
)
def resume_position(
    title_id: Annotated[str, Path(max_length=32)],
    session: DbSession,
    principal: CurrentPrincipal,
) -> ResumeOut:
    """Where the signed-in profile's next play of this title starts (0: the start)."""
    return history.resume(session=session, principal=principal, title_id=title_id)


@router.get(
    "/me/history",
    response_model=HistoryOut,
    operation_id="getWatchHistory",
    tags=["history"],
    responses={
        **responses(401),
        200: {"content": {"text/csv": {"schema": {"type": "string"}}}},
    },
)
def watch_history(
    session: DbSession,
    principal: CurrentPrincipal,
    format_: Annotated[Literal["json", "csv"], Query(alias="format")] = "json",
) -> HistoryOut | Response:
    """The household's own watch history, every profile, newest first (its export);
    ``?format=csv`` for a spreadsheet."""
    out = history.history(session=session, principal=principal)
    if format_ == "csv":
        return Response(
            history.history_csv(out),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="watch-history.csv"'},
        )
    return out


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


def _range(from_: datetime | None, to: datetime | None) -> tuple[datetime, datetime]:
    end = reports.as_utc(to or utcnow())
    start = reports.as_utc(from_) if from_ is not None else end - DEFAULT_SUMMARY_RANGE
    if start >= end:
        raise ValidationFailed("'from' must be before 'to'")
    return start, end


def _filters(
    title_id: Annotated[str | None, Query(max_length=32)] = None,
    device: Annotated[str | None, Query(max_length=32, description="device type")] = None,
    player: Annotated[str | None, Query(max_length=64, description="player name")] = None,
    cdn: Annotated[str | None, Query(max_length=64)] = None,
    country: Annotated[str | None, Query(max_length=2)] = None,
    rendition: Annotated[int | None, Query(ge=0, le=16384, description="height")] = None,
) -> reports.Filters:
    return reports.Filters(
        title_id=title_id,
        device_type=device,
        player_name=player,
        cdn=cdn,
        country=country.upper() if country else None,
        height=rendition,
    )


Filters = Annotated[reports.Filters, Depends(_filters)]
From = Annotated[datetime | None, Query(alias="from")]
To = Annotated[datetime | None, Query()]


@admin_router.get(
    "/summary",
    response_model=SummaryOut,
    operation_id="getAnalyticsSummary",
    responses=responses(422),
)
def summary(session: DbSession, filters: Filters, from_: From = None, to: To = None) -> SummaryOut:
    """Aggregates over the views that started in ``[from, to)`` (default: the 30 days
    before ``to``, which defaults to now), of one title or all, optionally of one
    device type, player, CDN, country or rendition height. Times without a zone are UTC."""
    start, end = _range(from_, to)
    return reports.summary(session=session, filters=filters, start=start, end=end)


@admin_router.get(
    "/breakdown",
    response_model=BreakdownOut,
    operation_id="getAnalyticsBreakdown",
    responses=responses(422),
)
def breakdown(
    session: DbSession,
    filters: Filters,
    dimension: Annotated[Dimension, Query()],
    from_: From = None,
    to: To = None,
) -> BreakdownOut:
    """The summary's metrics per device type, player, CDN, country or rendition."""
    start, end = _range(from_, to)
    return reports.breakdown(
        session=session, filters=filters, dimension=dimension, start=start, end=end
    )


@admin_router.get(
    "/timeseries",
    response_model=TimeSeriesOut,
    operation_id="getAnalyticsTimeSeries",
    responses=responses(422),
)
def time_series(
    session: DbSession,
    filters: Filters,
    granularity: Annotated[Granularity, Query()] = Granularity.HOUR,
    from_: From = None,
    to: To = None,
) -> TimeSeriesOut:
    """The summary's metrics per hour or day (UTC), oldest first."""
    start, end = _range(from_, to)
    return reports.time_series(
        session=session, filters=filters, granularity=granularity, start=start, end=end
    )


@admin_router.get(
    "/concurrency",
    response_model=ConcurrencyOut,
    operation_id="getAnalyticsConcurrency",
    responses=responses(422),
)
def concurrency(
    session: DbSession,
    title_id: Annotated[str | None, Query(max_length=32)] = None,
    from_: From = None,
    to: To = None,
) -> ConcurrencyOut:
    """Concurrent viewers now (views with an event in the last 30 s) and the peak per
    minute over ``[from, to)`` (counted by the rollup job)."""
    start, end = _range(from_, to)
    return reports.concurrency(session=session, title_id=title_id, start=start, end=end)
