"""What the catalog's viewer routes return (admin bodies are in ``admin_schemas``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel

from reelstack.catalog.models import (
    AssetRole,
    CreditRole,
    ScheduleAction,
    ScheduleState,
    TitleKind,
    TitleState,
)
from reelstack.ratings import Maturity

__all__ = [
    "AssetRole",
    "AuditOut",
    "AuditPage",
    "CreditOut",
    "CreditRole",
    "GenreOut",
    "Maturity",
    "PlayableTitle",
    "RevisionOut",
    "ScheduleAction",
    "ScheduleState",
    "SeasonOut",
    "TitleDetail",
    "TitleKind",
    "TitleOut",
    "TitlePage",
    "TitleState",
]


@dataclass(frozen=True)
class PlayableTitle:
    id: str
    free: bool
    maturity: Maturity
    main_asset_id: str | None


class GenreOut(BaseModel):
    slug: str
    name: str


class TitleOut(BaseModel):
    id: str
    kind: TitleKind
    title: str
    # The long synopsis.
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
    slug: str | None = None
    short_synopsis: str | None = None
    # The language of the text fields (the title's default when none asked for exists).
    language: str = "en"
    year: int | None = None
    release_date: date | None = None
    runtime_s: int | None = None
    genres: list[GenreOut] = []
    # Episodes: their series, season and number.
    series_id: str | None = None
    season_number: int | None = None
    episode_number: int | None = None


class CreditOut(BaseModel):
    person_id: str
    name: str
    role: CreditRole
    character: str | None


class SeasonOut(BaseModel):
    id: str
    number: int
    title: str | None
    synopsis: str | None
    year: int | None
    # Published, available episodes, by number.
    episodes: list[TitleOut]


class TitleDetail(TitleOut):
    tags: list[str] = []
    studios: list[str] = []
    original_language: str | None = None
    credits: list[CreditOut] = []
    # Series only: seasons by number, each with its episodes.
    seasons: list[SeasonOut] = []


class TitlePage(BaseModel):
    items: list[TitleOut]
    next_cursor: str | None


class RevisionOut(BaseModel):
    revision: int
    at: datetime
    actor_type: str
    actor_id: str | None
    # The title's metadata as it was after this revision.
    data: dict[str, Any]


class AuditOut(BaseModel):
    id: int
    at: datetime
    # "user" (a staff member), "api_key", "admin_key" (the bootstrap key) or "system".
    actor_type: str
    actor_id: str | None
    action: str
    entity_type: str
    entity_id: str
    title_id: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None


class AuditPage(BaseModel):
    items: list[AuditOut]
    next_cursor: str | None
