"""The demo seed: a generated 1080p clip, ingested once."""

from __future__ import annotations

import tempfile
from pathlib import Path

from rich.console import Console
from sqlalchemy import func, select

from reelstack.config import Settings

DEMO_TITLE = "Reelstack Demo: Test Pattern"


def seed_demo(settings: Settings, *, console: Console) -> str | None:
    """Ingest the demo clip when the catalog is empty; returns the new title id."""
    from reelstack.catalog.models import Title
    from reelstack.db import session_scope
    from reelstack.ingest.service import ingest_file
    from reelstack.media.testclips import make_test_clip
    from reelstack.runtime import build_runtime

    runtime = build_runtime(settings)
    try:
        with session_scope(runtime.sessions) as session:
            if session.scalar(select(func.count()).select_from(Title)):
                console.print("catalog has titles: demo seed skipped")
                return None
        with tempfile.TemporaryDirectory() as tmp:
            console.print("generating the demo clip (30 s, 1920x1080, lavfi) ...")
            clip = make_test_clip(
                Path(tmp) / "demo.mp4", width=1920, height=1080, duration_s=30, crf=18
            )
            result = ingest_file(
                runtime=runtime,
                path=clip,
                title=DEMO_TITLE,
                description="A generated 30-second test pattern with a 440 Hz tone.",
                original_filename="demo.mp4",
            )
        console.print(f"demo title {result.title_id} queued for transcoding (job {result.job_id})")
        return result.title_id
    finally:
        runtime.close()
