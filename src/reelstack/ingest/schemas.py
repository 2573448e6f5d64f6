from __future__ import annotations

from pydantic import BaseModel

from reelstack.catalog.schemas import TitleKind

__all__ = ["TitleKind", "UploadOut"]


class UploadOut(BaseModel):
    title_id: str
    asset_id: str
    # The processing graph's parent job: follow it until the title is playable.
    job_id: str
