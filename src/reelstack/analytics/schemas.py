from __future__ import annotations

import enum
import json
from datetime import datetime
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    model_validator,
)

from reelstack.analytics.metrics import EventType

__all__ = ["EventType"]

# Batches: at most this many events and bytes (413 above).
MAX_BATCH_EVENTS = 500
MAX_BATCH_BYTES = 1024 * 1024
# One event's ``data``, as compact JSON.
MAX_DATA_BYTES = 2048
MAX_DATA_KEYS = 32

# Client-made ids (UUIDs and the like): short and plain, so logs cannot be forged.
ClientId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
ShortText = Annotated[str, Field(max_length=64)]


class _Data(BaseModel):
    # Players add their own stats beside the fields a type defines.
    model_config = ConfigDict(extra="allow")


class ViewStartData(_Data):
    player_name: ShortText | None = None
    player_version: ShortText | None = None
    cdn: ShortText | None = None


class RenditionData(_Data):
    bitrate: Annotated[int, Field(gt=0, le=10**10)]
    width: Annotated[int | None, Field(gt=0, le=16384)] = None
    height: Annotated[int | None, Field(gt=0, le=16384)] = None


class ErrorData(_Data):
    fatal: bool = False
    code: ShortText | int | None = None
    message: Annotated[str | None, Field(max_length=500)] = None


_DATA: dict[EventType, TypeAdapter[Any]] = {
    EventType.VIEW_START: TypeAdapter(ViewStartData),
    EventType.RENDITION_CHANGE: TypeAdapter(RenditionData),
    EventType.ERROR: TypeAdapter(ErrorData),
}


class EventIn(BaseModel):
    """One player event. ``ts`` is the client's clock in epoch milliseconds; ``data``
    holds the type's fields: ``view_start`` {player_name, player_version, cdn},
    ``rendition_change`` {bitrate (required), width, height}, ``error`` {fatal, code,
    message}, and any player stats (at most 2 KiB of JSON)."""

    model_config = ConfigDict(extra="forbid")

    event_id: ClientId
    view_id: ClientId
    session_id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,32}$")]
    type: EventType
    ts: Annotated[int, Field(ge=0, le=2**53)]
    playhead_ms: Annotated[int | None, Field(ge=0, le=2**53)] = None
    data: dict[str, JsonValue] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _check_data(self) -> EventIn:
        if len(self.data) > MAX_DATA_KEYS:
            raise ValueError(f"data has more than {MAX_DATA_KEYS} fields")
        size = len(json.dumps(self.data, separators=(",", ":")).encode())
        if size > MAX_DATA_BYTES:
            raise ValueError(f"data is larger than {MAX_DATA_BYTES} bytes of JSON")
        adapter = _DATA.get(self.type)
        if adapter is not None:
            try:
                adapter.validate_python(self.data)
            except ValidationError as exc:
                first = exc.errors()[0]
                where = ".".join(str(p) for p in ("data", *first["loc"]))
                raise ValueError(f"{where}: {first['msg']} (for {self.type.value})") from None
        return self


class EventBatchIn(BaseModel):
    """``POST /v1/events``: up to 500 events (1 MiB); each is checked on its own."""

    events: Annotated[list[EventIn], Field(max_length=MAX_BATCH_EVENTS)]


class RejectReason(enum.StrEnum):
    # Not an event of the contract (a field missing, of the wrong type, unknown...).
    INVALID = "invalid"
    # ``ts`` is too far from the server's clock (clock skew or a stale replay).
    TOO_OLD = "too_old"
    IN_FUTURE = "in_future"
    UNKNOWN_SESSION = "unknown_session"
    # The session belongs to another household than the access token's.
    OTHER_HOUSEHOLD = "other_household"
    # The session ended too long ago to take events.
    SESSION_CLOSED = "session_closed"
    # The view id is bound to another playback session.
    VIEW_CONFLICT = "view_conflict"


class Rejection(BaseModel):
    index: int
    reason: RejectReason
    detail: str


class EventsAccepted(BaseModel):
    # Events stored now or before (a replayed event is accepted and stored once).
    accepted: int
    # How many of the accepted were already stored (or repeated within the batch).
    duplicates: int
    rejected: list[Rejection]


class ViewMetricsOut(BaseModel):
    """One view's QoE metrics (Mux Data definitions; percentages are 0-100)."""

    view_id: str
    session_id: str
    title_id: str
    user_id: str
    profile_id: str | None
    device_id: str | None
    country: str | None
    started_at: datetime
    # How many views an hour's silence split this view id into (the metrics are the
    # first's; summaries count each).
    parts: int
    event_count: int
    # The view ended (view_end, a fatal error, or an hour without events).
    ended: bool
    # The first frame was shown.
    started: bool
    startup_time_ms: int | None
    watch_time_ms: int
    playing_time_ms: int
    paused_time_ms: int
    seek_count: int
    seek_time_ms: int
    rebuffer_count: int
    rebuffer_duration_ms: int
    rebuffer_percentage: float | None
    rebuffer_frequency_per_min: float | None
    exited_before_start: bool
    failed: bool
    startup_failed: bool
    error_count: int
    error_code: str | None
    max_playhead_ms: int | None
    average_bitrate_bps: int | None
    rendition_changes: int
    # The rendition height played longest.
    main_height: int | None
    # How far the player enlarged the picture (0.5: 50 %), mean and worst.
    average_upscale: float | None
    max_upscale: float | None
    startup_score: float | None
    smoothness_score: float | None
    quality_score: float | None
    player_name: str | None
    player_version: str | None
    cdn: str | None


class QoeMetrics(BaseModel):
    """Engagement and QoE over a set of views (Mux Data definitions; percentages 0-100;
    None where there is nothing to divide by). Startup percentiles come from a histogram
    with 2 % wide buckets."""

    views: int
    watch_time_ms: int
    playing_time_ms: int
    # Views that reached 90 % of the title.
    completion_percentage: float | None
    startup_time_p50_ms: float | None
    startup_time_p95_ms: float | None
    startup_time_mean_ms: float | None
    # Rebuffering over watch time, all views together.
    rebuffer_percentage: float | None
    rebuffer_frequency_per_min: float | None
    # Shares of the views.
    exits_before_start_percentage: float | None
    playback_failure_percentage: float | None
    startup_failure_percentage: float | None
    # Weighted by playing time.
    average_bitrate_bps: float | None
    upscale_percentage: float | None
    startup_score: float | None
    smoothness_score: float | None
    quality_score: float | None


class SummaryOut(QoeMetrics):
    """QoE and engagement over the views that started in ``[from, to)`` (hourly rollups
    of ended views, plus the raw events of views not rolled up yet)."""

    title_id: str | None
    from_: datetime = Field(serialization_alias="from")
    to: datetime
    # Distinct profiles (a session without a profile counts its household); rolled-up
    # views count by day.
    unique_viewers: int
    unique_households: int


class Dimension(enum.StrEnum):
    DEVICE = "device"
    PLAYER = "player"
    CDN = "cdn"
    COUNTRY = "country"
    RENDITION = "rendition"


class BreakdownRow(QoeMetrics):
    # The dimension's value ("" when unknown; a rendition is its height).
    value: str


class BreakdownOut(BaseModel):
    dimension: Dimension
    from_: datetime = Field(serialization_alias="from")
    to: datetime
    # The most watched first.
    rows: list[BreakdownRow]


class Granularity(enum.StrEnum):
    HOUR = "hour"
    DAY = "day"


class SeriesPoint(QoeMetrics):
    # The start of the hour or day (UTC).
    time: datetime


class TimeSeriesOut(BaseModel):
    granularity: Granularity
    from_: datetime = Field(serialization_alias="from")
    to: datetime
    # Only periods with views, oldest first.
    points: list[SeriesPoint]


class ConcurrencyOut(BaseModel):
    # Views with events in the last ``window_s`` seconds.
    now: int
    window_s: int
    # The most views with events in one minute within ``[from, to)``, and when.
    peak: int
    peak_at: datetime | None
    from_: datetime = Field(serialization_alias="from")
    to: datetime


# --- watch history -------------------------------------------------------------------------


class ContinueWatchingItem(BaseModel):
    """A title the profile started and has not finished, and where it stopped."""

    title_id: str
    title: str
    poster_url: str | None
    position_ms: int
    duration_ms: int
    # How far in (0-100).
    progress_percentage: float
    updated_at: datetime


class ContinueWatchingOut(BaseModel):
    """The signed-in profile's titles in progress, the most recently watched first."""

    items: list[ContinueWatchingItem]


class ResumeOut(BaseModel):
    """Where the signed-in profile's next play of a title starts (0: from the start)."""

    title_id: str
    resume_ms: int
    # The profile watched the title through (90 % or more) at least once.
    watched: bool


class HistoryItem(BaseModel):
    profile_id: str
    profile_name: str
    title_id: str
    title: str
    position_ms: int
    duration_ms: int
    progress_percentage: float
    watched: bool
    updated_at: datetime


class HistoryOut(BaseModel):
    """The household's watch history, every profile, the most recent first."""

    items: list[HistoryItem]
