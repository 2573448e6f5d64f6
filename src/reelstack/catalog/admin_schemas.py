"""Bodies and answers of the CMS routes (/v1/admin/catalog). Unknown fields are refused
(422), so a body cannot set what the workflow owns (state, revision)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from reelstack.catalog.localization import LANGUAGE_PATTERN
from reelstack.catalog.schemas import (
    AssetRole,
    CreditRole,
    ScheduleAction,
    ScheduleState,
    TitleKind,
    TitleState,
)

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
LongText = Annotated[str, StringConstraints(max_length=20_000)]
Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$", max_length=200)]
Language = Annotated[str, StringConstraints(pattern=LANGUAGE_PATTERN, max_length=35)]
Tag = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
# IMDb-style ("imdb": "tt0111161"), TMDB-style ("tmdb": "278"), ...: checked per system.
ExternalSystem = Literal["imdb", "tmdb", "tvdb", "eidr"]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TitleText(_In):
    """One language's text fields (any left out fall back to the default language)."""

    title: Text | None = None
    short_synopsis: Annotated[str, StringConstraints(max_length=500)] | None = None
    description: LongText | None = None


class TitleFields(_In):
    """Metadata every kind of title has; on PATCH, only the fields sent change (null
    clears an optional one)."""

    title: Text
    slug: Slug | None = None
    sort_title: Text | None = None
    short_synopsis: Annotated[str, StringConstraints(max_length=500)] | None = None
    description: LongText | None = None
    default_language: Language | None = None
    translations: dict[Language, TitleText] = Field(default_factory=dict, max_length=100)
    original_language: Language | None = None
    release_date: date | None = None
    year: Annotated[int, Field(ge=1870, le=2200)] | None = None
    runtime_s: Annotated[int, Field(ge=0, le=1_000_000)] | None = None
    # Slugs of the managed genre list (GET /v1/admin/catalog/genres).
    genres: list[Slug] = Field(default_factory=list, max_length=20)
    tags: list[Tag] = Field(default_factory=list, max_length=50)
    studios: list[Tag] = Field(default_factory=list, max_length=20)
    external_ids: dict[ExternalSystem, Annotated[str, StringConstraints(max_length=100)]] = Field(
        default_factory=dict
    )
    custom_fields: dict[str, Any] = Field(default_factory=dict, max_length=100)
    # A known system (US-TV, MPAA) and one of its ratings, mapped to the maturity scale.
    rating_system: Annotated[str, StringConstraints(max_length=20)] | None = None
    rating: Annotated[str, StringConstraints(max_length=20)] | None = None
    free: bool = False


class TitleCreate(TitleFields):
    kind: TitleKind = TitleKind.MOVIE
    # Episodes: the season (required) and the number in it (next free one if left out).
    season_id: str | None = None
    episode_number: Annotated[int, Field(ge=0, le=100_000)] | None = None


class EpisodeCreate(TitleFields):
    episode_number: Annotated[int, Field(ge=0, le=100_000)] | None = None


class TitleUpdate(_In):
    title: Text | None = None
    slug: Slug | None = None
    sort_title: Text | None = None
    short_synopsis: Annotated[str, StringConstraints(max_length=500)] | None = None
    description: LongText | None = None
    default_language: Language | None = None
    translations: dict[Language, TitleText] | None = Field(default=None, max_length=100)
    original_language: Language | None = None
    release_date: date | None = None
    year: Annotated[int, Field(ge=1870, le=2200)] | None = None
    runtime_s: Annotated[int, Field(ge=0, le=1_000_000)] | None = None
    genres: list[Slug] | None = Field(default=None, max_length=20)
    tags: list[Tag] | None = Field(default=None, max_length=50)
    studios: list[Tag] | None = Field(default=None, max_length=20)
    external_ids: dict[ExternalSystem, Annotated[str, StringConstraints(max_length=100)]] | None = (
        None
    )
    custom_fields: dict[str, Any] | None = Field(default=None, max_length=100)
    rating_system: Annotated[str, StringConstraints(max_length=20)] | None = None
    rating: Annotated[str, StringConstraints(max_length=20)] | None = None
    free: bool | None = None
    # Episodes: move to another season or number.
    season_id: str | None = None
    episode_number: Annotated[int, Field(ge=0, le=100_000)] | None = None


class AssetLinkOut(BaseModel):
    asset_id: str
    role: AssetRole
    position: int


class TitleAdminOut(BaseModel):
    id: str
    kind: TitleKind
    state: TitleState
    revision: int
    title: str
    slug: str | None
    sort_title: str
    short_synopsis: str | None
    description: str | None
    default_language: str
    translations: dict[str, dict[str, str]]
    original_language: str | None
    release_date: date | None
    year: int | None
    runtime_s: int | None
    genres: list[str]
    tags: list[str]
    studios: list[str]
    external_ids: dict[str, str]
    custom_fields: dict[str, Any]
    rating_system: str | None
    rating: str | None
    maturity_level: int
    free: bool
    series_id: str | None
    season_id: str | None
    episode_number: int | None
    assets: list[AssetLinkOut]
    published_at: datetime | None
    created_at: datetime
    updated_at: datetime | None


class TitleAdminPage(BaseModel):
    items: list[TitleAdminOut]
    next_cursor: str | None


TitleSort = Literal["created_at", "-created_at", "sort_title", "-sort_title"]


class TransitionIn(_In):
    to: TitleState


class BulkIn(_In):
    """Up to 100 titles at once, all or nothing."""

    ids: Annotated[
        list[Annotated[str, StringConstraints(max_length=64)]], Field(min_length=1, max_length=100)
    ]
    action: Literal["transition", "delete"]
    # The target state of a "transition".
    to: TitleState | None = None


class BulkOut(BaseModel):
    action: Literal["transition", "delete"]
    ids: list[str]


class AssetLinkIn(_In):
    asset_id: Annotated[str, StringConstraints(max_length=64)]
    role: AssetRole = AssetRole.TRAILER


class SeasonIn(_In):
    number: Annotated[int, Field(ge=0, le=10_000)]
    title: Text | None = None
    synopsis: LongText | None = None
    translations: dict[Language, dict[Literal["title", "synopsis"], str]] = Field(
        default_factory=dict, max_length=100
    )
    year: Annotated[int, Field(ge=1870, le=2200)] | None = None


class SeasonUpdate(_In):
    number: Annotated[int, Field(ge=0, le=10_000)] | None = None
    title: Text | None = None
    synopsis: LongText | None = None
    translations: dict[Language, dict[Literal["title", "synopsis"], str]] | None = Field(
        default=None, max_length=100
    )
    year: Annotated[int, Field(ge=1870, le=2200)] | None = None


class SeasonAdminOut(BaseModel):
    id: str
    series_id: str
    number: int
    title: str | None
    synopsis: str | None
    translations: dict[str, dict[str, str]]
    year: int | None
    # Ids of its episodes by number (any state).
    episode_ids: list[str]
    created_at: datetime


class GenreIn(_In):
    slug: Slug
    name: Text
    translations: dict[Language, Text] = Field(default_factory=dict, max_length=100)


class GenreUpdate(_In):
    slug: Slug | None = None
    name: Text | None = None
    translations: dict[Language, Text] | None = Field(default=None, max_length=100)


class GenreAdminOut(BaseModel):
    id: str
    slug: str
    name: str
    translations: dict[str, str]


class PersonIn(_In):
    name: Text
    sort_name: Text | None = None
    external_ids: dict[ExternalSystem, Annotated[str, StringConstraints(max_length=100)]] = Field(
        default_factory=dict
    )


class PersonUpdate(_In):
    name: Text | None = None
    sort_name: Text | None = None
    external_ids: dict[ExternalSystem, Annotated[str, StringConstraints(max_length=100)]] | None = (
        None
    )


class PersonOut(BaseModel):
    id: str
    name: str
    sort_name: str | None
    external_ids: dict[str, str]
    created_at: datetime


class PersonPage(BaseModel):
    items: list[PersonOut]
    next_cursor: str | None


class CreditIn(_In):
    person_id: Annotated[str, StringConstraints(max_length=64)]
    role: CreditRole
    # Cast only: the part played.
    character: Text | None = None
    # Order in the credits (appended when left out).
    position: Annotated[int, Field(ge=0, le=100_000)] | None = None


class CreditUpdate(_In):
    role: CreditRole | None = None
    character: Text | None = None
    position: Annotated[int, Field(ge=0, le=100_000)] | None = None


class CreditAdminOut(BaseModel):
    id: str
    title_id: str
    person_id: str
    name: str
    role: CreditRole
    character: str | None
    position: int


class WindowIn(_In):
    """When and where a title can be seen: ``country`` an ISO 3166 alpha-2 code (null:
    everywhere), ``ends_at`` null: open-ended."""

    country: Annotated[str, StringConstraints(min_length=2, max_length=2)] | None = None
    starts_at: AwareDatetime
    ends_at: AwareDatetime | None = None


class WindowUpdate(_In):
    country: Annotated[str, StringConstraints(min_length=2, max_length=2)] | None = None
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None


class WindowOut(BaseModel):
    id: str
    title_id: str
    country: str | None
    starts_at: datetime
    ends_at: datetime | None


class ScheduleIn(_In):
    action: ScheduleAction
    at: AwareDatetime


class ScheduleOut(BaseModel):
    id: str
    title_id: str
    action: ScheduleAction
    at: datetime
    state: ScheduleState
    job_id: str | None
    created_by: str
    error: str | None
    done_at: datetime | None
