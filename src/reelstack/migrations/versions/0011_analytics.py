"""Analytics: player events (QoE beacons) and the views they belong to

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

EVENT_TYPES = (
    "view_start",
    "play_requested",
    "first_frame",
    "playing",
    "pause",
    "seek_start",
    "seek_end",
    "rebuffer_start",
    "rebuffer_end",
    "rendition_change",
    "error",
    "heartbeat",
    "view_end",
)


def upgrade() -> None:
    op.create_table(
        "analytics_views",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("session_id", sa.String(length=32), nullable=False),
        sa.Column("title_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("profile_id", sa.String(length=32), nullable=True),
        sa.Column("device_id", sa.String(length=32), nullable=True),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["playback_sessions.id"],
            name=op.f("fk_analytics_views_session_id_playback_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analytics_views")),
    )
    with op.batch_alter_table("analytics_views", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_analytics_views_session_id"), ["session_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_analytics_views_started_at"), ["started_at"], unique=False
        )
        batch_op.create_index(
            "ix_analytics_views_title_started", ["title_id", "started_at"], unique=False
        )

    op.create_table(
        "analytics_events",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("view_id", sa.String(length=64), nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("type", sa.Enum(*EVENT_TYPES, name="analytics_event_type"), nullable=False),
        sa.Column("ts_ms", sa.BigInteger(), nullable=False),
        sa.Column("playhead_ms", sa.BigInteger(), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.ForeignKeyConstraint(
            ["view_id"],
            ["analytics_views.id"],
            name=op.f("fk_analytics_events_view_id_analytics_views"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_analytics_events")),
        sa.UniqueConstraint("view_id", "event_id", name=op.f("uq_analytics_events_view_id")),
    )


def downgrade() -> None:
    op.drop_table("analytics_events")
    with op.batch_alter_table("analytics_views", schema=None) as batch_op:
        batch_op.drop_index("ix_analytics_views_title_started")
        batch_op.drop_index(batch_op.f("ix_analytics_views_started_at"))
        batch_op.drop_index(batch_op.f("ix_analytics_views_session_id"))

    op.drop_table("analytics_views")
    sa.Enum(name="analytics_event_type").drop(op.get_bind(), checkfirst=True)
