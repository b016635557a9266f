"""The work queue: items, documents, events, lookup keys, runs, bot locks (DESIGN.md's full work item schema).

Revision ID: 0001
Revises:
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(JSONB(), "postgresql")
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "work_items",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("queue", sa.String(64), nullable=False),
        sa.Column("reference", sa.String(200), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("failure_kind", sa.String(16)),
        sa.Column("reason_codes", JSON, nullable=False),
        sa.Column("message", sa.Text),
        sa.Column("findings", JSON, nullable=False),
        sa.Column("payload", JSON, nullable=False),
        sa.Column("corrections", JSON, nullable=False),
        sa.Column("source", sa.String(100)),
        sa.Column("channel", sa.String(32)),
        sa.Column("received_at", TS),
        sa.Column("priority", sa.Integer, nullable=False, server_default="0"),
        sa.Column("not_before", TS),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("lease_owner", sa.String(200)),
        sa.Column("lease_expires_at", TS),
        sa.Column("submission_started_at", TS),
        sa.Column("result", JSON),
        sa.Column("result_ref", sa.String(100)),
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.UniqueConstraint("queue", "reference", name="uq_work_items_queue_reference"),
    )
    op.create_index("ix_work_items_pick", "work_items", ["queue", "state", "priority", "id"])
    op.create_index("ix_work_items_result_ref", "work_items", ["result_ref"])

    op.create_table(
        "work_item_documents",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("item_id", sa.Integer, sa.ForeignKey("work_items.id", ondelete="CASCADE"), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("document_type", sa.String(64)),
        sa.Column("filename", sa.Text, nullable=False),
        sa.Column("content_type", sa.String(100), nullable=False),
        sa.Column("declared_content_type", sa.String(200)),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("storage_key", sa.String(200)),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_work_item_documents_item_id", "work_item_documents", ["item_id"])
    op.create_index("ix_work_item_documents_sha256", "work_item_documents", ["sha256"])

    op.create_table(
        "work_item_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("item_id", sa.Integer, sa.ForeignKey("work_items.id", ondelete="CASCADE"), nullable=False),
        sa.Column("run_id", sa.String(80)),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("from_state", sa.String(16)),
        sa.Column("to_state", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(200), nullable=False),
        sa.Column("details", JSON, nullable=False),
        sa.Column("at", TS, nullable=False),
    )
    op.create_index("ix_work_item_events_item_id", "work_item_events", ["item_id"])
    op.create_index("ix_work_item_events_run_id", "work_item_events", ["run_id"])
    op.create_index("ix_work_item_events_at", "work_item_events", ["at"])

    op.create_table(
        "work_item_keys",
        sa.Column("item_id", sa.Integer, sa.ForeignKey("work_items.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("value", sa.String(200), primary_key=True),
    )
    op.create_index("ix_work_item_keys_lookup", "work_item_keys", ["name", "value"])

    op.create_table(
        "runs",
        sa.Column("id", sa.String(80), primary_key=True),
        sa.Column("bot", sa.String(64), nullable=False),
        sa.Column("command", sa.String(32), nullable=False),
        sa.Column("trigger", sa.String(64), nullable=False),
        sa.Column("host", sa.String(200), nullable=False),
        sa.Column("pid", sa.Integer, nullable=False),
        sa.Column("folder", sa.Text, nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("exit_code", sa.Integer),
        sa.Column("counts", JSON, nullable=False),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("ended_at", TS),
    )
    op.create_index("ix_runs_bot", "runs", ["bot"])

    op.create_table(
        "bot_locks",
        sa.Column("bot", sa.String(64), primary_key=True),
        sa.Column("owner", sa.String(200), nullable=False),
        sa.Column("run_id", sa.String(80)),
        sa.Column("acquired_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
    )


def downgrade() -> None:
    for table in ("bot_locks", "runs", "work_item_keys", "work_item_events", "work_item_documents", "work_items"):
        op.drop_table(table)
