"""Catalog CMS: series and seasons, metadata (slug, synopses, dates, genres, people and
credits, external ids, translations), availability windows, the publishing workflow and
its schedule, the audit log and revision history; existing titles become published

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TITLE_STATES = ("draft", "in_review", "published", "unpublished", "archived")


def upgrade() -> None:
    op.create_table(
        "catalog_audit",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_type", sa.String(length=16), nullable=False),
        sa.Column("actor_id", sa.String(length=64), nullable=True),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("entity_type", sa.String(length=32), nullable=False),
        sa.Column("entity_id", sa.String(length=64), nullable=False),
        sa.Column("title_id", sa.String(length=32), nullable=True),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_audit")),
    )
    with op.batch_alter_table("catalog_audit", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_catalog_audit_entity_id"), ["entity_id"], unique=False)
        batch_op.create_index("ix_catalog_audit_title", ["title_id", "id"], unique=False)

    op.create_table(
        "genres",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("slug", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("translations", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_genres")),
        sa.UniqueConstraint("slug", name=op.f("uq_genres_slug")),
    )
    op.create_table(
        "people",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("sort_name", sa.String(length=300), nullable=True),
        sa.Column("external_ids", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_people")),
    )
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_people_name"), ["name"], unique=False)

    op.create_table(
        "availability_windows",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("title_id", sa.String(length=32), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["title_id"],
            ["titles.id"],
            name=op.f("fk_availability_windows_title_id_titles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_availability_windows")),
    )
    with op.batch_alter_table("availability_windows", schema=None) as batch_op:
        batch_op.create_index(
            "ix_availability_windows_title_country", ["title_id", "country"], unique=False
        )

    op.create_table(
        "credits",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("title_id", sa.String(length=32), nullable=False),
        sa.Column("person_id", sa.String(length=32), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "cast", "director", "writer", "producer", "creator", "composer", name="credit_role"
            ),
            nullable=False,
        ),
        sa.Column("character", sa.String(length=300), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_credits_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["title_id"], ["titles.id"], name=op.f("fk_credits_title_id_titles"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credits")),
    )
    with op.batch_alter_table("credits", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_credits_person_id"), ["person_id"], unique=False)
        batch_op.create_index("ix_credits_title_position", ["title_id", "position"], unique=False)

    op.create_table(
        "seasons",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("series_id", sa.String(length=32), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=True),
        sa.Column("synopsis", sa.Text(), nullable=True),
        sa.Column("translations", sa.JSON(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["series_id"],
            ["titles.id"],
            name=op.f("fk_seasons_series_id_titles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_seasons")),
        sa.UniqueConstraint("series_id", "number", name="uq_seasons_series_number"),
    )
    op.create_table(
        "title_external_ids",
        sa.Column("system", sa.String(length=20), nullable=False),
        sa.Column("value", sa.String(length=100), nullable=False),
        sa.Column("title_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["title_id"],
            ["titles.id"],
            name=op.f("fk_title_external_ids_title_id_titles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("system", "value", name=op.f("pk_title_external_ids")),
    )
    with op.batch_alter_table("title_external_ids", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_title_external_ids_title_id"), ["title_id"], unique=False
        )

    op.create_table(
        "title_genres",
        sa.Column("title_id", sa.String(length=32), nullable=False),
        sa.Column("genre_id", sa.String(length=32), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["genre_id"],
            ["genres.id"],
            name=op.f("fk_title_genres_genre_id_genres"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["title_id"],
            ["titles.id"],
            name=op.f("fk_title_genres_title_id_titles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("title_id", "genre_id", name=op.f("pk_title_genres")),
    )
    with op.batch_alter_table("title_genres", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_title_genres_genre_id"), ["genre_id"], unique=False)

    op.create_table(
        "title_revisions",
        sa.Column("title_id", sa.String(length=32), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_type", sa.String(length=16), nullable=False),
        sa.Column("actor_id", sa.String(length=64), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["title_id"],
            ["titles.id"],
            name=op.f("fk_title_revisions_title_id_titles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("title_id", "revision", name=op.f("pk_title_revisions")),
    )
    op.create_table(
        "title_schedules",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("title_id", sa.String(length=32), nullable=False),
        sa.Column(
            "action", sa.Enum("publish", "unpublish", name="schedule_action"), nullable=False
        ),
        sa.Column("run_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "state",
            sa.Enum("pending", "done", "failed", "cancelled", name="schedule_state"),
            nullable=False,
        ),
        sa.Column("job_id", sa.String(length=32), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["title_id"],
            ["titles.id"],
            name=op.f("fk_title_schedules_title_id_titles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_title_schedules")),
    )
    with op.batch_alter_table("title_schedules", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_title_schedules_title_id"), ["title_id"], unique=False)

    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        sa.Enum(*TITLE_STATES, name="title_state").create(bind, checkfirst=True)
        op.execute("ALTER TYPE title_kind ADD VALUE IF NOT EXISTS 'series'")
        op.execute("ALTER TYPE job_kind ADD VALUE IF NOT EXISTS 'catalog_schedule'")
    # Existing titles stay playable: they become published (their defaults go after).
    with op.batch_alter_table("titles", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "state",
                postgresql.ENUM(*TITLE_STATES, name="title_state", create_type=False),
                server_default="published",
                nullable=False,
            )
        )
        batch_op.add_column(sa.Column("sort_title", sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column("slug", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("short_synopsis", sa.String(length=500), nullable=True))
        batch_op.add_column(
            sa.Column("default_language", sa.String(length=35), server_default="en", nullable=False)
        )
        batch_op.add_column(
            sa.Column("translations", sa.JSON(), server_default=sa.text("'{}'"), nullable=False)
        )
        batch_op.add_column(sa.Column("original_language", sa.String(length=35), nullable=True))
        batch_op.add_column(sa.Column("release_date", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("year", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("runtime_s", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("tags", sa.JSON(), server_default=sa.text("'[]'"), nullable=False)
        )
        batch_op.add_column(
            sa.Column("studios", sa.JSON(), server_default=sa.text("'[]'"), nullable=False)
        )
        batch_op.add_column(
            sa.Column("custom_fields", sa.JSON(), server_default=sa.text("'{}'"), nullable=False)
        )
        batch_op.add_column(sa.Column("season_id", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("episode_number", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("revision", sa.Integer(), server_default="1", nullable=False))
        batch_op.add_column(sa.Column("published_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(sa.text("UPDATE titles SET sort_title = title, published_at = created_at"))
    with op.batch_alter_table("titles", schema=None) as batch_op:
        batch_op.alter_column("sort_title", existing_type=sa.String(length=500), nullable=False)
        batch_op.alter_column(
            "state",
            existing_type=postgresql.ENUM(*TITLE_STATES, name="title_state", create_type=False),
            server_default=None,
            existing_nullable=False,
        )
        for column in ("translations", "tags", "studios", "custom_fields"):
            batch_op.alter_column(
                column, existing_type=sa.JSON(), server_default=None, existing_nullable=False
            )
        batch_op.create_index(batch_op.f("ix_titles_season_id"), ["season_id"], unique=False)
        batch_op.create_index("ix_titles_sort_title", ["sort_title", "id"], unique=False)
        batch_op.create_index("ix_titles_state_kind", ["state", "kind"], unique=False)
        batch_op.create_index(batch_op.f("ix_titles_year"), ["year"], unique=False)
        batch_op.create_unique_constraint(
            "uq_titles_season_episode", ["season_id", "episode_number"]
        )
        batch_op.create_unique_constraint(batch_op.f("uq_titles_slug"), ["slug"])
        batch_op.create_foreign_key(
            batch_op.f("fk_titles_season_id_seasons"),
            "seasons",
            ["season_id"],
            ["id"],
            ondelete="CASCADE",
        )


def downgrade() -> None:
    # The older schema has no series kind (their rows stay, as clips) and no schedule job.
    # PostgreSQL cannot drop an enum's values: title_kind and job_kind keep the unused ones.
    op.execute(sa.text("UPDATE titles SET kind = 'clip' WHERE kind = 'series'"))
    op.execute(sa.text("DELETE FROM jobs WHERE kind = 'catalog_schedule'"))
    with op.batch_alter_table("titles", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_titles_season_id_seasons"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("uq_titles_slug"), type_="unique")
        batch_op.drop_constraint("uq_titles_season_episode", type_="unique")
        batch_op.drop_index(batch_op.f("ix_titles_year"))
        batch_op.drop_index("ix_titles_state_kind")
        batch_op.drop_index("ix_titles_sort_title")
        batch_op.drop_index(batch_op.f("ix_titles_season_id"))
        batch_op.drop_column("updated_at")
        batch_op.drop_column("published_at")
        batch_op.drop_column("revision")
        batch_op.drop_column("episode_number")
        batch_op.drop_column("season_id")
        batch_op.drop_column("custom_fields")
        batch_op.drop_column("studios")
        batch_op.drop_column("tags")
        batch_op.drop_column("runtime_s")
        batch_op.drop_column("year")
        batch_op.drop_column("release_date")
        batch_op.drop_column("original_language")
        batch_op.drop_column("translations")
        batch_op.drop_column("default_language")
        batch_op.drop_column("short_synopsis")
        batch_op.drop_column("slug")
        batch_op.drop_column("sort_title")
        batch_op.drop_column("state")

    with op.batch_alter_table("title_schedules", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_title_schedules_title_id"))

    op.drop_table("title_schedules")
    op.drop_table("title_revisions")
    with op.batch_alter_table("title_genres", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_title_genres_genre_id"))

    op.drop_table("title_genres")
    with op.batch_alter_table("title_external_ids", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_title_external_ids_title_id"))

    op.drop_table("title_external_ids")
    op.drop_table("seasons")
    with op.batch_alter_table("credits", schema=None) as batch_op:
        batch_op.drop_index("ix_credits_title_position")
        batch_op.drop_index(batch_op.f("ix_credits_person_id"))

    op.drop_table("credits")
    with op.batch_alter_table("availability_windows", schema=None) as batch_op:
        batch_op.drop_index("ix_availability_windows_title_country")

    op.drop_table("availability_windows")
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_people_name"))

    op.drop_table("people")
    op.drop_table("genres")
    with op.batch_alter_table("catalog_audit", schema=None) as batch_op:
        batch_op.drop_index("ix_catalog_audit_title")
        batch_op.drop_index(batch_op.f("ix_catalog_audit_entity_id"))

    op.drop_table("catalog_audit")
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        for name in ("title_state", "credit_role", "schedule_action", "schedule_state"):
            sa.Enum(name=name).drop(bind, checkfirst=True)
