from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel

from reelstack.catalog.models import AssetRole, TitleKind

__all__ = ["AssetRole", "TitleKind", "TitleOut", "TitlePage"]


class TitleOut(BaseModel):
    id: str
    kind: TitleKind
    title: str
    description: str | None
    # "ready" when playable; otherwise the main asset's state or "no_media".
    status: Literal["processing", "ready", "failed", "no_media"]
    duration_s: float | None
    # BCP-47 codes of the audio tracks, in the order players offer them.
    audio_languages: list[str]
    poster_url: str | None
    created_at: datetime


class TitlePage(BaseModel):
    items: list[TitleOut]
    next_cursor: str | None
