from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from pydantic import BaseModel

from reelstack.catalog.models import AssetRole, TitleKind
from reelstack.ratings import Maturity

__all__ = ["AssetRole", "Maturity", "PlayableTitle", "TitleKind", "TitleOut", "TitlePage"]


@dataclass(frozen=True)
class PlayableTitle:
    id: str
    free: bool
    maturity: Maturity
    main_asset_id: str | None


class TitleOut(BaseModel):
    id: str
    kind: TitleKind
    title: str
    description: str | None
    rating_system: str | None
    rating: str | None
    # 1 kids, 2 older kids, 3 teens, 4 adults (unrated titles are 4).
    maturity_level: Maturity
    free: bool
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
