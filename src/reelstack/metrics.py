"""Prometheus metrics: HTTP traffic per app, job and FFmpeg figures per process.

Each app gets its own ``CollectorRegistry`` (``AppMetrics``), never the global one, so
several apps in one process (tests, a CLI that builds one for its OpenAPI document) do
not clash. Job and FFmpeg metrics describe the work of this process, whichever app
serves them: they are module-level and registered into every app's registry. Workers
report through ``observe_job`` and ``observe_realtime_factor``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import structlog
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector

log = structlog.get_logger(__name__)

CONTENT_TYPE = CONTENT_TYPE_LATEST

# Whole jobs run from seconds (a purge) to an hour (a long feature on a small machine).
JOB_DURATION = Histogram(
    "reelstack_job_duration_seconds",
    "Wall time of one job run, by job kind and outcome",
    ["kind", "outcome"],
    buckets=(1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200),
    registry=None,
)
# Media seconds encoded per wall-clock second: above 1 is faster than real time.
FFMPEG_REALTIME_FACTOR = Histogram(
    "reelstack_ffmpeg_realtime_factor",
    "FFmpeg speed as media seconds per wall second",
    buckets=(0.1, 0.25, 0.5, 1, 2, 4, 8, 16, 32, 64),
    registry=None,
)
PROCESS_COLLECTORS: tuple[Collector, ...] = (JOB_DURATION, FFMPEG_REALTIME_FACTOR)

# Seconds; delivery of a cached segment is milliseconds, an upload can take minutes.
HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "unmatched"

# (kind, state, count) rows, read from the database at scrape time.
JobCounts = Callable[[], Iterable[tuple[str, str, int]]]


def observe_job(kind: str, outcome: str, duration_s: float) -> None:
    """Record one finished job run (``outcome``: succeeded, failed, cancelled, retry...)."""
    JOB_DURATION.labels(kind=kind, outcome=outcome).observe(duration_s)


def observe_realtime_factor(factor: float) -> None:
    """Record how fast one FFmpeg run went (media duration / wall time)."""
    FFMPEG_REALTIME_FACTOR.observe(factor)


class JobsGauge(Collector):
    """``reelstack_jobs{kind, state}``: job rows per kind and state, counted per scrape.

    A database error leaves the gauge out of that scrape (and is logged) rather than
    failing the whole ``/metrics`` answer.
    """

    name = "reelstack_jobs"
    documentation = "Jobs in the database, by kind and state"

    def __init__(self, count: JobCounts) -> None:
        self._count = count

    def _family(self) -> GaugeMetricFamily:
        return GaugeMetricFamily(self.name, self.documentation, labels=["kind", "state"])

    def describe(self) -> Iterable[GaugeMetricFamily]:
        # Registration must not query the database.
        return [self._family()]

    def collect(self) -> Iterable[GaugeMetricFamily]:
        try:
            rows = list(self._count())
        except Exception:
            log.exception("metrics.jobs_count_failed")
            return []
        family = self._family()
        for kind, state, count in rows:
            family.add_metric([kind, state], count)
        return [family]


class AppMetrics:
    """One app's registry: HTTP requests by route template, plus the process metrics."""

    def __init__(self, *, job_counts: JobCounts | None = None) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "reelstack_http_requests",
            "HTTP requests by method, route template and status",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "reelstack_http_request_duration_seconds",
            "HTTP request latency by method and route template, until the body is sent",
            ["method", "route"],
            buckets=HTTP_BUCKETS,
            registry=self.registry,
        )
        for collector in PROCESS_COLLECTORS:
            self.registry.register(collector)
        self.jobs = JobsGauge(job_counts) if job_counts is not None else None
        if self.jobs is not None:
            self.registry.register(self.jobs)

    def observe_request(self, *, method: str, route: str, status: int, duration_s: float) -> None:
        """Count one request; ``route`` is the matched template, never the raw path."""
        method = method if method in _METHODS else "OTHER"
        self.requests.labels(method=method, route=route, status=str(status)).inc()
        self.latency.labels(method=method, route=route).observe(duration_s)

    def render(self) -> bytes:
        """The text exposition format."""
        return generate_latest(self.registry)
