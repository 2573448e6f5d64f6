"""Sums over many views, the shape of one hourly rollup row (no database here).

Views add up into ``Totals``, and totals into others; the aggregate metrics (Mux's
definitions over all the views together) are read off them. Startup times are kept as
a histogram with 2 % wide buckets so that percentiles over any range need no raw data:
a percentile is the middle of its bucket (within 1 % of the exact value).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from reelstack.analytics.metrics import ViewMetrics

_BUCKET_BASE = math.log(1.02)


def startup_bucket(startup_ms: int) -> int:
    """The histogram bucket of a startup time (bucket ``b`` holds 1.02**b - 1 to
    1.02**(b+1) - 1 ms)."""
    return int(math.log1p(max(0, startup_ms)) / _BUCKET_BASE)


def bucket_value(bucket: int) -> float:
    """The middle of a bucket, in milliseconds."""
    return math.expm1((bucket + 0.5) * _BUCKET_BASE)


def histogram_percentile(histogram: Mapping[int, int], pct: float) -> float | None:
    """The ``pct`` percentile (0-100, nearest rank) of a startup histogram."""
    total = sum(histogram.values())
    if total == 0:
        return None
    rank = max(1, math.ceil(total * pct / 100))
    seen = 0
    for bucket in sorted(histogram):
        seen += histogram[bucket]
        if seen >= rank:
            return bucket_value(bucket)
    return bucket_value(max(histogram))  # pragma: no cover - rank <= total


@dataclass
class Totals:
    """What an hourly rollup row sums (the names are its columns)."""

    views: int = 0
    started_views: int = 0
    completed_views: int = 0
    exits_before_start: int = 0
    failures: int = 0
    startup_failures: int = 0
    watch_time_ms: int = 0
    playing_time_ms: int = 0
    rebuffer_ms: int = 0
    rebuffer_count: int = 0
    startup_ms_sum: int = 0
    startup_histogram: dict[int, int] = field(default_factory=dict)
    bitrate_weighted: float = 0.0
    bitrate_time_ms: int = 0
    upscale_weighted: float = 0.0
    upscale_time_ms: int = 0
    startup_score_sum: float = 0.0
    smoothness_score_sum: float = 0.0
    smoothness_views: int = 0
    quality_score_sum: float = 0.0
    quality_views: int = 0

    def add_view(self, m: ViewMetrics, *, completed: bool) -> None:
        self.views += 1
        self.completed_views += completed
        self.exits_before_start += m.exited_before_start
        self.failures += m.failed
        self.startup_failures += m.startup_failed
        self.watch_time_ms += m.watch_time_ms
        self.playing_time_ms += m.playing_time_ms
        self.rebuffer_ms += m.rebuffer_duration_ms
        self.rebuffer_count += m.rebuffer_count
        if m.startup_time_ms is not None:
            self.started_views += 1
            self.startup_ms_sum += m.startup_time_ms
            bucket = startup_bucket(m.startup_time_ms)
            self.startup_histogram[bucket] = self.startup_histogram.get(bucket, 0) + 1
            self.startup_score_sum += m.startup_score or 0.0
        if m.average_bitrate_bps is not None:
            # The view's own weighting: its mean bitrate over its playing time.
            self.bitrate_weighted += m.average_bitrate_bps * m.playing_time_ms
            self.bitrate_time_ms += m.playing_time_ms
        if m.average_upscale is not None:
            self.upscale_weighted += m.average_upscale * m.playing_time_ms
            self.upscale_time_ms += m.playing_time_ms
        if m.smoothness_score is not None:
            self.smoothness_score_sum += m.smoothness_score
            self.smoothness_views += 1
        if m.quality_score is not None:
            self.quality_score_sum += m.quality_score
            self.quality_views += 1

    def add(self, other: Totals | Mapping[str, Any]) -> None:
        """Add another total, or a rollup row's columns (by name)."""
        for f in fields(self):
            value = getattr(other, f.name) if isinstance(other, Totals) else other[f.name]
            if f.name == "startup_histogram":
                for bucket, count in value.items():
                    key = int(bucket)
                    self.startup_histogram[key] = self.startup_histogram.get(key, 0) + count
            else:
                setattr(self, f.name, getattr(self, f.name) + value)

    def columns(self) -> dict[str, Any]:
        """The rollup row's columns (histogram keys as JSON's strings)."""
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["startup_histogram"] = {str(k): v for k, v in sorted(self.startup_histogram.items())}
        return out

    def metrics(self) -> dict[str, float | int | None]:
        """The aggregate metrics (percentages 0-100; None where nothing to divide by)."""

        def share(part: float, whole: float) -> float | None:
            return 100 * part / whole if whole else None

        def mean(total: float, count: int) -> float | None:
            return total / count if count else None

        watch = self.watch_time_ms
        return {
            "views": self.views,
            "watch_time_ms": watch,
            "playing_time_ms": self.playing_time_ms,
            "completion_percentage": share(self.completed_views, self.views),
            "startup_time_p50_ms": histogram_percentile(self.startup_histogram, 50),
            "startup_time_p95_ms": histogram_percentile(self.startup_histogram, 95),
            "startup_time_mean_ms": mean(self.startup_ms_sum, self.started_views),
            "rebuffer_percentage": share(self.rebuffer_ms, watch),
            "rebuffer_frequency_per_min": (
                self.rebuffer_count / (watch / 60_000) if watch else None
            ),
            "exits_before_start_percentage": share(self.exits_before_start, self.views),
            "playback_failure_percentage": share(self.failures, self.views),
            "startup_failure_percentage": share(self.startup_failures, self.views),
            "average_bitrate_bps": mean(self.bitrate_weighted, self.bitrate_time_ms),
            "upscale_percentage": (
                None
                if not self.upscale_time_ms
                else 100 * self.upscale_weighted / self.upscale_time_ms
            ),
            "startup_score": mean(self.startup_score_sum, self.started_views),
            "smoothness_score": mean(self.smoothness_score_sum, self.smoothness_views),
            "quality_score": mean(self.quality_score_sum, self.quality_views),
        }
