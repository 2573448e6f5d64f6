"""The asset job handlers: transcode a version, publish it, purge the old ones.

Graph of one processing run (planned by ``service.plan_processing``)::

    process_asset (waits; publishes)  <-  transcode (encodes version n, uploads it)

Each transcode attempt takes a fresh version number and writes only under its own
``assets/{id}/media/v{n}/`` prefix, so an attempt that lost its claim can never touch
what another attempt publishes; it removes its own objects when it notices.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import structlog
from sqlalchemy.orm import Session

from reelstack import metrics
from reelstack.assets import keys as media_keys
from reelstack.assets import service
from reelstack.assets.schemas import AudioTrack, Rendition, TranscodeOutput
from reelstack.db import utcnow
from reelstack.jobs import service as job_service
from reelstack.jobs.context import JobContext
from reelstack.jobs.errors import JobCancelled, PermanentJobError
from reelstack.jobs.models import Job, JobKind
from reelstack.jobs.payloads import ProcessAssetPayload, PurgeMediaPayload, TranscodePayload
from reelstack.jobs.registry import JobHandler, JobRegistry
from reelstack.media.encrypt import EncryptionSpec
from reelstack.media.errors import InvalidSource, TranscodeCancelled
from reelstack.media.package import transcode_and_package
from reelstack.storage import media_version_prefix
from reelstack.storage.versions import stored_media

log = structlog.get_logger(__name__)


def transcode(ctx: JobContext) -> dict[str, Any]:
    """Encode and package the source into a new version and upload it (unpublished).

    With REELSTACK_ENCRYPTION the version is stored encrypted only (HLS AES-128 and
    DASH CENC copies) and its keys go to the database, wrapped, before any upload."""
    payload = ctx.payload
    assert isinstance(payload, TranscodePayload)
    rt = ctx.runtime
    settings = rt.settings
    encryption = None
    if settings.encryption != "none":
        encryption = EncryptionSpec(rotation_segments=settings.key_rotation_segments)
    with ctx.transaction() as session:
        version, key = service.allocate_version(session=session, asset_id=payload.asset_id)
    prefix = media_version_prefix(payload.asset_id, version)
    try:
        with rt.workdir.local_copy(rt.storage, key) as src, rt.workdir.scratch() as out:
            started = time.monotonic()
            try:
                result = transcode_and_package(
                    source=src,
                    out_dir=out / "media",
                    ladder=payload.ladder,
                    on_progress=ctx.progress,
                    cancel=ctx.cancel,
                    encryption=encryption,
                )
            except TranscodeCancelled as exc:
                raise JobCancelled(str(exc)) from exc
            except InvalidSource as exc:
                raise PermanentJobError(str(exc)) from exc
            elapsed_s = time.monotonic() - started
            if elapsed_s > 0:
                metrics.observe_realtime_factor(result.duration_s / elapsed_s)
            # Upload only while the claim holds (and no cancel came), and prove it held
            # throughout after: otherwise the except below removes what was uploaded.
            ctx.checkpoint()
            if result.keys:
                with ctx.transaction() as session:
                    media_keys.store(
                        session=session,
                        secret=settings.media_key_secret.get_secret_value(),
                        asset_id=payload.asset_id,
                        version=version,
                        keys=result.keys,
                    )
            rt.storage.put_tree(prefix, out / "media")
            ctx.checkpoint()
    except BaseException:
        # Unpublished and ours alone: nothing may be left of it (a KeyboardInterrupt too).
        rt.storage.delete_prefix(prefix)
        raise
    output = TranscodeOutput(
        version=version,
        renditions=[Rendition.model_validate(r, from_attributes=True) for r in result.renditions],
        audio_tracks=[
            AudioTrack.model_validate(a, from_attributes=True) for a in result.audio_tracks
        ],
        encryption=settings.encryption if result.keys else None,
    )
    log.info("asset.version_encoded", asset_id=payload.asset_id, version=version)
    return output.model_dump(mode="json")


def process_asset(ctx: JobContext) -> None:
    """Publish what the transcode child made: the asset's current version switches in
    the transaction that marks it ready; old versions are purged after the grace period.
    Idempotent: publishing the same version again changes nothing."""
    payload = ctx.payload
    assert isinstance(payload, ProcessAssetPayload)
    outputs = [
        TranscodeOutput.model_validate(result)
        for kind, result in ctx.child_results()
        if kind is JobKind.TRANSCODE and result is not None
    ]
    if len(outputs) != 1:
        raise PermanentJobError(f"expected one transcode result, found {len(outputs)}")
    with ctx.transaction() as session:
        previous = service.publish(session=session, asset_id=payload.asset_id, output=outputs[0])
        if previous is not None and previous != outputs[0].version:
            schedule_purge(
                session=session,
                asset_id=payload.asset_id,
                grace_s=ctx.runtime.settings.media_grace_s,
            )
    log.info("asset.published", asset_id=payload.asset_id, version=outputs[0].version)


def schedule_purge(*, session: Session, asset_id: str, grace_s: float) -> Job:
    """Queue the removal of the versions older than the current one, after ``grace_s``
    (players that started on an old version finish it)."""
    return job_service.create_job(
        session=session,
        payload=PurgeMediaPayload(asset_id=asset_id),
        subject_type=service.SUBJECT,
        subject_id=asset_id,
        max_attempts=5,
        priority=200,
        not_before=utcnow() + timedelta(seconds=grace_s),
    )


def purge_media(ctx: JobContext) -> None:
    """Delete every stored version older than the current one (newer ones may be an
    encode in progress), and the pre-versioning layout once a version exists."""
    payload = ctx.payload
    assert isinstance(payload, PurgeMediaPayload)
    with ctx.transaction() as session:
        current = service.summaries(session=session, asset_ids=[payload.asset_id]).get(
            payload.asset_id
        )
    if current is None or current.version is None:
        return
    storage = ctx.runtime.storage
    stored = stored_media(storage, payload.asset_id)
    for version in sorted(stored.versions):
        if version < current.version:
            storage.delete_prefix(media_version_prefix(payload.asset_id, version))
            log.info("asset.version_purged", asset_id=payload.asset_id, version=version)
    for key in stored.unversioned:
        storage.delete(key)
    with ctx.transaction() as session:
        media_keys.delete_versions_below(
            session=session, asset_id=payload.asset_id, version=current.version
        )


def process_gave_up(session: Session, job: Job, reason: str) -> None:
    payload = job.payload
    assert isinstance(payload, ProcessAssetPayload)
    service.mark_failed(session=session, asset_id=payload.asset_id, error=reason)


def register(registry: JobRegistry) -> None:
    registry.register(
        JobKind.PROCESS_ASSET, JobHandler(run=process_asset, on_give_up=process_gave_up)
    )
    registry.register(JobKind.TRANSCODE, JobHandler(run=transcode))
    registry.register(JobKind.PURGE_MEDIA, JobHandler(run=purge_media))
