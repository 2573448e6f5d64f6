"""The spine: general job rows (typed payload, subject, parent, priority, not_before),
versioned asset media, titles linking assets by role

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25

Jobs are rebuilt: finished jobs are kept as history (as ``transcode`` jobs of their
asset); unfinished ones are replaced by a fresh processing graph for their asset. Assets
that were ready in the unversioned layout are queued for a re-transcode into version 1.
Their old unversioned files stay until a later re-publish schedules a purge (a first
publish schedules none).
"""

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ENUM

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JOB_KINDS = ("process_asset", "transcode", "purge_media")
JOB_STATES = ("waiting", "queued", "running", "succeeded", "failed", "cancelled")
TERMINAL = ("succeeded", "failed", "cancelled")


def _jobs_table() -> None:
    op.create_table(
        "jobs",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("kind", ENUM(*JOB_KINDS, name="job_kind", create_type=False), nullable=False),
        sa.Column("state", ENUM(*JOB_STATES, name="job_state", create_type=False), nullable=False),
        sa.Column("subject_type", sa.String(length=32), nullable=False),
        sa.Column("subject_id", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("parent_id", sa.String(length=32), nullable=True),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("not_before", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("progress", sa.Double(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("cancel_requested", sa.Boolean(), nullable=False),
        sa.Column("worker", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["jobs.id"], name=op.f("fk_jobs_parent_id_jobs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs")),
    )
    op.create_index("ix_jobs_claim", "jobs", ["state", "priority", "created_at"], unique=False)
    op.create_index(op.f("ix_jobs_parent_id"), "jobs", ["parent_id"], unique=False)
    op.create_index(op.f("ix_jobs_state"), "jobs", ["state"], unique=False)
    op.create_index(op.f("ix_jobs_subject_id"), "jobs", ["subject_id"], unique=False)


def upgrade() -> None:
    bind = op.get_bind()
    old_jobs = bind.execute(sa.text("SELECT * FROM jobs")).mappings().all()
    op.drop_index(op.f("ix_jobs_state"), table_name="jobs")
    op.drop_index(op.f("ix_jobs_asset_id"), table_name="jobs")
    op.drop_table("jobs")
    if bind.dialect.name == "postgresql":
        # New value sets: drop and create (a value added by ALTER TYPE could not be used
        # in this same transaction, and the rows below use them).
        op.execute("DROP TYPE job_kind")
        op.execute("DROP TYPE job_state")
        ENUM(*JOB_KINDS, name="job_kind").create(bind)
        ENUM(*JOB_STATES, name="job_state").create(bind)
    _jobs_table()

    with op.batch_alter_table("assets") as batch:
        batch.add_column(sa.Column("version", sa.Integer(), nullable=True))
        batch.add_column(
            sa.Column("next_version", sa.Integer(), nullable=False, server_default=sa.text("1"))
        )
        batch.drop_column("probe")
        batch.drop_column("audio_channels")
    with op.batch_alter_table("assets") as batch:
        batch.alter_column("next_version", server_default=None)

    op.create_table(
        "title_assets",
        sa.Column("title_id", sa.String(length=32), nullable=False),
        sa.Column("asset_id", sa.String(length=32), nullable=False),
        sa.Column("role", sa.Enum("main", "trailer", "extra", name="asset_role"), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["asset_id"],
            ["assets.id"],
            name=op.f("fk_title_assets_asset_id_assets"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["title_id"],
            ["titles.id"],
            name=op.f("fk_title_assets_title_id_titles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("title_id", "asset_id", name=op.f("pk_title_assets")),
    )
    op.create_index(op.f("ix_title_assets_asset_id"), "title_assets", ["asset_id"], unique=False)
    now = datetime.now(UTC)
    links = bind.execute(
        sa.text("SELECT id, asset_id FROM titles WHERE asset_id IS NOT NULL")
    ).all()
    title_assets = sa.table(
        "title_assets",
        sa.column("title_id"),
        sa.column("asset_id"),
        sa.column("role"),
        sa.column("position"),
        sa.column("created_at", sa.DateTime(timezone=True)),
    )
    if links:
        op.bulk_insert(
            title_assets,
            [
                {"title_id": t, "asset_id": a, "role": "main", "position": 0, "created_at": now}
                for t, a in links
            ],
        )
    with op.batch_alter_table("titles") as batch:
        batch.drop_index("ix_titles_asset_id")
        batch.drop_constraint("fk_titles_asset_id_assets", type_="foreignkey")
        batch.drop_column("asset_id")

    _migrate_jobs(bind, old_jobs, now)


def _migrate_jobs(bind: sa.Connection, old_jobs: Sequence[sa.RowMapping], now: datetime) -> None:
    jobs = sa.table(
        "jobs",
        *(
            sa.column(c)
            for c in (
                "id",
                "kind",
                "state",
                "subject_type",
                "subject_id",
                "result",
                "parent_id",
                "priority",
                "attempts",
                "max_attempts",
                "progress",
                "error",
                "cancel_requested",
                "worker",
            )
        ),
        sa.column("payload", sa.JSON()),
        *(
            sa.column(c, sa.DateTime(timezone=True))
            for c in ("not_before", "created_at", "started_at", "finished_at", "heartbeat_at")
        ),
    )
    rows = []
    for job in old_jobs:
        if job["state"] not in TERMINAL:
            continue
        rows.append(
            {
                **{k: job[k] for k in ("id", "state", "attempts", "max_attempts", "progress")},
                **{k: job[k] for k in ("error", "worker", "created_at", "started_at")},
                **{k: job[k] for k in ("finished_at", "heartbeat_at")},
                "kind": "transcode",
                "subject_type": "asset",
                "subject_id": job["asset_id"],
                "payload": {
                    "kind": "transcode",
                    "asset_id": job["asset_id"],
                    "ladder": job["ladder"],
                },
                "result": None,
                "parent_id": None,
                "priority": 100,
                "not_before": job["created_at"],
                "cancel_requested": False,
            }
        )
    ladders = {j["asset_id"]: j["ladder"] for j in old_jobs}
    for (asset_id,) in bind.execute(
        sa.text("SELECT id FROM assets WHERE status IN ('ready', 'processing')")
    ).all():
        parent = uuid.uuid4().hex
        base = {
            "subject_type": "asset",
            "subject_id": asset_id,
            "result": None,
            "attempts": 0,
            "max_attempts": 3,
            "progress": 0.0,
            "error": None,
            "cancel_requested": False,
            "worker": None,
            "not_before": now,
            "created_at": now,
            "started_at": None,
            "finished_at": None,
            "heartbeat_at": None,
        }
        rows.append(
            {
                **base,
                "id": parent,
                "kind": "process_asset",
                "state": "waiting",
                "payload": {"kind": "process_asset", "asset_id": asset_id},
                "parent_id": None,
                "priority": 50,
            }
        )
        rows.append(
            {
                **base,
                "id": uuid.uuid4().hex,
                "kind": "transcode",
                "state": "queued",
                "payload": {
                    "kind": "transcode",
                    "asset_id": asset_id,
                    "ladder": ladders.get(asset_id, "default"),
                },
                "parent_id": parent,
                "priority": 100,
            }
        )
    if rows:
        # Parents first: the children's foreign key points at them.
        rows.sort(key=lambda r: r["parent_id"] is not None)
        op.bulk_insert(jobs, rows)
    bind.execute(
        sa.text(
            "UPDATE assets SET status = 'processing', renditions = '[]', audio_tracks = '[]' "
            "WHERE status = 'ready'"
        )
    )


def downgrade() -> None:
    raise NotImplementedError("0003 rebuilds the job table: restore a backup to go back")
