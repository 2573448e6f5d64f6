"""Catalog rows: titles (movies, series, episodes, trailers, clips), seasons, the assets
titles link by role, genres, people and credits, external ids, availability windows,
the publishing schedule, and the audit log and revision history of the CMS.

An episode is a title (it plays: it links its assets like a movie) that belongs to
exactly one season; a season belongs to one series title.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from reelstack.db import Base, enum_type, new_id, utcnow

# SQLite makes only an INTEGER PRIMARY KEY an auto-incrementing row id.
_SEQ = BigInteger().with_variant(Integer(), "sqlite")


class TitleKind(enum.StrEnum):
    MOVIE = "movie"
    # Has seasons, which have the episodes; a series itself plays nothing (its trailer
    # and extras are linked by role).
    SERIES = "series"
    EPISODE = "episode"
    TRAILER = "trailer"
    CLIP = "clip"


class TitleState(enum.StrEnum):
    """The publishing workflow (transitions in ``catalog.workflow``): only published
    titles reach viewers."""

    DRAFT = "draft"
    IN_REVIEW = "in_review"
    PUBLISHED = "published"
    UNPUBLISHED = "unpublished"
    ARCHIVED = "archived"


class AssetRole(enum.StrEnum):
    # What plays when a viewer presses play.
    MAIN = "main"
    TRAILER = "trailer"
    EXTRA = "extra"


class CreditRole(enum.StrEnum):
    CAST = "cast"
    DIRECTOR = "director"
    WRITER = "writer"
    PRODUCER = "producer"
    CREATOR = "creator"
    COMPOSER = "composer"


class ScheduleAction(enum.StrEnum):
    PUBLISH = "publish"
    UNPUBLISH = "unpublish"


class ScheduleState(enum.StrEnum):
    PENDING = "pending"
    DONE = "done"
    # The title's state did not allow the transition when the time came.
    FAILED = "failed"
    CANCELLED = "cancelled"


class Title(Base):
    __tablename__ = "titles"
    __table_args__ = (
        # Episode numbers are unique within a season (NULLs, non-episodes, never clash).
        UniqueConstraint("season_id", "episode_number", name="uq_titles_season_episode"),
        Index("ix_titles_state_kind", "state", "kind"),
        Index("ix_titles_sort_title", "sort_title", "id"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    kind: Mapped[TitleKind] = mapped_column(
        enum_type(TitleKind, "title_kind"), default=TitleKind.MOVIE
    )
    state: Mapped[TitleState] = mapped_column(
        enum_type(TitleState, "title_state"), default=TitleState.DRAFT
    )
    title: Mapped[str] = mapped_column(String(500))
    sort_title: Mapped[str] = mapped_column(String(500))
    # Unique when set; titles made outside the CMS (uploads) may have none.
    slug: Mapped[str | None] = mapped_column(String(200), unique=True)
    short_synopsis: Mapped[str | None] = mapped_column(String(500))
    # The long synopsis.
    description: Mapped[str | None] = mapped_column(Text)
    # The language of the text columns above; ``translations`` holds the others:
    # {"fr": {"title": ..., "short_synopsis": ..., "description": ...}}.
    default_language: Mapped[str] = mapped_column(String(35), default="en", server_default="en")
    translations: Mapped[dict[str, dict[str, str]]] = mapped_column(JSON, default=dict)
    original_language: Mapped[str | None] = mapped_column(String(35))
    release_date: Mapped[date | None] = mapped_column(Date)
    year: Mapped[int | None] = mapped_column(Integer, index=True)
    runtime_s: Mapped[int | None] = mapped_column(Integer)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    studios: Mapped[list[str]] = mapped_column(JSON, default=list)
    custom_fields: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Content rating in a known system (reelstack.ratings: "US-TV", "MPAA").
    rating_system: Mapped[str | None] = mapped_column(String(20))
    rating: Mapped[str | None] = mapped_column(String(20))
    # The rating on the one maturity scale (1 kids .. 4 adults); unrated titles are 4.
    maturity_level: Mapped[int] = mapped_column(Integer, default=4)
    # Free titles play for any signed-in household, subscribed or not.
    free: Mapped[bool] = mapped_column(Boolean, default=False)
    # Episodes only: their season and number in it.
    # use_alter: titles and seasons refer to each other (a series has seasons).
    season_id: Mapped[str | None] = mapped_column(
        ForeignKey("seasons.id", ondelete="CASCADE", use_alter=True), index=True
    )
    episode_number: Mapped[int | None] = mapped_column(Integer)
    # Bumped by every metadata change (the revision history's numbering).
    revision: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    published_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[datetime | None] = mapped_column()


class Season(Base):
    __tablename__ = "seasons"
    __table_args__ = (UniqueConstraint("series_id", "number", name="uq_seasons_series_number"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    series_id: Mapped[str] = mapped_column(ForeignKey("titles.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str | None] = mapped_column(String(500))
    synopsis: Mapped[str | None] = mapped_column(Text)
    # {"fr": {"title": ..., "synopsis": ...}}: as Title.translations.
    translations: Mapped[dict[str, dict[str, str]]] = mapped_column(JSON, default=dict)
    year: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column()


class TitleAsset(Base):
    """One asset linked to a title in a role; a title has at most one main asset."""

    __tablename__ = "title_assets"

    title_id: Mapped[str] = mapped_column(
        ForeignKey("titles.id", ondelete="CASCADE"), primary_key=True
    )
    asset_id: Mapped[str] = mapped_column(
        ForeignKey("assets.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    role: Mapped[AssetRole] = mapped_column(enum_type(AssetRole, "asset_role"))
    # Order among the title's assets of one role (trailers, extras).
    position: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Genre(Base):
    """The managed list of genres: titles name genres by slug, unknown ones are refused."""

    __tablename__ = "genres"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    # {"fr": "Comédie"}
    translations: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TitleGenre(Base):
    __tablename__ = "title_genres"

    title_id: Mapped[str] = mapped_column(
        ForeignKey("titles.id", ondelete="CASCADE"), primary_key=True
    )
    genre_id: Mapped[str] = mapped_column(
        ForeignKey("genres.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)


class Person(Base):
    __tablename__ = "people"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(300), index=True)
    sort_name: Mapped[str | None] = mapped_column(String(300))
    external_ids: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Credit(Base):
    """A person's part in a title: cast (with the character) or crew."""

    __tablename__ = "credits"
    __table_args__ = (Index("ix_credits_title_position", "title_id", "position"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    title_id: Mapped[str] = mapped_column(ForeignKey("titles.id", ondelete="CASCADE"))
    person_id: Mapped[str] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    role: Mapped[CreditRole] = mapped_column(enum_type(CreditRole, "credit_role"))
    character: Mapped[str | None] = mapped_column(String(300))
    position: Mapped[int] = mapped_column(Integer, default=0)


class ExternalId(Base):
    """A title's id in another catalog (IMDb "tt0111161", TMDB "278"): one title per id."""

    __tablename__ = "title_external_ids"

    system: Mapped[str] = mapped_column(String(20), primary_key=True)
    value: Mapped[str] = mapped_column(String(100), primary_key=True)
    title_id: Mapped[str] = mapped_column(ForeignKey("titles.id", ondelete="CASCADE"), index=True)


class AvailabilityWindow(Base):
    """When and where a title may be seen: from ``starts_at`` until ``ends_at`` (open
    when None), in ``country`` (ISO 3166 alpha-2; None: everywhere). A title without
    windows is available everywhere, always (``catalog.availability``)."""

    __tablename__ = "availability_windows"
    __table_args__ = (Index("ix_availability_windows_title_country", "title_id", "country"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    title_id: Mapped[str] = mapped_column(ForeignKey("titles.id", ondelete="CASCADE"))
    country: Mapped[str | None] = mapped_column(String(2))
    starts_at: Mapped[datetime] = mapped_column()
    ends_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TitleSchedule(Base):
    """A publish or unpublish planned for a time; a ``catalog_schedule`` job fires it."""

    __tablename__ = "title_schedules"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    title_id: Mapped[str] = mapped_column(ForeignKey("titles.id", ondelete="CASCADE"), index=True)
    action: Mapped[ScheduleAction] = mapped_column(enum_type(ScheduleAction, "schedule_action"))
    run_at: Mapped[datetime] = mapped_column()
    state: Mapped[ScheduleState] = mapped_column(
        enum_type(ScheduleState, "schedule_state"), default=ScheduleState.PENDING
    )
    job_id: Mapped[str | None] = mapped_column(String(32))
    # Who planned it ("user:<id>", "api_key:<id>", "admin_key").
    created_by: Mapped[str] = mapped_column(String(64))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column()


class AuditEntry(Base):
    """Who changed what in the catalog and when, with the entity before and after.

    No foreign keys: the log outlives what it describes."""

    __tablename__ = "catalog_audit"
    __table_args__ = (Index("ix_catalog_audit_title", "title_id", "id"),)

    id: Mapped[int] = mapped_column(_SEQ, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    # "user", "api_key", "admin_key" or "system" (the scheduler), and its id.
    actor_type: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    entity_type: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[str] = mapped_column(String(64), index=True)
    # The title the change concerns (a season's series, a credit's title), if any.
    title_id: Mapped[str | None] = mapped_column(String(32))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class TitleRevision(Base):
    """A snapshot of a title's metadata after each change (``Title.revision``)."""

    __tablename__ = "title_revisions"

    title_id: Mapped[str] = mapped_column(
        ForeignKey("titles.id", ondelete="CASCADE"), primary_key=True
    )
    revision: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_type: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[str | None] = mapped_column(String(64))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
