"""The transcode job for an asset: source -> ladder -> CMAF + HLS + DASH -> storage."""

from __future__ import annotations

import dataclasses
import threading
from typing import Any

from reelstack.assets import service
from reelstack.db import session_scope
from reelstack.jobs.errors import JobCancelled, PermanentJobError
from reelstack.jobs.models import Job
from reelstack.jobs.runner import JobHandler, ProgressFn
from reelstack.media.errors import InvalidSource, TranscodeCancelled
from reelstack.media.package import transcode_and_package
from reelstack.runtime import Runtime
from reelstack.storage import media_prefix


def transcode_asset(
    runtime: Runtime, job: Job, on_progress: ProgressFn, cancel: threading.Event
) -> None:
    """Package the asset's source into a staging dir, then publish it in one swap.

    Nothing is published until FFmpeg and the manifests have all succeeded, so a failure
    or a cancel leaves no partial output in storage (the staging dir is removed).
    """
    with session_scope(runtime.sessions) as session:
        # A retried job's asset shows as processing again until this attempt ends.
        key = service.mark_processing(session=session, asset_id=job.asset_id).source_key
    with runtime.storage.local_path(key) as src, runtime.storage.staging_dir() as out:
        try:
            result = transcode_and_package(
                source=src, out_dir=out, ladder=job.ladder, on_progress=on_progress, cancel=cancel
            )
        except TranscodeCancelled as exc:
            raise JobCancelled(str(exc)) from exc
        except InvalidSource as exc:
            raise PermanentJobError(str(exc)) from exc
        runtime.storage.put_tree(media_prefix(job.asset_id), out)
    renditions: list[dict[str, Any]] = [dataclasses.asdict(r) for r in result.renditions]
    audio: list[dict[str, Any]] = [dataclasses.asdict(a) for a in result.audio_tracks]
    with session_scope(runtime.sessions) as session:
        service.mark_ready(
            session=session, asset_id=job.asset_id, renditions=renditions, audio_tracks=audio
        )


def transcode_gave_up(runtime: Runtime, job: Job, error: str) -> None:
    with session_scope(runtime.sessions) as session:
        service.mark_failed(session=session, asset_id=job.asset_id, error=error)


TRANSCODE_HANDLER = JobHandler(run=transcode_asset, on_give_up=transcode_gave_up)
