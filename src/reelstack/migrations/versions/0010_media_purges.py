"""Edge purges: the numbered feed of purge and revoke records that edges poll

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "media_purges",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("asset_id", sa.String(length=32), nullable=False),
        sa.Column("action", sa.Enum("purge", "revoke", name="purge_action"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_media_purges")),
    )
    with op.batch_alter_table("media_purges", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_media_purges_asset_id"), ["asset_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("media_purges", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_media_purges_asset_id"))

    op.drop_table("media_purges")
    sa.Enum(name="purge_action").drop(op.get_bind(), checkfirst=True)
