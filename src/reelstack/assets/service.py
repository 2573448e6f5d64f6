"""Assets: probe and store a source, plan its processing graph, publish its versions."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from reelstack.assets.models import Asset, AssetStatus, MediaPurge
from reelstack.assets.schemas import AssetSummary, PurgeAction, TranscodeOutput
from reelstack.db import new_id, utcnow
from reelstack.errors import Conflict, InvalidMedia, NotFound
from reelstack.jobs import service as job_service
from reelstack.jobs.models import Job, JobKind, JobState
from reelstack.jobs.payloads import ProcessAssetPayload, TranscodePayload
from reelstack.media.errors import InvalidSource
from reelstack.media.probe import ProbeResult, VideoInfo, probe, require_video
from reelstack.storage import Storage, asset_prefix, source_key

SUBJECT = "asset"
# Parents publish, so they go before other work of the same age; encodes follow.
PROCESS_PRIORITY = 50
TRANSCODE_PRIORITY = 100


class AssetBusy(Conflict):
    code = "asset_busy"
    title = "Asset is being processed"


@dataclass(frozen=True)
class ProbedSource:
    info: ProbeResult
    video: VideoInfo


def probe_source(path: Path) -> ProbedSource:
    """Check ``path`` is a usable video; ``InvalidMedia`` (422) when it is not."""
    try:
        info = probe(path)
        return ProbedSource(info=info, video=require_video(info))
    except InvalidSource as exc:
        raise InvalidMedia(str(exc)) from exc


def store_source(*, storage: Storage, path: Path, original_filename: str | None) -> tuple[str, str]:
    """Store a probed source under a new asset id; returns ``(asset_id, key)``.

    The caller removes it again (``discard_asset_objects``) if its rows are not committed.
    """
    asset_id = new_id()
    suffix = Path(original_filename or path.name).suffix or ".bin"
    key = source_key(asset_id, suffix)
    storage.put_file(key, path)
    return asset_id, key


def discard_asset_objects(*, storage: Storage, asset_id: str) -> None:
    """Remove every object of an asset (its source and all media versions)."""
    storage.delete_prefix(asset_prefix(asset_id))


def create_asset(
    *,
    session: Session,
    asset_id: str,
    key: str,
    source: ProbedSource,
    original_filename: str | None,
    ladder: str,
    max_attempts: int,
    created_by: str | None = None,
) -> tuple[Asset, Job]:
    """Add the asset row and its processing graph; returns the asset and the graph's
    parent job (what a client follows). The caller's transaction commits both."""
    info, video = source.info, source.video
    asset = Asset(
        id=asset_id,
        status=AssetStatus.PROCESSING,
        source_key=key,
        original_filename=original_filename,
        size_bytes=info.size_bytes,
        duration_s=info.duration_s,
        width=video.display_width,
        height=video.display_height,
        fps=video.fps,
        video_codec=video.codec,
        rotation=video.rotation,
        next_version=1,
        renditions=[],
        audio_tracks=[],
        created_by=created_by,
    )
    session.add(asset)
    session.flush()
    job = plan_processing(
        session=session, asset_id=asset_id, ladder=ladder, max_attempts=max_attempts
    )
    return asset, job


def plan_processing(*, session: Session, asset_id: str, ladder: str, max_attempts: int) -> Job:
    """The job graph of one processing run: a ``process_asset`` parent that publishes
    what its ``transcode`` child made (chunk, thumbnail and subtitle children join it
    later)."""
    parent = job_service.create_job(
        session=session,
        payload=ProcessAssetPayload(asset_id=asset_id),
        subject_type=SUBJECT,
        subject_id=asset_id,
        max_attempts=max_attempts,
        priority=PROCESS_PRIORITY,
        waiting=True,
    )
    job_service.create_job(
        session=session,
        payload=TranscodePayload(asset_id=asset_id, ladder=ladder),
        subject_type=SUBJECT,
        subject_id=asset_id,
        max_attempts=max_attempts,
        parent_id=parent.id,
        priority=TRANSCODE_PRIORITY,
    )
    return parent


def reprocess(*, session: Session, asset_id: str, ladder: str, max_attempts: int) -> Job:
    """Re-transcode an asset with ``ladder``; the current version keeps playing until
    the new one is published. 409 ``asset_busy`` while another run is in progress."""
    asset = get_asset(session=session, asset_id=asset_id, lock=True)
    active = session.scalar(
        select(Job.id).where(
            Job.subject_type == SUBJECT,
            Job.subject_id == asset.id,
            Job.kind == JobKind.PROCESS_ASSET,
            Job.state.in_([JobState.WAITING, JobState.QUEUED, JobState.RUNNING]),
        )
    )
    if active is not None:
        raise AssetBusy(
            f"asset {asset_id} is already being processed (job {active})", job_id=active
        )
    asset.error = None
    if asset.version is None:
        asset.status = AssetStatus.PROCESSING
    return plan_processing(
        session=session, asset_id=asset.id, ladder=ladder, max_attempts=max_attempts
    )


def get_asset(*, session: Session, asset_id: str, lock: bool = False) -> Asset:
    asset = session.get(Asset, asset_id, with_for_update=lock or None)
    if asset is None:
        raise NotFound(f"asset {asset_id} does not exist")
    return asset


def _summary(asset: Asset) -> AssetSummary:
    return AssetSummary(
        id=asset.id,
        status=asset.status.value,
        duration_s=asset.duration_s,
        version=asset.version,
        audio_languages=[t.language for t in asset.audio_tracks],
        rendition_heights=sorted(r.height for r in asset.renditions),
        encryption=asset.encryption,
    )


# Built once (bound parameters): playback asks for a summary on every play request.
_BY_IDS = select(Asset).where(Asset.id.in_(bindparam("ids", expanding=True)))


def summaries(*, session: Session, asset_ids: Iterable[str]) -> dict[str, AssetSummary]:
    """Typed summaries of the given assets (missing ids are left out)."""
    ids = sorted(set(asset_ids))
    if not ids:
        return {}
    rows = session.scalars(_BY_IDS, {"ids": ids})
    return {a.id: _summary(a) for a in rows}


def allocate_version(*, session: Session, asset_id: str) -> tuple[int, str]:
    """Take the next media version number for one encode attempt; returns it and the
    source key. Every attempt writes its own version, so a late writer never touches
    another attempt's objects."""
    asset = get_asset(session=session, asset_id=asset_id, lock=True)
    version = asset.next_version
    asset.next_version = version + 1
    if asset.version is None:
        asset.status = AssetStatus.PROCESSING
        asset.error = None
    session.flush()
    return version, asset.source_key


def publish(*, session: Session, asset_id: str, output: TranscodeOutput) -> int | None:
    """Make ``output.version`` the asset's current version and mark it ready, in the
    caller's transaction; returns the version it replaced (None on the first publish)."""
    asset = get_asset(session=session, asset_id=asset_id, lock=True)
    previous = asset.version
    asset.version = output.version
    asset.status = AssetStatus.READY
    asset.renditions = output.renditions
    asset.audio_tracks = output.audio_tracks
    asset.encryption = output.encryption
    asset.error = None
    if previous != output.version:
        asset.ready_at = utcnow()
    session.flush()
    return previous


def mark_failed(*, session: Session, asset_id: str, error: str) -> None:
    """Processing gave up. An asset with a published version keeps playing it (the error
    is recorded); one without becomes failed. A deleted asset needs nothing."""
    asset = session.get(Asset, asset_id)
    if asset is None:
        return
    if asset.version is None:
        asset.status = AssetStatus.FAILED
    asset.error = error[-4000:]
    session.flush()


def delete_asset(*, session: Session, asset_id: str) -> list[str]:
    """Delete the asset's row and its jobs (a running job loses its claim and cleans up
    after itself); returns the ids of jobs that were running, for executors to stop.
    The caller removes the asset's objects once this has committed."""
    asset = get_asset(session=session, asset_id=asset_id, lock=True)
    running = list(
        session.scalars(
            select(Job.id).where(
                Job.subject_type == SUBJECT,
                Job.subject_id == asset.id,
                Job.state == JobState.RUNNING,
            )
        )
    )
    job_service.delete_for_subject(session=session, subject_type=SUBJECT, subject_id=asset.id)
    session.delete(asset)
    # Edges refuse its URLs from now on (their cached copies included).
    session.add(MediaPurge(asset_id=asset_id, action=PurgeAction.REVOKE))
    session.flush()
    return running
