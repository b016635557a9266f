"""The scheduler service (`softbot schedule serve`): APScheduler 3 with a job store in the project database.

One per deployment: the service first takes a lease (a row in `bot_locks` named
`control.SERVICE_LOCK`, kept alive by a heartbeat); a second service against the same database
refuses to start (APScheduler 3 job stores cannot be shared). Jobs come from
`config/schedules.yaml` and are (re)added at start with explicit ids, `replace_existing`,
`max_instances=1`, `coalesce` and the file's misfire grace time; a job whose trigger did not
change keeps its stored next run time, so a firing missed while the service was down still runs
at start when it is within the grace time.

A firing (`fire`, module-level so the job store can name it) runs the job's bot through
`common.app.run_once` with trigger `scheduler:<job-id>`, so it gets a run id, a run record and the
bot's run lock like `softbot run`. It is skipped, with the reason logged and stored as the job's
last firing, when the calendar is closed, the bot is disabled, or the bot is busy (its run lock is
held, whoever started that run). Commands talk to the service only through `scheduler_control`
(pause, resume, run-now), which the service polls.
"""

from __future__ import annotations

import os
import secrets
import socket
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from apscheduler.events import EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED, JobEvent
from apscheduler.executors.base import BaseExecutor
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.date import DateTrigger
from sqlalchemy.exc import SQLAlchemyError

from common.app import run_once
from common.config import Settings
from common.db import Database, utcnow
from common.errors import ConfigError, LockHeld, SystemException
from common.heartbeat import Heartbeat
from common.locks import extend, holder, release, try_acquire
from common.logging import get_logger
from common.scheduler import control
from common.scheduler.alerts import Alerts
from common.scheduler.models import JOBSTORE_TABLE
from common.scheduler.schedules import ScheduledJob, Schedules, trigger_name

log = get_logger(__name__)

LEASE_SECONDS = 30  # a crashed service's lease frees itself after this; the heartbeat renews every third
ALERT_CHECK_SECONDS = 300
RUN_NOW_PREFIX = "run-now:"

_active: SchedulerService | None = None  # the service whose jobs this process runs


class RunFunction(Protocol):
    def __call__(self, settings: Settings, db: Database, name: str, *, trigger: str, produce_items: bool,
                 consume_items: bool, stop: threading.Event | None) -> dict[str, Any]: ...


def fire(job_id: str) -> None:
    """APScheduler's job function: one scheduled firing of `job_id` (plain argument; see SchedulerService.fire)."""
    _require_active().fire(job_id)


def fire_now(job_id: str, request_id: int) -> None:
    """A `softbot schedule run-now` request: one firing of `job_id` outside its schedule."""
    _require_active().fire(job_id, request_id=request_id)


def _require_active() -> SchedulerService:
    if _active is None:
        raise SystemException("scheduler.inactive", "a job fired outside a running scheduler service")
    return _active


class SchedulerService:
    """The scheduler of one deployment.

    Args:
        settings: softbot settings (bots, alerts, time zone).
        db: the project database (job store, control table, runs).
        schedules: the loaded `config/schedules.yaml`.
        clock: aware UTC now; decides calendars and timestamps (tests inject a controlled one).
        run: starts one run (default `common.app.run_once`); tests may pass a recorder.
        alerts: mails failed runs and old exceptions (default from `settings.alerts`; off when unset).
        scheduler_class, executor: the APScheduler scheduler and executor (tests use a stepping
            scheduler and a synchronous executor).
    """

    def __init__(self, settings: Settings, db: Database, schedules: Schedules, *,
                 clock: Callable[[], datetime] = utcnow, run: RunFunction = run_once, alerts: Alerts | None = None,
                 scheduler_class: type[BaseScheduler] = BackgroundScheduler,
                 executor: BaseExecutor | None = None) -> None:
        self.settings = settings
        self.db = db
        self.schedules = schedules
        self.clock = clock
        self.run = run
        self.alerts = alerts or Alerts(settings, db, clock=clock)
        self.stop = threading.Event()
        self.owner = f"scheduler:{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        self.scheduler: BaseScheduler = scheduler_class(
            jobstores={"default": SQLAlchemyJobStore(engine=db.engine, tablename=JOBSTORE_TABLE),
                       "oneoff": MemoryJobStore()},
            executors={"default": executor or ThreadPoolExecutor(max_workers=len(schedules.jobs) + 2)},
            job_defaults={"coalesce": True, "max_instances": 1},
            timezone=ZoneInfo(settings.timezone))
        self.scheduler.add_listener(self._on_max_instances, EVENT_JOB_MAX_INSTANCES)
        self.scheduler.add_listener(self._on_missed, EVENT_JOB_MISSED)
        self._heartbeat: Heartbeat | None = None
        self._alert_lock = threading.Lock()
        self._last_alert_check = 0.0

    # -- lifecycle --------------------------------------------------------------------------------

    def start(self) -> None:
        """Take the lease, sync the jobs into the job store, apply waiting requests, start firing.

        Raises:
            LockHeld("scheduler.running"): another service holds the lease (nothing was touched).
        """
        global _active
        self._take_lease()
        try:
            if _active is not None:
                raise SystemException("scheduler.twice", "a scheduler service is already active in this process")
            self.scheduler.start(paused=True)
            _active = self
            self._sync_jobs()
            self.apply_requests()
            self.scheduler.resume()
        except BaseException:
            self.shutdown(wait=False)
            raise
        log.info("scheduler_started", owner=self.owner, jobs=len(self.schedules.jobs),
                 schedules=str(self.schedules.path))

    def serve(self) -> None:
        """Start, then poll the control table every `poll_seconds` until `stop` is set; then shut down.

        Raises LockHeld (another service runs), SystemException("scheduler.lease_lost").
        """
        self.start()
        try:
            while not self.stop.wait(self.schedules.poll_seconds):
                self.poll()
        finally:
            self.shutdown(wait=True)

    def poll(self) -> None:
        """One round of the service loop: check the lease, apply requests, check alerts now and then.

        Raises SystemException("scheduler.lease_lost") when the heartbeat could not renew the lease:
        another service may have taken over, so this one must stop.
        """
        if self._heartbeat is not None and self._heartbeat.failed is not None:
            raise SystemException("scheduler.lease_lost", f"the scheduler lease could not be renewed "
                                                          f"({self._heartbeat.failed}); stopping")
        try:
            self.apply_requests()
            if time.monotonic() - self._last_alert_check >= ALERT_CHECK_SECONDS:
                self.check_alerts()
        except SQLAlchemyError as exc:
            log.warning("scheduler_poll_failed", error=f"{type(exc).__name__}: {exc}")

    def shutdown(self, wait: bool = True) -> None:
        """Stop firing (running jobs are asked to stop and, with `wait`, finish), release the lease."""
        global _active
        self.stop.set()
        if self.scheduler.running:
            self.scheduler.shutdown(wait=wait)
        if _active is self:
            _active = None
        if self._heartbeat is not None:
            self._heartbeat.__exit__(None, None, None)
            self._heartbeat = None
            release(self.db, control.SERVICE_LOCK, self.owner)
            log.info("scheduler_stopped", owner=self.owner)

    def _take_lease(self) -> None:
        if try_acquire(self.db, control.SERVICE_LOCK, self.owner, None, LEASE_SECONDS) is None:
            row = holder(self.db, control.SERVICE_LOCK)
            who = f"{row.owner}, since {row.acquired_at:%Y-%m-%d %H:%M:%S} UTC, lease until " \
                  f"{row.expires_at:%H:%M:%S} UTC" if row else "unknown"
            raise LockHeld("scheduler.running",
                           f"another scheduler service is running against this database ({who}). "
                           "There is one scheduler per deployment: stop the other one first. If it crashed, "
                           f"its lease expires within {LEASE_SECONDS} s and this command will then start.")
        self._heartbeat = Heartbeat(lambda: extend(self.db, control.SERVICE_LOCK, self.owner, LEASE_SECONDS),
                                    LEASE_SECONDS / 3, name="scheduler-lease").__enter__()

    # -- jobs -------------------------------------------------------------------------------------

    def _sync_jobs(self) -> None:
        """Make the job store hold exactly the enabled jobs of the file, with the applied pause states."""
        stored = {job.id: job for job in self.scheduler.get_jobs(jobstore="default")}
        wanted = {job_id: job for job_id, job in self.schedules.jobs.items() if job.enabled}
        for job_id in stored.keys() - wanted.keys():
            self.scheduler.remove_job(job_id, jobstore="default")
            log.info("job_removed", job=job_id, why="no longer an enabled job in the schedules file")
        control.ensure_states(self.db, wanted)
        states = control.job_states(self.db)
        for job_id, job in wanted.items():
            options: dict[str, Any] = {}
            old = stored.get(job_id)
            if old is not None and repr(old.trigger) == repr(job.trigger) and old.next_run_time is not None:
                options["next_run_time"] = old.next_run_time  # a firing missed while down runs within grace
            self.scheduler.add_job(fire, trigger=job.trigger, args=[job_id], id=job_id, name=f"{job.bot} {job.runs}",
                                   jobstore="default", replace_existing=True, max_instances=1, coalesce=True,
                                   misfire_grace_time=job.misfire_grace_seconds, **options)
            state = states.get(job_id)
            if state is not None and state.paused:
                self.scheduler.pause_job(job_id, jobstore="default")
            log.info("job_scheduled", job=job_id, bot=job.bot, runs=job.runs, when=job.when, timezone=job.timezone,
                     calendar=job.calendar.name if job.calendar else None,
                     paused=bool(state and state.paused), next_firing=self._next_firing_text(job_id))

    def _next_firing_text(self, job_id: str) -> str | None:
        job = self.scheduler.get_job(job_id, jobstore="default")
        return job.next_run_time.isoformat() if job is not None and job.next_run_time else None

    def apply_requests(self) -> None:
        """Apply every waiting pause/resume/run-now request, oldest first, and record each outcome."""
        for request in control.pending_requests(self.db):
            job = self.schedules.jobs.get(request.job_id)
            if job is None or not job.enabled:
                outcome = "ignored: no such job" if job is None else "ignored: the job is disabled in the file"
            elif request.action == "run-now":
                self.scheduler.add_job(fire_now, trigger=DateTrigger(run_date=self.clock()),
                                       args=[job.id, request.id], id=f"{RUN_NOW_PREFIX}{request.id}",
                                       name=f"{job.id} run-now", jobstore="oneoff", misfire_grace_time=None)
                outcome = "started"
            else:
                outcome = self._pause_or_resume(job, request.action == "pause", request.requested_by)
            control.finish_request(self.db, request.id, outcome, now=self.clock())
            log.info("control_request", request=request.id, action=request.action, job=request.job_id,
                     by=request.requested_by, outcome=outcome)

    def _pause_or_resume(self, job: ScheduledJob, pause: bool, by: str) -> str:
        state = control.job_states(self.db).get(job.id)
        paused = bool(state and state.paused)
        if pause == paused:
            return "already paused" if pause else "was not paused"
        if pause:
            self.scheduler.pause_job(job.id, jobstore="default")
        else:
            self.scheduler.resume_job(job.id, jobstore="default")
        control.set_paused(self.db, job.id, pause, by, self.clock())
        if pause:
            return "paused"
        return f"resumed; next firing {self._next_firing_text(job.id)}"

    # -- firing -----------------------------------------------------------------------------------

    def fire(self, job_id: str, *, request_id: int | None = None) -> None:
        """One firing of `job_id`: run its bot, or skip with the reason logged and stored.

        Never raises: a crashed run is recorded as such (run row `crashed`, exit 1) and alerted.
        `request_id` marks a run-now request, which ignores calendar and pause but never overlaps.
        """
        job = self.schedules.jobs.get(job_id)
        now = self.clock()
        if job is None:
            log.warning("firing_skipped", job=job_id, reason="no such job in the schedules file")
            return
        log.info("firing", job=job_id, bot=job.bot, runs=job.runs, at=now.astimezone(job.zone).isoformat(),
                 run_now=request_id is not None)
        reason = self._skip_reason(job, now, manual=request_id is not None)
        if reason is not None:
            self._skipped(job, now, reason, request_id)
            return
        try:
            summary = self.run(self.settings, self.db, job.bot, trigger=trigger_name(job_id),
                               produce_items=job.produce, consume_items=job.consume, stop=self.stop)
        except LockHeld as exc:
            self._skipped(job, now, f"bot busy: {exc.message}", request_id)
            return
        except ConfigError as exc:
            log.error("firing_failed", job=job_id, bot=job.bot, error=exc.message)
            self._record(job, now, f"failed: {exc.message}", request_id)
            return
        except Exception as exc:  # one crashed run must not stop the scheduler; open_run marked it crashed
            log.exception("firing_crashed", job=job_id, bot=job.bot, error=f"{type(exc).__name__}: {exc}")
            self._record(job, now, f"crashed: {type(exc).__name__}", request_id)
            self.check_alerts()
            return
        run_id, code = summary["run_id"], summary["exit_code"]
        log.info("firing_finished", job=job_id, bot=job.bot, run_id=run_id, status=summary.get("status"),
                 exit_code=code)
        self._record(job, now, f"ran: run {run_id}, {summary.get('status', 'completed')}, exit {code}",
                     request_id, run_id=run_id)
        if code != 0:
            self.check_alerts()

    def _skip_reason(self, job: ScheduledJob, now: datetime, *, manual: bool) -> str | None:
        if self.stop.is_set():
            return "the scheduler service is stopping"
        bot = self.settings.bots.get(job.bot)
        if bot is None or not bot.enabled:
            return f"bot {job.bot!r} is {'not in' if bot is None else 'disabled in'} the settings file"
        if not manual and job.calendar is not None:
            return job.calendar.closed_reason(now.astimezone(job.zone))
        return None

    def _skipped(self, job: ScheduledJob, now: datetime, reason: str, request_id: int | None) -> None:
        log.info("firing_skipped", job=job.id, bot=job.bot, at=now.astimezone(job.zone).isoformat(), reason=reason)
        self._record(job, now, f"skipped: {reason}", request_id)

    def _record(self, job: ScheduledJob, now: datetime, text: str, request_id: int | None,
                run_id: str | None = None) -> None:
        control.record_firing(self.db, job.id, now, text, run_id)
        if request_id is not None:
            control.finish_request(self.db, request_id, text, run_id=run_id, now=self.clock())

    def _on_max_instances(self, event: JobEvent) -> None:
        job = self.schedules.jobs.get(event.job_id)
        if job is not None:
            self._skipped(job, self.clock(), "the previous firing of this job is still running", None)

    def _on_missed(self, event: JobEvent) -> None:
        job = self.schedules.jobs.get(event.job_id)
        scheduled = getattr(event, "scheduled_run_time", None)
        if job is not None:
            when = scheduled.astimezone(job.zone).isoformat() if scheduled else "?"
            self._skipped(job, self.clock(), f"missed the firing of {when} by more than the misfire grace time "
                                             f"({job.misfire_grace_seconds} s)", None)

    # -- alerts -----------------------------------------------------------------------------------

    def check_alerts(self) -> list[str]:
        """Mail new alerts (failed runs, old exceptions); returns the keys sent. Off when not configured."""
        with self._alert_lock:
            self._last_alert_check = time.monotonic()
            if not self.alerts.enabled:
                return []
            try:
                return self.alerts.check()
            except SQLAlchemyError as exc:
                log.warning("alert_check_failed", error=f"{type(exc).__name__}: {exc}")
                return []
