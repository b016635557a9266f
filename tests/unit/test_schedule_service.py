"""The scheduler service under a controlled clock: real APScheduler, real job store (SQLite), stepped by hand.

APScheduler 3 reads the time with `datetime.now` in two modules; the `controlled_clock` fixture
replaces that name there (and the service gets the same clock), and `SteppingScheduler` processes
due jobs only when the test says so. Firings run synchronously (`DebugExecutor`) unless a test needs
a firing to be running while the next one comes due.
"""

from __future__ import annotations

import textwrap
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import apscheduler.executors.base
import apscheduler.schedulers.base
import pytest
import sqlalchemy as sa
from apscheduler.executors.debug import DebugExecutor
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.base import BaseScheduler
from structlog.testing import capture_logs

from common.config import BackoffSettings, BotSettings, Settings
from common.db import Database
from common.errors import LockHeld
from common.locks import bot_lock
from common.runs import blob_store
from common.scheduler import control
from common.scheduler.schedules import Schedules, load_schedules
from common.scheduler.service import SchedulerService
from common.workqueue import NewItem, WorkQueue
from common.workqueue.models import RunRow
from tests.integration import scheduler_bot

AMS = ZoneInfo("Europe/Amsterdam")
BOT_MODULE = "tests.integration.scheduler_bot"


class Clock:
    """The one clock of a test: APScheduler's `datetime.now` and the service's `clock` both read it."""

    def __init__(self, start: datetime) -> None:
        self.current = start.astimezone(UTC)

    def now(self) -> datetime:
        return self.current

    def set(self, at: datetime) -> None:
        self.current = at.astimezone(UTC)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    controlled = Clock(datetime(2021, 1, 1, tzinfo=UTC))

    class ControlledDatetime(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> datetime:  # type: ignore[override]
            return controlled.current.astimezone(tz) if tz else controlled.current.replace(tzinfo=None)

    monkeypatch.setattr(apscheduler.schedulers.base, "datetime", ControlledDatetime)
    monkeypatch.setattr(apscheduler.executors.base, "datetime", ControlledDatetime)
    return controlled


class SteppingScheduler(BaseScheduler):
    """APScheduler without a thread of its own: `step()` starts what is due at the controlled time."""

    def shutdown(self, wait: bool = True) -> None:
        super().shutdown(wait)

    def wakeup(self) -> None:
        pass

    def step(self) -> None:
        self._process_jobs()

    def next_due(self) -> datetime | None:
        times = [job.next_run_time for job in self.get_jobs() if job.next_run_time is not None]
        return min(times) if times else None


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 'softbot.db'}")
    yield database
    database.dispose()


def settings_for(tmp_path: Path, **bots: BotSettings) -> Settings:
    return Settings(data_dir=tmp_path / "data", runs_dir=tmp_path / "runs", bots=bots)


def schedules_for(tmp_path: Path, settings: Settings, text: str) -> Schedules:
    path = tmp_path / "schedules.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return load_schedules(path, settings)


class Recorder:
    """Stands in for `run_once`: records (trigger, local time) and returns a completed summary."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.runs: list[tuple[str, str]] = []

    def __call__(self, settings: Settings, db: Database, name: str, *, trigger: str, produce_items: bool,
                 consume_items: bool, stop: threading.Event | None) -> dict[str, Any]:
        self.runs.append((trigger.removeprefix("scheduler:"), self.clock.now().astimezone(AMS).isoformat()))
        return {"run_id": f"run-{len(self.runs)}", "exit_code": 0, "status": "completed"}


def simulate(service: SchedulerService, clock: Clock, end: datetime) -> None:
    """Start the service and step from firing to firing until `end`, then shut it down."""
    scheduler = service.scheduler
    assert isinstance(scheduler, SteppingScheduler)
    service.start()
    try:
        while (due := scheduler.next_due()) is not None and due < end:
            clock.set(due)
            scheduler.step()
    finally:
        service.shutdown()


WEEK = """\
    calendars:
      kantoor:
        hours: {mon-fri: "08:00-17:00"}
        public_holidays: true
    jobs:
      office:
        bot: tick
        runs: process
        cron: "0 9,14 * * *"
        calendar: kantoor
      nightly:
        bot: tick
        runs: both
        cron: "30 2 * * *"
    """


def run_week(tmp_path: Path, db: Database, clock: Clock, start: datetime, end: datetime
             ) -> tuple[list[tuple[str, str]], list[tuple[str, str, str]]]:
    settings = settings_for(tmp_path, tick=BotSettings(module=BOT_MODULE))
    recorder = Recorder(clock)
    clock.set(start)
    service = SchedulerService(settings, db, schedules_for(tmp_path, settings, WEEK), clock=clock.now, run=recorder,
                               scheduler_class=SteppingScheduler, executor=DebugExecutor())
    with capture_logs() as logs:
        simulate(service, clock, end)
    skips = [(e["job"], e["at"], e["reason"]) for e in logs if e["event"] == "firing_skipped"]
    return recorder.runs, skips


def test_spring_week_with_dst_weekends_good_friday_and_easter_monday(tmp_path: Path, db: Database,
                                                                     clock: Clock) -> None:
    runs, skips = run_week(tmp_path, db, clock, datetime(2021, 3, 27, 0, 0, tzinfo=AMS),
                           datetime(2021, 4, 6, 0, 0, tzinfo=AMS))
    assert runs == [
        ("nightly", "2021-03-27T02:30:00+01:00"),   # CET: 01:30 UTC
        ("nightly", "2021-03-28T03:30:00+02:00"),   # 02:30 does not exist (02:00 CET -> 03:00 CEST): an hour on
        ("nightly", "2021-03-29T02:30:00+02:00"),   # CEST from here: 00:30 UTC
        ("office", "2021-03-29T09:00:00+02:00"),    # Monday
        ("office", "2021-03-29T14:00:00+02:00"),
        ("nightly", "2021-03-30T02:30:00+02:00"),
        ("office", "2021-03-30T09:00:00+02:00"),
        ("office", "2021-03-30T14:00:00+02:00"),
        ("nightly", "2021-03-31T02:30:00+02:00"),
        ("office", "2021-03-31T09:00:00+02:00"),
        ("office", "2021-03-31T14:00:00+02:00"),
        ("nightly", "2021-04-01T02:30:00+02:00"),
        ("office", "2021-04-01T09:00:00+02:00"),    # Thursday; Friday 2 April is Goede vrijdag
        ("office", "2021-04-01T14:00:00+02:00"),
        ("nightly", "2021-04-02T02:30:00+02:00"),   # no calendar: nightly runs on holidays and weekends
        ("nightly", "2021-04-03T02:30:00+02:00"),
        ("nightly", "2021-04-04T02:30:00+02:00"),
        ("nightly", "2021-04-05T02:30:00+02:00"),
    ]
    assert skips == [
        ("office", "2021-03-27T09:00:00+01:00", "no working hours on Saturday (calendar kantoor)"),
        ("office", "2021-03-27T14:00:00+01:00", "no working hours on Saturday (calendar kantoor)"),
        ("office", "2021-03-28T09:00:00+02:00", "no working hours on Sunday (calendar kantoor)"),
        ("office", "2021-03-28T14:00:00+02:00", "no working hours on Sunday (calendar kantoor)"),
        ("office", "2021-04-02T09:00:00+02:00", "public holiday: Goede vrijdag (calendar kantoor)"),
        ("office", "2021-04-02T14:00:00+02:00", "public holiday: Goede vrijdag (calendar kantoor)"),
        ("office", "2021-04-03T09:00:00+02:00", "no working hours on Saturday (calendar kantoor)"),
        ("office", "2021-04-03T14:00:00+02:00", "no working hours on Saturday (calendar kantoor)"),
        ("office", "2021-04-04T09:00:00+02:00", "public holiday: Eerste paasdag (calendar kantoor)"),
        ("office", "2021-04-04T14:00:00+02:00", "public holiday: Eerste paasdag (calendar kantoor)"),
        ("office", "2021-04-05T09:00:00+02:00", "public holiday: Tweede paasdag (calendar kantoor)"),
        ("office", "2021-04-05T14:00:00+02:00", "public holiday: Tweede paasdag (calendar kantoor)"),
    ]


def test_autumn_days_with_dst_and_a_weekend(tmp_path: Path, db: Database, clock: Clock) -> None:
    runs, skips = run_week(tmp_path, db, clock, datetime(2021, 10, 29, 0, 0, tzinfo=AMS),
                           datetime(2021, 11, 2, 0, 0, tzinfo=AMS))
    assert runs == [
        ("nightly", "2021-10-29T02:30:00+02:00"),
        ("office", "2021-10-29T09:00:00+02:00"),    # Friday
        ("office", "2021-10-29T14:00:00+02:00"),
        ("nightly", "2021-10-30T02:30:00+02:00"),
        ("nightly", "2021-10-31T02:30:00+02:00"),   # 00:30 UTC; the repeated 02:30 CET (01:30 UTC) is not a run
        ("nightly", "2021-11-01T02:30:00+01:00"),   # CET from here: 01:30 UTC
        ("office", "2021-11-01T09:00:00+01:00"),    # Monday
        ("office", "2021-11-01T14:00:00+01:00"),
    ]
    assert [(job, when) for job, when, _ in skips] == [
        ("office", "2021-10-30T09:00:00+02:00"), ("office", "2021-10-30T14:00:00+02:00"),
        ("office", "2021-10-31T09:00:00+01:00"), ("office", "2021-10-31T14:00:00+01:00"),
    ]


def add_items(db: Database, settings: Settings, queue: str, count: int) -> None:
    work = WorkQueue(db, queue, blob_store(settings))
    for n in range(count):
        work.add(NewItem(reference=f"ref-{n}", payload={"fields": {}}), actor="test")


def test_long_running_firing_is_never_started_twice(tmp_path: Path, db: Database, clock: Clock) -> None:
    """A firing while the last one still runs is skipped (max_instances), and run-now finds the bot busy."""
    scheduler_bot.reset()
    settings = settings_for(tmp_path, tick=BotSettings(module=BOT_MODULE, options={"block": True}))
    add_items(db, settings, "tick", 1)
    schedules = schedules_for(tmp_path, settings, """\
        jobs:
          every-5:
            bot: tick
            interval: {minutes: 5}
        """)
    clock.set(datetime(2021, 6, 1, 10, 0, 1, tzinfo=AMS))
    service = SchedulerService(settings, db, schedules, clock=clock.now, scheduler_class=SteppingScheduler,
                               executor=ThreadPoolExecutor(4))
    scheduler = service.scheduler
    assert isinstance(scheduler, SteppingScheduler)
    with capture_logs() as logs:
        service.start()
        try:
            clock.set(datetime(2021, 6, 1, 10, 5, tzinfo=AMS))
            scheduler.step()                                   # run 1 starts and blocks on its one item
            assert scheduler_bot.STARTED.wait(timeout=30)
            clock.set(datetime(2021, 6, 1, 10, 10, tzinfo=AMS))
            scheduler.step()                                   # due again while run 1 runs: skipped
            request = control.add_request(db, "every-5", "run-now", "person:test")
            service.apply_requests()
            scheduler.step()                                   # run-now: the bot's run lock is held
            for _ in range(300):
                if (control.get_request(db, request).outcome or "started") != "started":
                    break
                threading.Event().wait(0.1)
        finally:
            scheduler_bot.GATE.set()
            service.shutdown(wait=True)
    with db.session() as s:
        runs = s.scalars(sa.select(RunRow)).all()
    assert [(r.trigger, r.status, r.exit_code) for r in runs] == [("scheduler:every-5", "completed", 0)]
    assert scheduler_bot.MAX_ACTIVE == 1
    skipped = [e["reason"] for e in logs if e["event"] == "firing_skipped"]
    assert skipped[0] == "the previous firing of this job is still running"
    assert skipped[1].startswith(f"bot busy: bot tick is already running (run {runs[0].id}")
    assert control.get_request(db, request).outcome.startswith("skipped: bot busy")


def test_firing_while_a_cli_run_holds_the_lock_is_a_logged_skip(tmp_path: Path, db: Database, clock: Clock) -> None:
    settings = settings_for(tmp_path, tick=BotSettings(module=BOT_MODULE))
    schedules = schedules_for(tmp_path, settings, "jobs:\n  hourly: {bot: tick, cron: '0 * * * *'}\n")
    clock.set(datetime(2021, 6, 1, 9, 30, tzinfo=AMS))
    service = SchedulerService(settings, db, schedules, clock=clock.now, scheduler_class=SteppingScheduler,
                               executor=DebugExecutor())
    with capture_logs() as logs, bot_lock(db, "tick", "host:1:cli-run", "cli-run-1"):
        simulate(service, clock, datetime(2021, 6, 1, 10, 30, tzinfo=AMS))
    with db.session() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(RunRow)) == 0
    [skip] = [e for e in logs if e["event"] == "firing_skipped"]
    assert skip["at"] == "2021-06-01T10:00:00+02:00"
    assert skip["reason"].startswith("bot busy: bot tick is already running (run cli-run-1")
    assert control.job_states(db)["hourly"].last_firing.startswith("skipped: bot busy")


def test_scheduled_firing_makes_a_run_record_like_softbot_run(tmp_path: Path, db: Database, clock: Clock) -> None:
    settings = settings_for(tmp_path, tick=BotSettings(module=BOT_MODULE))
    add_items(db, settings, "tick", 2)
    schedules = schedules_for(tmp_path, settings, "jobs:\n  work: {bot: tick, runs: process, cron: '0 9 * * *'}\n")
    clock.set(datetime(2021, 6, 1, 8, 0, tzinfo=AMS))
    service = SchedulerService(settings, db, schedules, clock=clock.now, scheduler_class=SteppingScheduler,
                               executor=DebugExecutor())
    with capture_logs() as logs:
        simulate(service, clock, datetime(2021, 6, 1, 10, 0, tzinfo=AMS))
    with db.session() as s:
        [run] = s.scalars(sa.select(RunRow)).all()
    assert (run.trigger, run.command, run.status, run.exit_code) == ("scheduler:work", "worker", "completed", 0)
    assert run.counts["done"] == 2
    assert (tmp_path / "runs" / run.id / "summary.json").exists()
    [finished] = [e for e in logs if e["event"] == "firing_finished"]
    assert (finished["job"], finished["run_id"], finished["exit_code"]) == ("work", run.id, 0)
    assert control.job_states(db)["work"].last_firing == f"ran: run {run.id}, completed, exit 0"
    assert control.last_runs(db, ["work"])["work"].id == run.id


def test_second_service_against_the_same_database_refuses(tmp_path: Path, any_db: Database, clock: Clock) -> None:
    db = any_db  # SQLite and PostgreSQL
    settings = settings_for(tmp_path, tick=BotSettings(module=BOT_MODULE))
    schedules = schedules_for(tmp_path, settings, "jobs:\n  hourly: {bot: tick, cron: '0 * * * *'}\n")
    first = SchedulerService(settings, db, schedules, scheduler_class=SteppingScheduler, executor=DebugExecutor())
    first.start()
    try:
        second = SchedulerService(settings, db, schedules, scheduler_class=SteppingScheduler,
                                  executor=DebugExecutor())
        with pytest.raises(LockHeld) as refused:
            second.start()
        assert refused.value.code == "scheduler.running"
        assert f"another scheduler service is running against this database ({first.owner}" in refused.value.message
        assert not second.scheduler.running
    finally:
        first.shutdown()
    assert not control.service_status(db).running


def test_pause_resume_requests_are_applied_and_kept_across_a_restart(tmp_path: Path, any_db: Database,
                                                                      clock: Clock) -> None:
    db = any_db  # SQLite and PostgreSQL: the job store, control table and lease on both
    settings = settings_for(tmp_path, tick=BotSettings(module=BOT_MODULE))
    text = "jobs:\n  hourly: {bot: tick, cron: '0 * * * *'}\n"
    recorder = Recorder(clock)

    def service() -> SchedulerService:
        return SchedulerService(settings, db, schedules_for(tmp_path, settings, text), clock=clock.now, run=recorder,
                                scheduler_class=SteppingScheduler, executor=DebugExecutor())

    clock.set(datetime(2021, 6, 1, 9, 30, tzinfo=AMS))
    first = service()
    first.start()
    control.add_request(db, "hourly", "pause", "person:beheerder")
    first.poll()
    assert first.scheduler.get_job("hourly").next_run_time is None
    first.shutdown()
    # restart: the job store holds the job again from the file (replace_existing), the pause stays
    simulate(service(), clock, datetime(2021, 6, 1, 12, 30, tzinfo=AMS))
    assert recorder.runs == []
    assert control.job_states(db)["hourly"].paused
    second = service()
    control.add_request(db, "hourly", "resume", "person:beheerder")  # waiting while the service is down
    clock.set(datetime(2021, 6, 1, 12, 30, tzinfo=AMS))
    simulate(second, clock, datetime(2021, 6, 1, 14, 30, tzinfo=AMS))
    assert recorder.runs == [("hourly", "2021-06-01T13:00:00+02:00"), ("hourly", "2021-06-01T14:00:00+02:00")]
    outcomes = [r.outcome for r in _requests(db)]
    assert outcomes == ["paused", "resumed; next firing 2021-06-01T13:00:00+02:00"]


def _requests(db: Database) -> list[Any]:
    from common.scheduler.models import ControlRequestRow
    with db.session() as s:
        rows = s.scalars(sa.select(ControlRequestRow).order_by(ControlRequestRow.id)).all()
        s.expunge_all()
        return list(rows)


def test_firing_missed_while_down_runs_once_within_grace_and_is_logged_beyond(tmp_path: Path, db: Database,
                                                                              clock: Clock) -> None:
    settings = settings_for(tmp_path, tick=BotSettings(module=BOT_MODULE))
    text = "misfire_grace_seconds: 600\njobs:\n  quarter: {bot: tick, interval: {minutes: 15}}\n"
    recorder = Recorder(clock)

    def service() -> SchedulerService:
        return SchedulerService(settings, db, schedules_for(tmp_path, settings, text), clock=clock.now, run=recorder,
                                scheduler_class=SteppingScheduler, executor=DebugExecutor())

    clock.set(datetime(2021, 6, 1, 9, 1, tzinfo=AMS))
    simulate(service(), clock, datetime(2021, 6, 1, 9, 16, tzinfo=AMS))   # runs 09:15, stores next = 09:30
    # down from 09:16 to 09:50: 09:30 and 09:45 were missed; coalesced into one run, 5 min late (< 600 s)
    clock.set(datetime(2021, 6, 1, 9, 50, tzinfo=AMS))
    restarted = service()
    restarted.start()
    restarted.scheduler.step()
    restarted.shutdown()
    assert recorder.runs == [("quarter", "2021-06-01T09:15:00+02:00"), ("quarter", "2021-06-01T09:50:00+02:00")]
    # down from 09:50 to 10:41: of 10:00, 10:15 and 10:30 the latest is 11 min late (> 600 s): missed, logged
    clock.set(datetime(2021, 6, 1, 10, 41, tzinfo=AMS))
    late = service()
    with capture_logs() as logs:
        late.start()
        late.scheduler.step()
        late.shutdown()
    assert len(recorder.runs) == 2
    [missed] = [e for e in logs if e["event"] == "firing_skipped"]
    assert missed["reason"] == ("missed the firing of 2021-06-01T10:30:00+02:00 by more than the misfire grace time "
                                "(600 s)")


def test_run_now_ignores_the_calendar_and_records_its_run(tmp_path: Path, db: Database, clock: Clock) -> None:
    settings = settings_for(tmp_path, tick=BotSettings(module=BOT_MODULE))
    schedules = schedules_for(tmp_path, settings, """\
        calendars: {werkdagen: {hours: {mon-fri: "08:00-17:00"}}}
        jobs:
          office: {bot: tick, cron: "0 9 * * *", calendar: werkdagen}
        """)
    clock.set(datetime(2021, 6, 5, 11, 0, tzinfo=AMS))  # a Saturday
    service = SchedulerService(settings, db, schedules, clock=clock.now, scheduler_class=SteppingScheduler,
                               executor=DebugExecutor())
    service.start()
    try:
        request = control.add_request(db, "office", "run-now", "person:beheerder")
        service.poll()
        service.scheduler.step()
    finally:
        service.shutdown()
    outcome = control.get_request(db, request)
    with db.session() as s:
        [run] = s.scalars(sa.select(RunRow)).all()
    assert (outcome.outcome, outcome.run_id) == (f"ran: run {run.id}, completed, exit 0", run.id)
    assert run.trigger == "scheduler:office"


# -- alerts ----------------------------------------------------------------------------------------


@pytest.fixture
def smtp_sink() -> Iterator[tuple[int, list[Any]]]:
    """aiosmtpd on a free loopback port; yields (port, received envelopes)."""
    import socket

    from aiosmtpd.controller import Controller

    received: list[Any] = []

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            received.append(envelope)
            return "250 OK"

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    yield port, received
    controller.stop()


def test_failed_run_and_old_exception_are_mailed_once(tmp_path: Path, db: Database,
                                                      smtp_sink: tuple[int, list[Any]]) -> None:
    from email import message_from_bytes
    from email.policy import default

    from common.config import AlertSettings
    from common.workqueue import Failure, FailureKind

    port, received = smtp_sink
    settings = settings_for(tmp_path, tick=BotSettings(module=BOT_MODULE, options={"fail": True}, max_attempts=1,
                                                       backoff=BackoffSettings(initial=0, maximum=0)))
    settings.alerts = AlertSettings(smtp_host="127.0.0.1", smtp_port=port, security="none",
                                    from_address="softbot@gemeente.example", to=["beheer@gemeente.example"],
                                    exception_age_days=5)
    add_items(db, settings, "tick", 1)
    ten_days_ago = datetime.now(UTC) - timedelta(days=10)
    old = WorkQueue(db, "tick", blob_store(settings), clock=lambda: ten_days_ago)
    old.add(NewItem(reference="old-1", payload={"fields": {}},
                    failure=Failure(FailureKind.BUSINESS, ["bsn_invalid"], "BSN klopt niet")), actor="test")
    schedules = schedules_for(tmp_path, settings, "jobs:\n  work: {bot: tick, runs: process, cron: '0 9 * * *'}\n")
    service = SchedulerService(settings, db, schedules)
    service.fire("work")                     # the one item fails with a system exception: exit 1
    assert service.check_alerts() == []      # nothing new: each alert goes out once
    subjects = sorted(message_from_bytes(e.content, policy=default)["Subject"] for e in received)
    assert subjects == ["[softbot] 1 exception item(s) waiting longer than 5 days",
                        "[softbot] run of tick failed (exit 1)"]
    assert received[0].rcpt_tos == ["beheer@gemeente.example"]
    bodies = " ".join(message_from_bytes(e.content, policy=default).get_content() for e in received)
    assert "waiting 10 days  bsn_invalid" in bodies
    assert "system 1" in bodies              # the run's counts
