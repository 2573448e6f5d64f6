"""Migration 0014 keeps what plays today playing: existing titles become published."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, text

from reelstack.db import MIGRATIONS_DIR


def test_existing_titles_become_published_and_downgrade_keeps_them(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url)
    command.upgrade(cfg, "0013")
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO titles (id, kind, title, maturity_level, free, created_at) "
                    "VALUES ('t1', 'movie', 'The Old One', 4, 0, '2024-01-01 00:00:00')"
                )
            )
        command.upgrade(cfg, "0014")
        with engine.connect() as conn:
            row = conn.execute(
                text("SELECT state, sort_title, revision, tags, published_at FROM titles")
            ).one()
        assert (row.state, row.sort_title, row.revision, row.tags) == (
            "published",
            "The Old One",
            1,
            "[]",
        )
        assert row.published_at is not None
        command.downgrade(cfg, "0013")
        with engine.connect() as conn:
            assert conn.execute(text("SELECT id, title FROM titles")).all() == [
                ("t1", "The Old One")
            ]
    finally:
        engine.dispose()
