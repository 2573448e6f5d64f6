"""Assets: ingest a source file, record what it is, and track the packaged stream."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from reelstack.assets.models import Asset, AssetStatus
from reelstack.catalog import service as catalog_service
from reelstack.catalog.models import TitleKind
from reelstack.db import new_id, session_scope, utcnow
from reelstack.errors import InvalidMedia, NotFound
from reelstack.jobs import service as job_service
from reelstack.jobs.models import JobKind
from reelstack.media.errors import InvalidSource
from reelstack.media.probe import ProbeResult, VideoInfo, probe, require_video
from reelstack.runtime import Runtime
from reelstack.storage import asset_prefix, source_key


@dataclass(frozen=True)
class IngestResult:
    title_id: str
    asset_id: str
    job_id: str


def ingest_file(
    *,
    runtime: Runtime,
    path: Path,
    title: str,
    original_filename: str | None = None,
    kind: TitleKind = TitleKind.MOVIE,
    description: str | None = None,
    move: bool = False,
) -> IngestResult:
    """Validate ``path`` as a video, store it, and create its title, asset and job.

    Raises ``InvalidMedia`` (nothing stored, no rows) when the file is not a usable video.
    All-or-nothing: if the rows cannot be written, the stored source is removed again.
    The caller submits ``job_id`` to an executor once this returns.
    """
    try:
        info = probe(path)
        video = require_video(info)
    except InvalidSource as exc:
        raise InvalidMedia(str(exc)) from exc
    asset_id = new_id()
    suffix = Path(original_filename or path.name).suffix or ".bin"
    key = source_key(asset_id, suffix)
    runtime.storage.put_file(key, path, move=move)
    try:
        with session_scope(runtime.sessions) as session:
            asset = _new_asset(
                asset_id=asset_id, key=key, info=info, video=video, filename=original_filename
            )
            session.add(asset)
            session.flush()
            title_row = catalog_service.create_title(
                session=session, title=title, kind=kind, description=description, asset_id=asset_id
            )
            job = job_service.create_job(
                session=session,
                kind=JobKind.TRANSCODE,
                asset_id=asset_id,
                ladder=runtime.settings.ladder,
                max_attempts=runtime.settings.job_max_attempts,
            )
            result = IngestResult(title_id=title_row.id, asset_id=asset_id, job_id=job.id)
    except BaseException:
        runtime.storage.delete_prefix(asset_prefix(asset_id))
        raise
    return result


def _new_asset(
    *, asset_id: str, key: str, info: ProbeResult, video: VideoInfo, filename: str | None
) -> Asset:
    return Asset(
        id=asset_id,
        status=AssetStatus.PROCESSING,
        source_key=key,
        original_filename=filename,
        size_bytes=info.size_bytes,
        duration_s=info.duration_s,
        width=video.display_width,
        height=video.display_height,
        fps=video.fps,
        video_codec=video.codec,
        audio_channels=info.audio[0].channels if info.audio else None,
        rotation=video.rotation,
        probe=_jsonable(dataclasses.asdict(info)),
        renditions=[],
        audio_tracks=[],
    )


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


def get_asset(*, session: Session, asset_id: str) -> Asset:
    asset = session.get(Asset, asset_id)
    if asset is None:
        raise NotFound(f"asset {asset_id} does not exist")
    return asset


def mark_ready(
    *,
    session: Session,
    asset_id: str,
    renditions: list[dict[str, Any]],
    audio_tracks: list[dict[str, Any]] | None = None,
) -> Asset:
    """Record the packaged stream: the asset becomes playable."""
    asset = get_asset(session=session, asset_id=asset_id)
    asset.status = AssetStatus.READY
    asset.renditions = renditions
    asset.audio_tracks = audio_tracks or []
    asset.error = None
    asset.ready_at = utcnow()
    session.flush()
    return asset


def mark_processing(*, session: Session, asset_id: str) -> Asset:
    asset = get_asset(session=session, asset_id=asset_id)
    asset.status = AssetStatus.PROCESSING
    asset.error = None
    session.flush()
    return asset


def mark_failed(*, session: Session, asset_id: str, error: str) -> Asset:
    asset = get_asset(session=session, asset_id=asset_id)
    asset.status = AssetStatus.FAILED
    asset.error = error[-4000:]
    session.flush()
    return asset
