"""`softbot schedule serve|list|pause|resume|run-now|check`: scheduled bot runs, for administrators.

`serve` is the scheduler service (one per deployment). The other commands never touch its job
store: they read `config/schedules.yaml` and the database, and leave requests in the control
table that the service applies within `poll_seconds` (docs/guides/administrator.md).
"""

from __future__ import annotations

import getpass
import json
import logging
import os
import time
from datetime import datetime
from pathlib import Path

import typer
from rich.table import Table

from common import logging as softbot_logging
from common.app import stop_on_signals
from common.commands.base import EXIT_LOCKED, EXIT_SYSTEM_FAILURES, cli_errors, database, err, fail_usage, out, settings
from common.config import Settings
from common.db import Database, utcnow
from common.errors import ConfigError, SystemException
from common.scheduler import control
from common.scheduler.listing import job_rows
from common.scheduler.schedules import Schedules, load_schedules, schedules_path

app = typer.Typer(help="Scheduled runs: the scheduler service, and pause/resume/run-now/list/check of its jobs "
                       "(config/schedules.yaml).", no_args_is_help=True)

FILE = typer.Option(None, "--file", "-f", envvar="SOFTBOT_SCHEDULES",
                    help="Schedules file (default: schedules.yaml next to the settings file).")
JOB = typer.Argument(..., help="The job's id, as under `jobs:` in the schedules file.")
WAIT = typer.Option(0, "--wait", min=0, help="Wait up to this many seconds until the service has applied the "
                    "request (run-now: until the run ended); exit 1 if it has not.")
ACTOR = typer.Option(None, "--as", help="Who asks (recorded); default $SOFTBOT_USER or your login name.")


def _load(file: Path | None) -> tuple[Settings, Schedules]:
    conf = settings()
    path = file or schedules_path()
    try:
        return conf, load_schedules(path, conf)
    except ConfigError as exc:
        fail_usage(exc.message)


def _actor(name: str | None) -> str:
    return f"person:{name or os.environ.get('SOFTBOT_USER') or getpass.getuser()}"


def _when(at: datetime | None) -> str:
    return at.strftime("%Y-%m-%d %H:%M %Z") if at else ""


@app.command("serve")
def serve(file: Path = FILE) -> None:
    """Run the scheduler service in the foreground (Ctrl-C or SIGTERM stops it; a running job finishes its item).

    Logs each firing with its run id, and each skip with the reason. Refuses to start (exit 3) when
    another scheduler service runs against the same database.
    """
    conf, schedules = _load(file)
    for warning in schedules.warnings:
        err.print(f"[yellow]warning:[/] {warning}", highlight=False)
    from common.scheduler.service import SchedulerService

    if logging.getLogger().level > logging.DEBUG:  # not --verbose: a service shows each firing and skip
        softbot_logging.configure("INFO", console_level="INFO")

    with cli_errors(), database(conf) as db:
        service = SchedulerService(conf, db, schedules)
        try:
            with stop_on_signals(service.stop):
                service.serve()
        except SystemException as exc:
            err.print(f"[bold red]scheduler stopped:[/] {exc.message}", highlight=False)
            raise typer.Exit(EXIT_SYSTEM_FAILURES) from None
    err.print("scheduler stopped", highlight=False)


@app.command("list")
def list_jobs(file: Path = FILE, as_json: bool = typer.Option(False, "--json")) -> None:
    """Each job: when it runs, its next run (calendar honoured), paused or not, its last run and outcome."""
    conf, schedules = _load(file)
    now = utcnow()
    with database(conf) as db:
        rows = job_rows(db, schedules, now)
        status = control.service_status(db, now)
    if as_json:
        print(json.dumps({"service": {"running": status.running, "owner": status.owner},
                          "jobs": [{"id": r.job.id, "bot": r.job.bot, "runs": r.job.runs, "when": r.job.when,
                                    "timezone": r.job.timezone,
                                    "calendar": r.job.calendar.name if r.job.calendar else None,
                                    "state": r.state, "paused": r.paused, "pending": r.pending,
                                    "next_run": r.next_run.isoformat() if r.next_run else None,
                                    "last_run": r.last_run.id if r.last_run else None,
                                    "last_outcome": r.outcome if r.last_run else None,
                                    "last_firing": r.last_firing} for r in rows]}, indent=2))
        return
    zones = sorted({r.job.timezone for r in rows})
    table = Table(title=f"Scheduled jobs ({schedules.path}; times in {', '.join(zones) or '-'})")
    table.add_column("job", no_wrap=True)
    for column in ("bot", "when", "calendar", "next run", "state", "last run"):
        table.add_column(column, overflow="fold")
    for r in rows:
        upcoming = _when(r.next_run) if r.next_run else ("" if r.paused or not r.job.enabled else "none within a year")
        last = f"{_when(r.last_run.started_at.astimezone(r.job.zone))}: {r.outcome}" if r.last_run else r.outcome
        table.add_row(r.job.id, f"{r.job.bot} ({r.job.runs})", r.job.when,
                      r.job.calendar.name if r.job.calendar else "always", upcoming,
                      r.state + (f" by {r.paused_by}" if r.paused_by else ""), last)
    out.print(table)
    for r in rows:
        if r.last_firing and r.last_firing.startswith("skipped"):
            at = _when(r.last_firing_at.astimezone(r.job.zone)) if r.last_firing_at else ""
            out.print(f"  {r.job.id}: last firing {at} {r.last_firing}", highlight=False)
    out.print(f"scheduler service: {status.describe()}", highlight=False)


def _request(file: Path | None, job_id: str, action: str, actor: str | None, wait: int) -> None:
    conf, schedules = _load(file)
    with cli_errors():
        job = schedules.job(job_id)
        if not job.enabled:
            fail_usage(f"job {job_id!r} is disabled in {schedules.path} (enabled: false)")
    with database(conf) as db:
        request_id = control.add_request(db, job_id, action, _actor(actor))
        running = control.service_status(db).running
        out.print(f"{action} {job_id}: requested (request {request_id}); "
                  + (f"the scheduler service applies it within {schedules.poll_seconds:g} s" if running else
                     "the scheduler service is not running: it applies the request when it starts"),
                  highlight=False)
        if wait:
            raise typer.Exit(_wait_for(db, request_id, wait))


def _wait_for(db: Database, request_id: int, seconds: int) -> int:
    """Wait until the request is applied (and a run-now's run ended); print the outcome; return an exit code."""
    deadline = time.monotonic() + seconds
    while True:
        request = control.get_request(db, request_id)
        if request is not None and request.handled_at is not None and request.outcome != "started":
            outcome = request.outcome or ""
            out.print(f"request {request_id}: {outcome}", highlight=False)
            if outcome.startswith("skipped: bot busy"):
                return EXIT_LOCKED
            if outcome.startswith("ran:"):
                return int(outcome.rsplit("exit ", 1)[-1])
            return EXIT_SYSTEM_FAILURES if outcome.startswith(("failed", "crashed", "ignored", "skipped")) else 0
        if time.monotonic() >= deadline:
            err.print(f"request {request_id} not applied within {seconds} s: is the scheduler service running? "
                      "(softbot schedule list)", highlight=False)
            return EXIT_SYSTEM_FAILURES
        time.sleep(0.2)


@app.command("pause")
def pause(job_id: str = JOB, file: Path = FILE, wait: int = WAIT, actor: str = ACTOR) -> None:
    """Stop a job's firings until `resume` (kept across restarts of the service). A running run finishes."""
    _request(file, job_id, "pause", actor, wait)


@app.command("resume")
def resume(job_id: str = JOB, file: Path = FILE, wait: int = WAIT, actor: str = ACTOR) -> None:
    """Let a paused job fire again from its next regular time (missed firings are not made up)."""
    _request(file, job_id, "resume", actor, wait)


@app.command("run-now")
def run_now(job_id: str = JOB, file: Path = FILE, wait: int = WAIT, actor: str = ACTOR) -> None:
    """One run of the job now, through the service: ignores calendar and pause, never overlaps a running run."""
    _request(file, job_id, "run-now", actor, wait)


@app.command("check")
def check(file: Path = FILE) -> None:
    """Validate the schedules file against the settings' bots; exit 2 with every problem (file:line: field)."""
    conf, schedules = _load(file)
    for warning in schedules.warnings:
        err.print(f"[yellow]warning:[/] {warning}", highlight=False)
    enabled = [job_id for job_id, job in schedules.jobs.items() if job.enabled]
    out.print(f"{schedules.path}: ok ({len(schedules.jobs)} job(s), {len(enabled)} enabled"
              + (f": {', '.join(enabled)}" if enabled else "") + ")", highlight=False)
