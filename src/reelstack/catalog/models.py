"""Catalog titles and the assets they link by role (a later CMS issue adds series,
people, artwork, rails)."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from reelstack.db import Base, enum_type, new_id, utcnow


class TitleKind(enum.StrEnum):
    MOVIE = "movie"
    EPISODE = "episode"
    TRAILER = "trailer"
    CLIP = "clip"


class AssetRole(enum.StrEnum):
    # What plays when a viewer presses play.
    MAIN = "main"
    TRAILER = "trailer"
    EXTRA = "extra"


class Title(Base):
    __tablename__ = "titles"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    kind: Mapped[TitleKind] = mapped_column(
        enum_type(TitleKind, "title_kind"), default=TitleKind.MOVIE
    )
    title: Mapped[str] = mapped_column(String(500))
    description: Mapped[str | None] = mapped_column(Text)
    # Content rating in a known system (reelstack.ratings: "US-TV", "MPAA").
    rating_system: Mapped[str | None] = mapped_column(String(20))
    rating: Mapped[str | None] = mapped_column(String(20))
    # The rating on the one maturity scale (1 kids .. 4 adults); unrated titles are 4.
    maturity_level: Mapped[int] = mapped_column(Integer, default=4)
    # Free titles play for any signed-in household, subscribed or not.
    free: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


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
