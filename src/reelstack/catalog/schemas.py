from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel

from reelstack.catalog.models import TitleKind


class TitleOut(BaseModel):
    id: str
    kind: TitleKind
    title: str
    description: str | None
    # "ready" when playable; otherwise the asset's state or "no_media".
    status: Literal["processing", "ready", "failed", "no_media"]
    duration_s: float | None
    poster_url: str | None
    created_at: datetime


class TitlePage(BaseModel):
    items: list[TitleOut]
    next_cursor: str | None
