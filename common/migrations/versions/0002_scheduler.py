"""The scheduler's tables: control requests, per-job state, alerts sent (common/scheduler/models.py).

APScheduler's job store table (`scheduler_jobs`) is not created here: APScheduler creates and owns it
(the service's alone), so its schema always matches the installed APScheduler.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "scheduler_control",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("job_id", sa.String(64), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("requested_by", sa.String(200), nullable=False),
        sa.Column("requested_at", TS, nullable=False),
        sa.Column("handled_at", TS),
        sa.Column("outcome", sa.Text),
        sa.Column("run_id", sa.String(80)),
    )
    op.create_index("ix_scheduler_control_job_id", "scheduler_control", ["job_id"])
    op.create_table(
        "scheduler_job_state",
        sa.Column("job_id", sa.String(64), primary_key=True),
        sa.Column("paused", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("changed_by", sa.String(200)),
        sa.Column("changed_at", TS),
        sa.Column("last_firing_at", TS),
        sa.Column("last_firing", sa.Text),
        sa.Column("last_run_id", sa.String(80)),
    )
    op.create_table(
        "alerts_sent",
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("sent_at", TS, nullable=False),
        sa.Column("recipients", sa.Text, nullable=False),
    )


def downgrade() -> None:
    for table in ("alerts_sent", "scheduler_job_state", "scheduler_control"):
        op.drop_table(table)
    op.execute("DROP TABLE IF EXISTS scheduler_jobs")
