"""Assets remember the staff account that uploaded them (set to NULL when that
account is deleted: the media stays with the service)

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("assets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("created_by", sa.String(length=32), nullable=True))
        batch_op.create_index(batch_op.f("ix_assets_created_by"), ["created_by"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_assets_created_by_users"),
            "users",
            ["created_by"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("assets", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_assets_created_by_users"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_assets_created_by"))
        batch_op.drop_column("created_by")
