"""Analytics: watch history, hourly rollups, daily viewers, per-minute concurrency;
views go with their profile; the periodic analytics job kinds

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_JOB_KINDS = ("process_asset", "transcode", "purge_media")
NEW_JOB_KINDS = ("analytics_rollup", "analytics_retention")


def upgrade() -> None:
    op.create_table(
        "analytics_concurrency",
        sa.Column("minute", sa.DateTime(timezone=True), nullable=False),
        sa.Column("title_id", sa.String(length=32), nullable=False),
        sa.Column("viewers", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("minute", "title_id", name=op.f("pk_analytics_concurrency")),
    )
    op.create_table(
        "analytics_rollups",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("hour", sa.DateTime(timezone=True), nullable=False),
        sa.Column("title_id", sa.String(length=32), nullable=False),
        sa.Column("device_type", sa.String(length=32), nullable=False),
        sa.Column("player_name", sa.String(length=64), nullable=False),
        sa.Column("cdn", sa.String(length=64), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("views", sa.Integer(), nullable=False),
        sa.Column("started_views", sa.Integer(), nullable=False),
        sa.Column("completed_views", sa.Integer(), nullable=False),
        sa.Column("exits_before_start", sa.Integer(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("startup_failures", sa.Integer(), nullable=False),
        sa.Column("watch_time_ms", sa.BigInteger(), nullable=False),
        sa.Column("playing_time_ms", sa.BigInteger(), nullable=False),
        sa.Column("rebuffer_ms", sa.BigInteger(), nullable=False),
        sa.Column("rebuffer_count", sa.Integer(), nullable=False),
        sa.Column("startup_ms_sum", sa.BigInteger(), nullable=False),
        sa.Column("startup_histogram", sa.JSON(), nullable=False),
        sa.Column("bitrate_weighted", sa.Float(), nullable=False),
        sa.Column("bitrate_time_ms", sa.BigInteger(), nullable=False),
        sa.Column("upscale_weighted", sa.Float(), nullable=False),
        sa.Column("upscale_time_ms", sa.BigInteger(), nullable=False),
        sa.Column("startup_score_sum", sa.Float(), nullable=False),
        sa.Column("smoothness_score_sum", sa.Float(), nullable=False),
        sa.Column("smoothness_views", sa.Integer(), nullable=False),
        sa.Column("quality_score_sum", sa.Float(), nullable=False),
        sa.Column("quality_views", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analytics_rollups")),
        sa.UniqueConstraint(
            "hour",
            "title_id",
            "device_type",
            "player_name",
            "cdn",
            "country",
            "height",
            name=op.f("uq_analytics_rollups_hour"),
        ),
    )
    with op.batch_alter_table("analytics_rollups", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_analytics_rollups_hour"), ["hour"], unique=False)
        batch_op.create_index("ix_analytics_rollups_title_hour", ["title_id", "hour"], unique=False)

    op.create_table(
        "analytics_daily_viewers",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("title_id", sa.String(length=32), nullable=False),
        sa.Column("viewer", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("profile_id", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["profile_id"],
            ["profiles.id"],
            name=op.f("fk_analytics_daily_viewers_profile_id_profiles"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_analytics_daily_viewers_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "day", "title_id", "viewer", name=op.f("pk_analytics_daily_viewers")
        ),
    )
    with op.batch_alter_table("analytics_daily_viewers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_analytics_daily_viewers_profile_id"), ["profile_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_analytics_daily_viewers_user_id"), ["user_id"], unique=False
        )

    op.create_table(
        "watch_history",
        sa.Column("profile_id", sa.String(length=32), nullable=False),
        sa.Column("title_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("position_ms", sa.BigInteger(), nullable=False),
        sa.Column("duration_ms", sa.BigInteger(), nullable=False),
        sa.Column("event_ts_ms", sa.BigInteger(), nullable=False),
        sa.Column("watched", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["profile_id"],
            ["profiles.id"],
            name=op.f("fk_watch_history_profile_id_profiles"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["title_id"],
            ["titles.id"],
            name=op.f("fk_watch_history_title_id_titles"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_watch_history_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("profile_id", "title_id", name=op.f("pk_watch_history")),
    )
    with op.batch_alter_table("watch_history", schema=None) as batch_op:
        batch_op.create_index(
            "ix_watch_history_profile_updated", ["profile_id", "updated_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_watch_history_user_id"), ["user_id"], unique=False)

    with op.batch_alter_table("analytics_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_analytics_events_received_at"), ["received_at"], unique=False
        )

    # Views of profiles deleted before this revision keep their household only.
    op.execute(
        "UPDATE analytics_views SET profile_id = NULL WHERE profile_id IS NOT NULL"
        " AND profile_id NOT IN (SELECT id FROM profiles)"
    )
    with op.batch_alter_table("analytics_views", schema=None) as batch_op:
        batch_op.add_column(sa.Column("rolled_up_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_analytics_views_profile_id"), ["profile_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_analytics_views_rolled_up_at"), ["rolled_up_at"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_analytics_views_profile_id_profiles"),
            "profiles",
            ["profile_id"],
            ["id"],
            ondelete="CASCADE",
        )

    if op.get_bind().dialect.name == "postgresql":
        for kind in NEW_JOB_KINDS:
            op.execute(f"ALTER TYPE job_kind ADD VALUE IF NOT EXISTS '{kind}'")
    else:
        with op.batch_alter_table("jobs", schema=None) as batch_op:
            batch_op.alter_column(
                "kind",
                existing_type=sa.Enum(*OLD_JOB_KINDS, name="job_kind"),
                type_=sa.Enum(*OLD_JOB_KINDS, *NEW_JOB_KINDS, name="job_kind"),
                existing_nullable=False,
            )


def downgrade() -> None:
    op.execute(
        sa.text("DELETE FROM jobs WHERE kind IN ('analytics_rollup', 'analytics_retention')")
    )
    # PostgreSQL cannot drop an enum's values: job_kind keeps the two unused ones.
    if op.get_bind().dialect.name != "postgresql":
        with op.batch_alter_table("jobs", schema=None) as batch_op:
            batch_op.alter_column(
                "kind",
                existing_type=sa.Enum(*OLD_JOB_KINDS, *NEW_JOB_KINDS, name="job_kind"),
                type_=sa.Enum(*OLD_JOB_KINDS, name="job_kind"),
                existing_nullable=False,
            )

    with op.batch_alter_table("analytics_views", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_analytics_views_profile_id_profiles"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_analytics_views_rolled_up_at"))
        batch_op.drop_index(batch_op.f("ix_analytics_views_profile_id"))
        batch_op.drop_column("rolled_up_at")

    with op.batch_alter_table("analytics_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_analytics_events_received_at"))

    with op.batch_alter_table("watch_history", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_watch_history_user_id"))
        batch_op.drop_index("ix_watch_history_profile_updated")

    op.drop_table("watch_history")
    with op.batch_alter_table("analytics_daily_viewers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_analytics_daily_viewers_user_id"))
        batch_op.drop_index(batch_op.f("ix_analytics_daily_viewers_profile_id"))

    op.drop_table("analytics_daily_viewers")
    with op.batch_alter_table("analytics_rollups", schema=None) as batch_op:
        batch_op.drop_index("ix_analytics_rollups_title_hour")
        batch_op.drop_index(batch_op.f("ix_analytics_rollups_hour"))

    op.drop_table("analytics_rollups")
    op.drop_table("analytics_concurrency")
