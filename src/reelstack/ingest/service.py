"""Ingest: one uploaded file becomes a stored source, an asset with its processing
graph, and a catalog title playing it; all of it or nothing."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from reelstack.assets import service as assets_service
from reelstack.catalog import service as catalog_service
from reelstack.catalog.models import TitleKind
from reelstack.db import session_scope
from reelstack.runtime import Runtime


@dataclass(frozen=True)
class IngestResult:
    title_id: str
    asset_id: str
    # The processing graph's parent: finished when the title is playable (or failed).
    job_id: str


def ingest_file(
    *,
    runtime: Runtime,
    path: Path,
    title: str,
    original_filename: str | None = None,
    kind: TitleKind = TitleKind.MOVIE,
    description: str | None = None,
    created_by: str | None = None,
) -> IngestResult:
    """Validate ``path`` as a video, store it, and create its title, asset and jobs.

    Raises ``InvalidMedia`` (nothing stored, no rows) when the file is not a usable
    video. If the rows cannot be committed, the stored source is removed again. The
    rows are committed when this returns; the caller then tells an executor.
    """
    source = assets_service.probe_source(path)
    asset_id, key = assets_service.store_source(
        storage=runtime.storage, path=path, original_filename=original_filename
    )
    settings = runtime.settings
    try:
        with session_scope(runtime.sessions) as session:
            _, job = assets_service.create_asset(
                session=session,
                asset_id=asset_id,
                key=key,
                source=source,
                original_filename=original_filename,
                ladder=settings.ladder,
                max_attempts=settings.job_max_attempts,
                created_by=created_by,
            )
            row = catalog_service.create_title(
                session=session, title=title, kind=kind, description=description
            )
            catalog_service.link_asset(session=session, title_id=row.id, asset_id=asset_id)
            result = IngestResult(title_id=row.id, asset_id=asset_id, job_id=job.id)
    except BaseException:
        assets_service.discard_asset_objects(storage=runtime.storage, asset_id=asset_id)
        raise
    return result
