"""Quality-of-experience metrics of one view, from its player events (no database here).

The definitions follow Mux Data's, so that the numbers compare (../shared/guide/MEDIA.md):

- Video Startup Time: from the play request (``play_requested``; without one, the
  ``view_start``) to the first frame (``first_frame``, or the first ``playing``).
- Watch time: from the play request until the view ends, paused time excluded. It
  includes the startup time, seek latency and rebuffering (Mux's watch time), so that
  Rebuffer % = rebuffering / watch time compares. ``playing_time_ms`` is the part with
  the playhead moving (Mux's Playing Time: no startup, seeking, rebuffering or pauses).
- Rebuffering: stalls after the first frame, except stalls while seeking (from
  ``seek_start`` until playback resumes after ``seek_end``): those are seek latency. A
  stall during startup is startup time. A second ``rebuffer_start`` while one is open
  is the same stall; a stall still open when the view ends counts until the end.
- Exits Before Video Start: the view ended after a play request without a first frame
  and without a fatal error. Playback Failure: a fatal ``error`` (the view ends there);
  before the first frame it is also a Video Startup Failure.
- A view ends at ``view_end``, at a fatal error, or after ``VIEW_TIMEOUT_MS`` without
  events (when the caller says what time it is). Events of one view id that such a
  silence separates are several views (``split_views``): the later ones continue the
  play (started at their first event, no startup time of their own).
- Scores (0-100): startup = 8 / (8 + startup_s) * 100; smoothness = the mean of
  100 / sqrt(1 + (rebuffer_count / 2)^2) and 100 * e^(-10 * rebuffer_ratio); quality =
  100 * e^(-0.33 * (0.15 * max_upscale + 0.85 * avg_upscale)).
- Upscaling: how far the player enlarges the rendition to fit its size (the
  ``player_width``/``player_height`` in device pixels that heartbeats and rendition
  changes carry): max(0, min(player_w / w, player_h / h) - 1), 0.5 for 50 %; averaged
  over the playing time with both sizes known. The rendition of a view (for breakdowns)
  is the height it played longest.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

# A view without events for this long has ended (Mux: one hour).
VIEW_TIMEOUT_MS = 60 * 60 * 1000


class EventType(enum.StrEnum):
    VIEW_START = "view_start"
    PLAY_REQUESTED = "play_requested"
    FIRST_FRAME = "first_frame"
    PLAYING = "playing"
    PAUSE = "pause"
    SEEK_START = "seek_start"
    SEEK_END = "seek_end"
    REBUFFER_START = "rebuffer_start"
    REBUFFER_END = "rebuffer_end"
    RENDITION_CHANGE = "rendition_change"
    ERROR = "error"
    HEARTBEAT = "heartbeat"
    VIEW_END = "view_end"


@dataclass(frozen=True)
class Event:
    """One player event as the metrics read it (``ts_ms``: the client's clock)."""

    type: EventType
    ts_ms: int
    playhead_ms: int | None = None
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ViewMetrics:
    event_count: int
    # Client times (epoch ms) of the first and the last event.
    first_event_ms: int | None
    last_event_ms: int | None
    ended: bool
    started: bool
    startup_time_ms: int | None
    watch_time_ms: int
    playing_time_ms: int
    paused_time_ms: int
    seek_count: int
    seek_time_ms: int
    rebuffer_count: int
    rebuffer_duration_ms: int
    # Percent of the watch time (0-100); None without watch time.
    rebuffer_percentage: float | None
    rebuffer_frequency_per_min: float | None
    exited_before_start: bool
    failed: bool
    startup_failed: bool
    error_count: int
    error_code: str | None
    max_playhead_ms: int | None
    # Time-weighted over the playing time with a known rendition (bits per second).
    average_bitrate_bps: int | None
    rendition_changes: int
    # The rendition height played longest (None: no rendition known while playing).
    main_height: int | None
    # Upscaling over the playing time (0.5: 50 %); None without the sizes.
    average_upscale: float | None
    max_upscale: float | None
    quality_score: float | None
    startup_score: float | None
    smoothness_score: float | None
    player_name: str | None
    player_version: str | None
    cdn: str | None


def _text(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is None or isinstance(value, bool):
        return None
    return str(value) if isinstance(value, str | int) else None


def _positive(data: Mapping[str, Any], key: str) -> int | None:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        return None
    return round(value)


class _View:
    """Walks a view's events in time order, crediting each interval to one state."""

    def __init__(self, *, has_play_request: bool, continuation: bool = False) -> None:
        self.has_play_request = has_play_request
        # The part of a view after an hour's silence: it plays from its first event.
        self.continuation = continuation
        self.count = 0
        self.first_ms: int | None = None
        self.clock: int | None = None
        self.view_start_ms: int | None = None
        self.requested_ms: int | None = None
        self.first_frame_ms: int | None = None
        self.ended = False
        self.paused = False
        self.seeking = False
        self.seek_done = False
        self.seek_playhead: int | None = None
        # The open stall: since when, and whether it counts as rebuffering.
        self.stall_ms: int | None = None
        self.stall_counts = False
        self.watch = self.playing = self.paused_time = self.seek_time = self.rebuffer = 0
        self.seek_count = self.rebuffer_count = self.error_count = self.renditions = 0
        self.failed = self.startup_failed = False
        self.error_code: str | None = None
        self.max_playhead: int | None = None
        self.bitrate: int | None = None
        self.bitrate_weighted = 0
        self.bitrate_time = 0
        self.rendition: tuple[int, int] | None = None
        self.player_size: tuple[int, int] | None = None
        self.height_time: dict[int, int] = {}
        self.upscale_weighted = 0.0
        self.upscale_time = 0
        self.max_upscale: float | None = None
        self.player_name: str | None = None
        self.player_version: str | None = None
        self.cdn: str | None = None

    def _advance(self, ts: int) -> None:
        if self.clock is not None and self.requested_ms is not None:
            dt = max(0, ts - self.clock)
            if self.paused:
                self.paused_time += dt
            else:
                self.watch += dt
                if self.first_frame_ms is None:
                    pass  # startup: the difference of the two times says it
                elif self.stall_ms is not None and self.stall_counts:
                    self.rebuffer += dt
                elif self.seeking or self.stall_ms is not None:
                    self.seek_time += dt
                else:
                    self.playing += dt
                    if self.bitrate is not None:
                        self.bitrate_weighted += self.bitrate * dt
                        self.bitrate_time += dt
                    self._credit_rendition(dt)
        self.clock = ts if self.clock is None else max(self.clock, ts)

    def _credit_rendition(self, dt: int) -> None:
        if self.rendition is None:
            return
        width, height = self.rendition
        self.height_time[height] = self.height_time.get(height, 0) + dt
        if self.player_size is not None and dt > 0:
            scale = min(self.player_size[0] / width, self.player_size[1] / height)
            upscale = max(0.0, scale - 1)
            self.upscale_weighted += upscale * dt
            self.upscale_time += dt
            self.max_upscale = max(self.max_upscale or 0.0, upscale)

    def _sizes(self, data: Mapping[str, Any]) -> None:
        player = (_positive(data, "player_width"), _positive(data, "player_height"))
        if player[0] is not None and player[1] is not None:
            self.player_size = (player[0], player[1])

    def _start(self, ts: int) -> None:
        if self.first_frame_ms is None:
            self.first_frame_ms = ts
            if self.requested_ms is None:
                self.requested_ms = self.view_start_ms if self.view_start_ms is not None else ts
        self.paused = False
        self.stall_ms = None

    def feed(self, event: Event) -> None:
        self.count += 1
        if self.first_ms is None:
            self.first_ms = event.ts_ms
            if self.continuation:
                self.requested_ms = self.first_frame_ms = event.ts_ms
        if self.ended:
            return  # nothing after the end of a view changes it
        self._advance(event.ts_ms)
        ts, kind, data = event.ts_ms, event.type, event.data
        if event.playhead_ms is not None:
            self.max_playhead = max(self.max_playhead or 0, event.playhead_ms)
        if kind is EventType.VIEW_START:
            if self.view_start_ms is None:
                self.view_start_ms = ts
                self.player_name = _text(data, "player_name")
                self.player_version = _text(data, "player_version")
                self.cdn = _text(data, "cdn")
            if not self.has_play_request and self.requested_ms is None:
                self.requested_ms = ts
        elif kind is EventType.PLAY_REQUESTED:
            if self.requested_ms is None:
                self.requested_ms = ts
            self.paused = False
        elif kind is EventType.FIRST_FRAME:
            self._start(ts)
        elif kind is EventType.PLAYING:
            self._start(ts)
            self.seeking = False
        elif kind is EventType.PAUSE:
            self.paused = True
            self.stall_ms = None
        elif kind is EventType.SEEK_START:
            if not self.seeking:
                self.seek_count += 1
            self.seeking, self.seek_done = True, False
            # A stall that turns into a seek ends as rebuffering here.
            if self.stall_ms is not None and self.stall_counts:
                self.stall_ms = None
        elif kind is EventType.SEEK_END:
            self.seek_done = True
            self.seek_playhead = event.playhead_ms
        elif kind is EventType.REBUFFER_START:
            if self.first_frame_ms is not None and self.stall_ms is None and not self.paused:
                self.stall_ms = ts
                self.stall_counts = not self.seeking
                if self.stall_counts:
                    self.rebuffer_count += 1
        elif kind is EventType.REBUFFER_END:
            if self.stall_ms is not None:
                self.stall_ms = None
                if self.seek_done:
                    self.seeking = False
        elif kind is EventType.HEARTBEAT:
            # Playback moved on after a seek without a "playing" event: the seek is over.
            moved = (
                event.playhead_ms is not None
                and self.seek_playhead is not None
                and event.playhead_ms > self.seek_playhead
            )
            if self.seeking and self.seek_done and self.stall_ms is None and moved:
                self.seeking = False
            self._sizes(data)
        elif kind is EventType.RENDITION_CHANGE:
            bitrate = data.get("bitrate")
            if isinstance(bitrate, int) and not isinstance(bitrate, bool) and bitrate > 0:
                self.bitrate = bitrate
                self.renditions += 1
            width, height = _positive(data, "width"), _positive(data, "height")
            self.rendition = (width, height) if width and height else None
            self._sizes(data)
        elif kind is EventType.ERROR:
            self.error_count += 1
            if data.get("fatal") is True:
                self.failed = True
                self.startup_failed = self.first_frame_ms is None
                self.error_code = _text(data, "code")
                self.ended = True
        elif kind is EventType.VIEW_END:
            self.ended = True

    def result(self, now_ms: int | None) -> ViewMetrics:
        ended = self.ended or (
            now_ms is not None and self.clock is not None and now_ms - self.clock >= VIEW_TIMEOUT_MS
        )
        started = self.first_frame_ms is not None
        startup_ms = None
        if (
            self.first_frame_ms is not None
            and self.requested_ms is not None
            and not self.continuation
        ):
            startup_ms = max(0, self.first_frame_ms - self.requested_ms)
        ratio = self.rebuffer / self.watch if self.watch else None
        smoothness = None
        if started:
            by_count = 100 / math.sqrt(1 + (self.rebuffer_count / 2) ** 2)
            by_ratio = 100 * math.exp(-10 * (ratio or 0.0))
            smoothness = (by_count + by_ratio) / 2
        average_upscale = self.upscale_weighted / self.upscale_time if self.upscale_time else None
        return ViewMetrics(
            event_count=self.count,
            first_event_ms=self.first_ms,
            last_event_ms=self.clock,
            ended=ended,
            started=started,
            startup_time_ms=startup_ms,
            watch_time_ms=self.watch,
            playing_time_ms=self.playing,
            paused_time_ms=self.paused_time,
            seek_count=self.seek_count,
            seek_time_ms=self.seek_time,
            rebuffer_count=self.rebuffer_count,
            rebuffer_duration_ms=self.rebuffer,
            rebuffer_percentage=None if ratio is None else 100 * ratio,
            rebuffer_frequency_per_min=(
                self.rebuffer_count / (self.watch / 60_000) if self.watch else None
            ),
            exited_before_start=(
                ended and not started and not self.failed and self.requested_ms is not None
            ),
            failed=self.failed,
            startup_failed=self.startup_failed,
            error_count=self.error_count,
            error_code=self.error_code,
            max_playhead_ms=self.max_playhead,
            average_bitrate_bps=(
                round(self.bitrate_weighted / self.bitrate_time) if self.bitrate_time else None
            ),
            rendition_changes=self.renditions,
            main_height=(
                max(self.height_time, key=lambda h: (self.height_time[h], h))
                if self.height_time
                else None
            ),
            average_upscale=average_upscale,
            max_upscale=self.max_upscale,
            quality_score=(
                None
                if average_upscale is None or self.max_upscale is None
                else 100 * math.exp(-0.33 * (0.15 * self.max_upscale + 0.85 * average_upscale))
            ),
            startup_score=None if startup_ms is None else 8 / (8 + startup_ms / 1000) * 100,
            smoothness_score=smoothness,
            player_name=self.player_name,
            player_version=self.player_version,
            cdn=self.cdn,
        )


def view_metrics(events: Iterable[Event], *, now_ms: int | None = None) -> ViewMetrics:
    """The metrics of one view. Events are taken in client-time order; events with the
    same time keep the order given (the order they were stored in). With ``now_ms``, a
    view silent for ``VIEW_TIMEOUT_MS`` counts as ended."""
    ordered = sorted(events, key=lambda e: e.ts_ms)
    view = _View(has_play_request=any(e.type is EventType.PLAY_REQUESTED for e in ordered))
    for event in ordered:
        view.feed(event)
    return view.result(now_ms)


def split_views(events: Iterable[Event]) -> list[list[Event]]:
    """The events of one view id cut where ``VIEW_TIMEOUT_MS`` passes without one (in
    client-time order): each part is a view of its own."""
    parts: list[list[Event]] = []
    last: int | None = None
    for event in sorted(events, key=lambda e: e.ts_ms):
        if last is None or event.ts_ms - last >= VIEW_TIMEOUT_MS:
            parts.append([])
        parts[-1].append(event)
        last = event.ts_ms
    return parts


def views_metrics(events: Iterable[Event], *, now_ms: int | None = None) -> list[ViewMetrics]:
    """The metrics of each view that the events of one view id make (``split_views``);
    every part but the last has ended (the silence after it)."""
    parts = split_views(events)
    out = []
    for index, part in enumerate(parts):
        later = parts[index + 1][0].ts_ms if index + 1 < len(parts) else now_ms
        view = _View(
            has_play_request=any(e.type is EventType.PLAY_REQUESTED for e in part),
            continuation=index > 0,
        )
        for event in part:
            view.feed(event)
        out.append(view.result(later))
    return out


def percentile(values: Sequence[float], pct: float) -> float | None:
    """The ``pct`` percentile (0-100) by linear interpolation between the closest ranks
    (numpy's default); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * pct / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)
