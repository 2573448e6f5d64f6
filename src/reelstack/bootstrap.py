"""The composition root of job handlers: one registry for the API, the CLI and workers."""

from __future__ import annotations

# Every table: handlers write rows whose foreign keys name other domains' tables (an
# asset's uploader), and a worker process imports no router that would load them.
import reelstack.models  # noqa: F401
from reelstack.analytics import jobs as analytics_jobs
from reelstack.assets import pipeline as asset_jobs
from reelstack.catalog import workflow as catalog_jobs
from reelstack.jobs.registry import JobRegistry


def job_registry() -> JobRegistry:
    """Every job kind's handler; refuses to build when a kind has none."""
    registry = JobRegistry()
    asset_jobs.register(registry)
    analytics_jobs.register(registry)
    catalog_jobs.register(registry)
    missing = registry.missing()
    if missing:
        raise RuntimeError(f"job kinds without a handler: {sorted(k.value for k in missing)}")
    return registry
