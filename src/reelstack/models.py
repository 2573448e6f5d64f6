"""Imports every domain's models so metadata (and Alembic) sees all tables."""

from reelstack.assets.models import Asset, AssetStatus
from reelstack.catalog.models import Title, TitleKind
from reelstack.db import Base
from reelstack.jobs.models import Job, JobKind, JobState
from reelstack.playback.models import PlaybackSession

__all__ = [
    "Asset",
    "AssetStatus",
    "Base",
    "Job",
    "JobKind",
    "JobState",
    "PlaybackSession",
    "Title",
    "TitleKind",
]
