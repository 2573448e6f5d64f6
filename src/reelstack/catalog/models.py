"""Catalog titles (a later CMS issue adds series, people, artwork, rails)."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from reelstack.db import Base, enum_type, new_id, utcnow


class TitleKind(enum.StrEnum):
    MOVIE = "movie"
    EPISODE = "episode"
    TRAILER = "trailer"
    CLIP = "clip"


class Title(Base):
    __tablename__ = "titles"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    kind: Mapped[TitleKind] = mapped_column(
        enum_type(TitleKind, "title_kind"), default=TitleKind.MOVIE
    )
    title: Mapped[str] = mapped_column(String(500))
    description: Mapped[str | None] = mapped_column(Text)
    asset_id: Mapped[str | None] = mapped_column(
        ForeignKey("assets.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
