"""`config/schedules.yaml`: when each bot runs, validated with `file:line: field: problem` errors.

The file sits next to the settings file (`config/schedules.yaml` beside `config/softbot.yaml`, or
beside `--config`); `SOFTBOT_SCHEDULES` or `--file` point elsewhere. The administrator guide
(`docs/guides/administrator.md`) has a worked example. Shape:

    timezone: Europe/Amsterdam          # default for every job
    misfire_grace_seconds: 600          # a firing up to this late still runs (e.g. after a restart)
    calendars:
      kantoortijden:
        hours: {mon-fri: "07:00-18:00"}
        public_holidays: true
        open_on_holidays: [Goede vrijdag]
        closed: [{date: 2021-12-24, reason: kerstavond}]
    jobs:
      tonk-intake: {bot: tonk, runs: intake, cron: "*/15 * * * *", calendar: kantoortijden}
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.base import BaseTrigger
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from common.config import Settings, config_path
from common.errors import ConfigError
from common.scheduler.calendars import WorkingCalendar, dutch_holiday_names, parse_days, parse_window
from common.scheduler.triggers import WallClockCronTrigger, interval_trigger, utc_cron
from common.yamlfile import read_yaml, validation_messages

JOB_ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9_-]{0,49}")  # at most 50: runs.trigger (64) holds scheduler:<id>


def _check_job_id(value: str) -> str:
    if not JOB_ID_PATTERN.fullmatch(value):
        raise ValueError(f"job id {value!r}: use lower-case letters, digits, '-' and '_' (at most 50 characters), "
                         "e.g. tonk-intake")
    return value


JobId = Annotated[str, AfterValidator(_check_job_id)]


def schedules_path() -> Path:
    """`SOFTBOT_SCHEDULES`, else `schedules.yaml` in the settings file's folder."""
    explicit = os.environ.get("SOFTBOT_SCHEDULES")
    return Path(explicit) if explicit else config_path().parent / "schedules.yaml"


def _check_timezone(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value!r} (use an IANA name such as Europe/Amsterdam)") from None
    return value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ClosingDay(_Strict):
    """An extra day the office is closed, with the reason shown in the log."""

    date: date
    reason: str = "closing day"


class CalendarSpec(_Strict):
    """A working calendar as written in the file (see common.scheduler.calendars for the rules)."""

    hours: dict[str, str | list[str]] | None = Field(
        None, description="working hours per weekday or range of days, e.g. {mon-fri: 07:00-18:00}; "
                          "days not listed are closed; leave out for all day, every day")
    public_holidays: bool = Field(True, description="skip Dutch public holidays")
    open_on_holidays: list[str] = Field([], description="holiday names worked anyway, e.g. Goede vrijdag")
    closed: list[date | ClosingDay] = Field([], description="extra closing days")

    @field_validator("hours")
    @classmethod
    def _hours(cls, value: dict[str, str | list[str]] | None) -> dict[str, str | list[str]] | None:
        if value is None:
            return None
        seen: dict[int, str] = {}
        for key, windows in value.items():
            for day in parse_days(key):
                if day in seen:
                    raise ValueError(f"{key!r} repeats a day already given by {seen[day]!r}")
                seen[day] = key
            for text in [windows] if isinstance(windows, str) else windows:
                parse_window(text)
        return value

    @field_validator("open_on_holidays")
    @classmethod
    def _known_holidays(cls, value: list[str]) -> list[str]:
        known = dutch_holiday_names()
        unknown = [name for name in value if name not in known]
        if unknown:
            raise ValueError(f"unknown holiday name(s) {', '.join(map(repr, unknown))}; known: "
                             f"{', '.join(sorted(known))}")
        return value

    def build(self, name: str) -> WorkingCalendar:
        """The WorkingCalendar this spec describes (validated already)."""
        hours = None
        if self.hours is not None:
            hours = {}
            for key, windows in self.hours.items():
                parsed = [parse_window(t) for t in ([windows] if isinstance(windows, str) else windows)]
                for day in parse_days(key):
                    hours[day] = sorted(parsed, key=lambda w: w.start)
        closed = {(c.date if isinstance(c, ClosingDay) else c): (c.reason if isinstance(c, ClosingDay)
                                                                  else "closing day") for c in self.closed}
        return WorkingCalendar(name=name, hours=hours, public_holidays=self.public_holidays,
                               open_on_holidays=frozenset(self.open_on_holidays), closed=closed)


class IntervalSpec(_Strict):
    """Every so much elapsed time (anchored at midnight, so 15 minutes fires at :00, :15, :30, :45)."""

    days: int = Field(0, ge=0)
    hours: int = Field(0, ge=0)
    minutes: int = Field(0, ge=0)
    seconds: int = Field(0, ge=0)

    @model_validator(mode="after")
    def _positive(self) -> IntervalSpec:
        if self.total_seconds() <= 0:
            raise ValueError("an interval must be longer than 0 seconds")
        return self

    def total_seconds(self) -> int:
        return self.days * 86400 + self.hours * 3600 + self.minutes * 60 + self.seconds

    def __str__(self) -> str:
        parts = [f"{v}{u}" for v, u in ((self.days, "d"), (self.hours, "h"), (self.minutes, "m"),
                                        (self.seconds, "s")) if v]
        return "every " + " ".join(parts)


class JobSpec(_Strict):
    """One scheduled job: which bot, what it runs, when, and under which calendar."""

    bot: str = Field(description="a bot under `bots:` in config/softbot.yaml")
    runs: Literal["intake", "process", "both"] = Field(
        "both", description="intake: read the sources only; process: work the queue only; both: a full run")
    cron: str | None = Field(None, description="crontab: minute hour day-of-month month day-of-week")
    interval: IntervalSpec | None = None
    timezone: str | None = Field(None, description="default: the file's timezone")
    calendar: str | None = Field(None, description="a calendar under `calendars:`; none: always runs")
    misfire_grace_seconds: int | None = Field(None, ge=1, description="default: the file's")
    enabled: bool = True
    description: str = ""

    @field_validator("bot")
    @classmethod
    def _known_bot(cls, value: str, info: ValidationInfo) -> str:
        bots = (info.context or {}).get("bots")
        if bots is not None and value not in bots:
            raise ValueError(f"unknown bot {value!r} (bots in the settings file: {', '.join(sorted(bots)) or 'none'})")
        return value

    @field_validator("cron")
    @classmethod
    def _cron(cls, value: str | None) -> str | None:
        if value is not None:
            utc_cron(value)
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str | None) -> str | None:
        return _check_timezone(value)

    @field_validator("calendar")
    @classmethod
    def _known_calendar(cls, value: str | None, info: ValidationInfo) -> str | None:
        calendars = (info.context or {}).get("calendars")
        if value is not None and calendars is not None and value not in calendars:
            raise ValueError(f"unknown calendar {value!r} (calendars in this file: "
                             f"{', '.join(sorted(calendars)) or 'none'})")
        return value

    @model_validator(mode="after")
    def _one_trigger(self) -> JobSpec:
        if (self.cron is None) == (self.interval is None):
            raise ValueError("give exactly one of `cron` and `interval`")
        return self


class ScheduleFile(_Strict):
    """The whole of config/schedules.yaml."""

    timezone: str = "Europe/Amsterdam"
    misfire_grace_seconds: int = Field(600, ge=1, description="a firing this many seconds late still runs")
    poll_seconds: float = Field(5.0, ge=0.05, le=300, description="how often the service reads requests "
                                "(pause, resume, run-now) from the database")
    calendars: dict[str, CalendarSpec] = {}
    jobs: dict[JobId, JobSpec] = {}

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        _check_timezone(value)
        return value


@dataclass(frozen=True)
class ScheduledJob:
    """A job with every default applied, ready for the service and for `schedule list`.

    Attributes:
        trigger: a WallClockCronTrigger or an APScheduler IntervalTrigger, in `timezone`.
        produce, consume: what one run does (from `runs`).
        when: the trigger as the administrator wrote it, e.g. `cron 0 9 * * 1-5` or `every 15m`.
    """

    id: str
    bot: str
    runs: str
    trigger: BaseTrigger
    timezone: str
    calendar: WorkingCalendar | None
    misfire_grace_seconds: int
    enabled: bool
    description: str
    when: str

    @property
    def produce(self) -> bool:
        return self.runs in ("intake", "both")

    @property
    def consume(self) -> bool:
        return self.runs in ("process", "both")

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@dataclass(frozen=True)
class Schedules:
    """The loaded schedules file: jobs by id (file order), poll interval, and warnings that are not errors."""

    path: Path
    jobs: dict[str, ScheduledJob]
    poll_seconds: float
    warnings: list[str]

    def job(self, job_id: str) -> ScheduledJob:
        """The job `job_id`. Raises ConfigError("schedule.unknown_job") naming the known jobs."""
        try:
            return self.jobs[job_id]
        except KeyError:
            known = ", ".join(self.jobs) or "none"
            raise ConfigError("schedule.unknown_job",
                              f"no job {job_id!r} in {self.path} (jobs: {known})") from None


def _calendar_names(data: Any) -> set[str] | None:
    calendars = data.get("calendars") if isinstance(data, dict) else None
    return set(calendars) if isinstance(calendars, dict) else (set() if calendars is None else None)


def load_schedules(path: Path, settings: Settings) -> Schedules:
    """Read and validate `path` against the bots in `settings`.

    Raises:
        ConfigError("config.unreadable" | "config.invalid_yaml" | "config.invalid"): with every
        problem at once, one `file:line: field: problem` per line.
    """
    data, node = read_yaml(path)
    data = data if data is not None else {}
    context = {"bots": set(settings.bots), "calendars": _calendar_names(data)}
    try:
        spec = ScheduleFile.model_validate(data, context=context)
    except ValidationError as exc:
        raise ConfigError("config.invalid", "\n".join(validation_messages(path, node, exc))) from exc
    calendars = {name: cal.build(name) for name, cal in spec.calendars.items()}
    jobs: dict[str, ScheduledJob] = {}
    warnings: list[str] = []
    for job_id, job in spec.jobs.items():
        zone = job.timezone or spec.timezone
        if job.cron is not None:
            trigger: BaseTrigger = WallClockCronTrigger(job.cron, zone)
            when = f"cron {job.cron}"
        else:
            assert job.interval is not None
            trigger = interval_trigger(zone, days=job.interval.days, hours=job.interval.hours,
                                       minutes=job.interval.minutes, seconds=job.interval.seconds)
            when = str(job.interval)
        if job.enabled and not settings.bots[job.bot].enabled:
            warnings.append(f"{path}: jobs.{job_id}.bot: bot {job.bot!r} is disabled in the settings file; "
                            "its firings will be skipped")
        jobs[job_id] = ScheduledJob(
            id=job_id, bot=job.bot, runs=job.runs, trigger=trigger, timezone=zone,
            calendar=calendars[job.calendar] if job.calendar else None,
            misfire_grace_seconds=job.misfire_grace_seconds or spec.misfire_grace_seconds,
            enabled=job.enabled, description=job.description, when=when)
    return Schedules(path=path, jobs=jobs, poll_seconds=spec.poll_seconds, warnings=warnings)


def trigger_name(job_id: str) -> str:
    """The `runs.trigger` value of runs this job starts: `scheduler:<job-id>`."""
    return f"scheduler:{job_id}"


def job_id_of(trigger: str) -> str | None:
    """The job id in a `scheduler:<job-id>` trigger, or None."""
    match = re.fullmatch(r"scheduler:(.+)", trigger)
    return match.group(1) if match else None
