"""The database side of the scheduler that commands and the service share.

Commands (`softbot schedule pause|resume|run-now`) only add rows to `scheduler_control`; the
service polls them, applies them to its own job store, and writes the outcome and the job's state
(`scheduler_job_state`). Last runs come from the `runs` table (trigger `scheduler:<job-id>`). The
one-scheduler-per-deployment lease is a row in `bot_locks` named `SERVICE_LOCK`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from common.db import Database, utcnow
from common.locks import holder
from common.scheduler.models import ControlRequestRow, JobStateRow
from common.scheduler.schedules import trigger_name
from common.workqueue.models import RunRow

SERVICE_LOCK = "(scheduler)"  # parentheses: never a bot's name, so never a bot's run lock
ACTIONS = ("pause", "resume", "run-now")


def add_request(db: Database, job_id: str, action: str, actor: str, now: datetime | None = None) -> int:
    """Queue `action` for `job_id`; returns the request id. Raises ValueError for an unknown action."""
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r} (one of {', '.join(ACTIONS)})")
    with db.session() as s:
        row = ControlRequestRow(job_id=job_id, action=action, requested_by=actor, requested_at=now or utcnow())
        s.add(row)
        s.flush()
        return row.id


def pending_requests(db: Database) -> list[ControlRequestRow]:
    """Requests not applied yet, oldest first."""
    with db.session() as s:
        rows = s.scalars(sa.select(ControlRequestRow).where(ControlRequestRow.handled_at.is_(None))
                         .order_by(ControlRequestRow.id)).all()
        s.expunge_all()
        return list(rows)


def get_request(db: Database, request_id: int) -> ControlRequestRow | None:
    """One request as it stands now."""
    with db.session() as s:
        row = s.get(ControlRequestRow, request_id)
        if row is not None:
            s.expunge(row)
        return row


def finish_request(db: Database, request_id: int, outcome: str, *, run_id: str | None = None,
                   now: datetime | None = None) -> None:
    """Record that the service handled request `request_id`, and how."""
    with db.session() as s:
        s.execute(sa.update(ControlRequestRow).where(ControlRequestRow.id == request_id)
                  .values(handled_at=now or utcnow(), outcome=outcome, run_id=run_id))


def job_states(db: Database) -> dict[str, JobStateRow]:
    """Every job's applied state, by job id."""
    with db.session() as s:
        rows = s.scalars(sa.select(JobStateRow)).all()
        s.expunge_all()
        return {row.job_id: row for row in rows}


def ensure_states(db: Database, job_ids: Iterable[str]) -> None:
    """Give every job a state row (not paused), so later writes from several threads are plain updates."""
    with db.session() as s:
        known = set(s.scalars(sa.select(JobStateRow.job_id)).all())
        for job_id in job_ids:
            if job_id not in known:
                s.add(JobStateRow(job_id=job_id, paused=False))


def set_paused(db: Database, job_id: str, paused: bool, by: str, now: datetime) -> None:
    """Store the applied pause state of `job_id` (service only)."""
    with db.session() as s:
        row = s.get(JobStateRow, job_id)
        if row is None:
            s.add(JobStateRow(job_id=job_id, paused=paused, changed_by=by, changed_at=now))
        else:
            row.paused, row.changed_by, row.changed_at = paused, by, now


def record_firing(db: Database, job_id: str, at: datetime, text: str, run_id: str | None = None) -> None:
    """Store how the last firing of `job_id` went: `run <id>: exit 0` or `skipped: <reason>` (service only)."""
    with db.session() as s:
        row = s.get(JobStateRow, job_id)
        if row is None:
            s.add(JobStateRow(job_id=job_id, paused=False, last_firing_at=at, last_firing=text, last_run_id=run_id))
        else:
            row.last_firing_at, row.last_firing = at, text
            if run_id is not None:
                row.last_run_id = run_id


def last_runs(db: Database, job_ids: Iterable[str]) -> dict[str, RunRow]:
    """The newest run each job started (runs with trigger `scheduler:<job-id>`), by job id."""
    found: dict[str, RunRow] = {}
    with db.session() as s:
        for job_id in job_ids:
            row = s.scalars(sa.select(RunRow).where(RunRow.trigger == trigger_name(job_id))
                            .order_by(RunRow.started_at.desc()).limit(1)).first()
            if row is not None:
                s.expunge(row)
                found[job_id] = row
    return found


@dataclass(frozen=True)
class ServiceStatus:
    """Whether a scheduler service holds the lease: `owner` is `scheduler:<host>:<pid>:<token>`."""

    running: bool
    owner: str | None = None
    since: datetime | None = None
    lease_until: datetime | None = None

    def describe(self) -> str:
        if self.running:
            return (f"running ({self.owner}, since {self.since:%Y-%m-%d %H:%M:%S} UTC)" if self.since
                    else f"running ({self.owner})")
        if self.owner:
            return f"not running (last lease by {self.owner} expired {self.lease_until:%Y-%m-%d %H:%M:%S} UTC)"
        return "not running"


def service_status(db: Database, now: datetime | None = None) -> ServiceStatus:
    """The scheduler lease as it stands in the database."""
    row = holder(db, SERVICE_LOCK)
    if row is None:
        return ServiceStatus(running=False)
    alive = row.expires_at > (now or utcnow())
    return ServiceStatus(running=alive, owner=row.owner, since=row.acquired_at, lease_until=row.expires_at)
