"""Tables of the scheduler (migration 0002), on the project's declarative base.

- `scheduler_control`: requests from `softbot schedule pause|resume|run-now` that the service polls and
  applies in order; the commands never touch the service's job store.
- `scheduler_job_state`: per job, what the service applied (paused or not, by whom) and its last firing.
- `alerts_sent`: one row per alert mailed, so each is sent once.

APScheduler's own job store is the table `scheduler_jobs`, created and used by the service only.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from common.db import UTCDateTime, utcnow
from common.workqueue.models import Base

JOBSTORE_TABLE = "scheduler_jobs"


class ControlRequestRow(Base):
    """A request to the scheduler service: `pause`, `resume` or `run-now` one job."""

    __tablename__ = "scheduler_control"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    job_id: Mapped[str] = mapped_column(sa.String(64), index=True)
    action: Mapped[str] = mapped_column(sa.String(16))  # pause | resume | run-now
    requested_by: Mapped[str] = mapped_column(sa.String(200))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # None: not applied yet
    outcome: Mapped[str | None] = mapped_column(sa.Text)  # e.g. "paused", "skipped: bot busy ..."
    run_id: Mapped[str | None] = mapped_column(sa.String(80))  # run-now: the run it started


class JobStateRow(Base):
    """What the service applied to one job, and how its last firing went (written by the service only)."""

    __tablename__ = "scheduler_job_state"

    job_id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    paused: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    changed_by: Mapped[str | None] = mapped_column(sa.String(200))
    changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_firing_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_firing: Mapped[str | None] = mapped_column(sa.Text)  # "run <id>: exit 0" | "skipped: <reason>"
    last_run_id: Mapped[str | None] = mapped_column(sa.String(80))


class AlertSentRow(Base):
    """An alert that was mailed (or attempted), keyed so it is sent once: `run-failed:<run-id>`, ..."""

    __tablename__ = "alerts_sent"

    key: Mapped[str] = mapped_column(sa.String(200), primary_key=True)
    subject: Mapped[str] = mapped_column(sa.Text)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    recipients: Mapped[str] = mapped_column(sa.Text)
