"""Tables of the work queue (DESIGN.md, "The way of a work item").

The first Alembic migration creates exactly these; later changes add
migrations. A work item is one unit of work of one queue (bot), keyed by a
reference unique per queue; every state change is a `WorkItemEvent` row.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from common.db import UTCDateTime, utcnow

JSONType = sa.JSON().with_variant(JSONB(), "postgresql")


class Base(DeclarativeBase):
    pass


class WorkItemRow(Base):
    """One work item. `state` is one of common.workqueue.State."""

    __tablename__ = "work_items"
    __table_args__ = (
        sa.UniqueConstraint("queue", "reference", name="uq_work_items_queue_reference"),
        sa.Index("ix_work_items_pick", "queue", "state", "priority", "id"),
    )

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    queue: Mapped[str] = mapped_column(sa.String(64))
    reference: Mapped[str] = mapped_column(sa.String(200))
    state: Mapped[str] = mapped_column(sa.String(16))
    failure_kind: Mapped[str | None] = mapped_column(sa.String(16))  # business | system
    reason_codes: Mapped[list[str]] = mapped_column(JSONType, default=list)
    message: Mapped[str | None] = mapped_column(sa.Text)  # the main reason, for a human
    findings: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)  # the raw form as received
    corrections: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)  # a caseworker's, by field
    source: Mapped[str | None] = mapped_column(sa.String(100))  # configured source name
    channel: Mapped[str | None] = mapped_column(sa.String(32))  # bot-defined, e.g. e-formulier / e-mail
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    priority: Mapped[int] = mapped_column(sa.Integer, default=0)  # higher first
    not_before: Mapped[datetime | None] = mapped_column(UTCDateTime)  # retry backoff
    attempts: Mapped[int] = mapped_column(sa.Integer, default=0)
    lease_owner: Mapped[str | None] = mapped_column(sa.String(200))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    submission_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # exactly-once marker
    result: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    result_ref: Mapped[str | None] = mapped_column(sa.String(100), index=True)  # e.g. the zaak number
    version: Mapped[int] = mapped_column(sa.Integer, default=1)  # bumped on every change (stale checks)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DocumentRow(Base):
    """A file belonging to a work item: the raw input (`role="raw"`) or an attachment.

    Bytes live in the content-addressed store (`storage_key`); `filename` is the
    citizen's own name, kept only as data.
    """

    __tablename__ = "work_item_documents"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    item_id: Mapped[int] = mapped_column(sa.ForeignKey("work_items.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(sa.String(16))  # raw | attachment
    document_type: Mapped[str | None] = mapped_column(sa.String(64))
    filename: Mapped[str] = mapped_column(sa.Text)
    content_type: Mapped[str] = mapped_column(sa.String(100))  # sniffed from the bytes
    declared_content_type: Mapped[str | None] = mapped_column(sa.String(200))
    size: Mapped[int] = mapped_column(sa.BigInteger)
    sha256: Mapped[str] = mapped_column(sa.String(64), index=True)
    storage_key: Mapped[str | None] = mapped_column(sa.String(200))  # None once purged
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class EventRow(Base):
    """One state change (or note) of a work item: the audit trail."""

    __tablename__ = "work_item_events"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    item_id: Mapped[int] = mapped_column(sa.ForeignKey("work_items.id", ondelete="CASCADE"), index=True)
    run_id: Mapped[str | None] = mapped_column(sa.String(80), index=True)
    actor: Mapped[str] = mapped_column(sa.String(200))  # runner id or person
    from_state: Mapped[str | None] = mapped_column(sa.String(16))
    to_state: Mapped[str] = mapped_column(sa.String(16))
    reason: Mapped[str] = mapped_column(sa.String(200))
    details: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class KeyRow(Base):
    """A lookup key of a work item (e.g. `bsn`, `month`), set by the bot, for duplicate checks."""

    __tablename__ = "work_item_keys"
    __table_args__ = (sa.Index("ix_work_item_keys_lookup", "name", "value"),)

    item_id: Mapped[int] = mapped_column(sa.ForeignKey("work_items.id", ondelete="CASCADE"), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    value: Mapped[str] = mapped_column(sa.String(200), primary_key=True)


class RunRow(Base):
    """One run of a bot (run, intake, worker, scheduled firing)."""

    __tablename__ = "runs"

    id: Mapped[str] = mapped_column(sa.String(80), primary_key=True)
    bot: Mapped[str] = mapped_column(sa.String(64), index=True)
    command: Mapped[str] = mapped_column(sa.String(32))  # run | intake | worker
    trigger: Mapped[str] = mapped_column(sa.String(64))  # cli | scheduler:<job id>
    host: Mapped[str] = mapped_column(sa.String(200))
    pid: Mapped[int] = mapped_column(sa.Integer)
    folder: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[str] = mapped_column(sa.String(32))  # running | completed | failed | crashed
    exit_code: Mapped[int | None] = mapped_column(sa.Integer)
    counts: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class BotLockRow(Base):
    """The run lock of one bot: held by one run at a time, with a heartbeat so a crash frees it."""

    __tablename__ = "bot_locks"

    bot: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    owner: Mapped[str] = mapped_column(sa.String(200))
    run_id: Mapped[str | None] = mapped_column(sa.String(80))
    acquired_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
