"""What `softbot schedule list` shows per job, computed from the file and the database (never the job store).

The next run honours the job's calendar: firings the calendar would skip are passed over, so the
time shown is the next one that will actually start a run (unless the bot is busy then).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from common.db import Database
from common.scheduler import control
from common.scheduler.schedules import ScheduledJob, Schedules
from common.workqueue.models import RunRow

HORIZON = timedelta(days=366)
MAX_CANDIDATES = 200_000  # a minutely job over a long closure: about 140 days of firings


def next_run(job: ScheduledJob, now: datetime, *, horizon: timedelta = HORIZON) -> datetime | None:
    """The first firing at or after `now` (aware) that the job's calendar lets run, in the job's zone.

    None when there is none within `horizon` (or within MAX_CANDIDATES firings).
    """
    at = job.trigger.get_next_fire_time(None, now)
    end = now + horizon
    for _ in range(MAX_CANDIDATES):
        if at is None or at >= end:
            return None
        if job.calendar is None or job.calendar.closed_reason(at.astimezone(job.zone)) is None:
            return at.astimezone(job.zone)
        at = job.trigger.get_next_fire_time(at, at)
    return None


@dataclass
class JobRow:
    """One line of `schedule list`.

    Attributes:
        next_run: the next firing that runs (calendar honoured), in the job's zone; None when paused,
            disabled, or none within a year.
        pending: actions requested but not applied yet by the service (e.g. `["pause"]`).
        last_run: the newest run this job started (from `runs`), if any.
        last_firing: how the last firing went, as the service recorded it (`ran: run ...`, `skipped: ...`).
    """

    job: ScheduledJob
    paused: bool
    paused_by: str | None
    next_run: datetime | None
    pending: list[str] = field(default_factory=list)
    last_run: RunRow | None = None
    last_firing: str | None = None
    last_firing_at: datetime | None = None

    @property
    def state(self) -> str:
        if not self.job.enabled:
            return "disabled"
        text = "paused" if self.paused else "active"
        return text + (f" ({', '.join(self.pending)} requested)" if self.pending else "")

    @property
    def outcome(self) -> str:
        """The last run's outcome, e.g. `completed, exit 0` or `crashed, exit 1`."""
        if self.last_run is None:
            return "no run yet"
        code = "" if self.last_run.exit_code is None else f", exit {self.last_run.exit_code}"
        return f"{self.last_run.status}{code}"


def job_rows(db: Database, schedules: Schedules, now: datetime) -> list[JobRow]:
    """Every job of the file, in file order, with its state and last run."""
    states = control.job_states(db)
    pending: dict[str, list[str]] = {}
    for request in control.pending_requests(db):
        pending.setdefault(request.job_id, []).append(request.action)
    last = control.last_runs(db, schedules.jobs)
    rows = []
    for job_id, job in schedules.jobs.items():
        state = states.get(job_id)
        paused = bool(state and state.paused)
        upcoming = next_run(job, now) if job.enabled and not paused else None
        rows.append(JobRow(job=job, paused=paused, paused_by=state.changed_by if state and paused else None,
                           next_run=upcoming, pending=pending.get(job_id, []), last_run=last.get(job_id),
                           last_firing=state.last_firing if state else None,
                           last_firing_at=state.last_firing_at if state else None))
    return rows
