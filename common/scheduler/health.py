"""`softbot health`: can a run work right now, and what needs attention.

Checks what a run needs (the database, each configured source of each enabled bot, the case
system's login page) and reports the last run per bot, the oldest open exception per bot with its
age, and whether the scheduler service holds its lease. Status per line:

- `ok`, `down` (a run would fail: the command exits 1),
- `warn` (needs a look: last run failed, exception older than `alerts.exception_age_days`,
  scheduler not running while jobs are scheduled), `info`, `unchecked` (no check available).

Sources: each configured source object is asked through its `check() -> str` (returns a short
detail, raises SystemException when a run could not read it): IMAP logs in and counts, the portal
authenticates, a Maildir is opened read-only (a missing one is reported, never created). A source
kind without `check()` is reported as `unchecked`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

import httpx
import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from common.config import MaildirSourceSettings, Settings, SourceSettings
from common.db import Database, open_database, utcnow
from common.errors import ConfigError, SoftbotError
from common.scheduler import control
from common.sources.base import Source
from common.workqueue.models import RunRow, WorkItemRow

Status = Literal["ok", "down", "warn", "info", "unchecked"]
HTTP_TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class Check:
    """One line of the health report: `name` (e.g. `tonk: source tonk-postbus`), status, detail."""

    name: str
    status: Status
    detail: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def open_source(conf: SourceSettings) -> Source:
    """The source object for one configured source, without side effects on a Maildir (read-only:
    a missing Maildir is not created). Raises ConfigError (kind not available, secret not set)."""
    if isinstance(conf, MaildirSourceSettings):
        from common.sources.maildir import MaildirSource

        return MaildirSource(conf.name, Path(conf.path), conf.processed_folder, read_only=True)
    from common.sources.factory import build_source

    return build_source(conf)


def check_source(conf: SourceSettings) -> Check:
    """One configured source, through its source object's `check()` (the hook every source kind offers)."""
    name = f"source {conf.name}"
    if isinstance(conf, MaildirSourceSettings) and not Path(conf.path).is_dir():
        return Check(name, "down", f"Maildir {conf.path} does not exist")
    try:
        source = open_source(conf)
    except ConfigError as exc:
        return Check(name, "down", exc.message)
    try:
        probe = getattr(source, "check", None)
        if probe is None:
            return Check(name, "unchecked", f"{conf.kind}: this source kind offers no check() yet")
        return Check(name, "ok", str(probe()))
    except SoftbotError as exc:
        return Check(name, "down", exc.message)
    except Exception as exc:  # noqa: BLE001 - whatever a source's check raises, the source is down; say what
        return Check(name, "down", f"{type(exc).__name__}: {exc}")
    finally:
        source.close()


def check_casesystem(url: str, client: httpx.Client) -> Check:
    """The case system's login page answers with HTTP 2xx/3xx (after redirects)."""
    started = time.monotonic()
    try:
        response = client.get(url)
    except httpx.HTTPError as exc:
        return Check("case system", "down", f"{url}: {type(exc).__name__}: {exc}")
    millis = round((time.monotonic() - started) * 1000)
    if response.status_code >= 400:
        return Check("case system", "down", f"{url}: HTTP {response.status_code}")
    return Check("case system", "ok", f"{url}: HTTP {response.status_code} in {millis} ms")


def _age(now: datetime, then: datetime) -> str:
    seconds = int((now - then).total_seconds())
    if seconds >= 86400:
        return f"{seconds // 86400} d {seconds % 86400 // 3600} h"
    if seconds >= 3600:
        return f"{seconds // 3600} h {seconds % 3600 // 60} min"
    return f"{seconds // 60} min"


def last_run(db: Database, bot: str, now: datetime) -> Check:
    """The newest run of `bot`, any trigger: warn when it failed or crashed."""
    with db.session() as s:
        run = s.scalars(sa.select(RunRow).where(RunRow.bot == bot).order_by(RunRow.started_at.desc()).limit(1)).first()
        if run is None:
            return Check("last run", "info", "no run yet")
        failed = run.status == "crashed" or (run.exit_code or 0) != 0
        detail = (f"{run.id} ({run.command}, {run.trigger}): {run.status}"
                  + (f", exit {run.exit_code}" if run.exit_code is not None else "")
                  + f", started {_age(now, run.started_at)} ago")
    return Check("last run", "warn" if failed else "ok", detail)


def oldest_exception(db: Database, queue: str, now: datetime, warn_days: int) -> Check:
    """The oldest failed item of `queue` (open exception) and its age; warn beyond `warn_days`."""
    with db.session() as s:
        count = s.scalar(sa.select(sa.func.count()).select_from(WorkItemRow)
                         .where(WorkItemRow.queue == queue, WorkItemRow.state == "failed")) or 0
        oldest = s.execute(sa.select(WorkItemRow.id, WorkItemRow.updated_at, WorkItemRow.reason_codes)
                           .where(WorkItemRow.queue == queue, WorkItemRow.state == "failed")
                           .order_by(WorkItemRow.updated_at).limit(1)).first()
    if oldest is None:
        return Check("exceptions", "ok", "none open")
    too_old = (now - oldest.updated_at).days >= warn_days
    return Check("exceptions", "warn" if too_old else "info",
                 f"{count} open; oldest item {oldest.id} ({', '.join(oldest.reason_codes)}), waiting "
                 f"{_age(now, oldest.updated_at)}" + (f" (more than {warn_days} days)" if too_old else ""))


def run_checks(settings: Settings, *, open_db: Callable[[str], Database] = open_database,
               client: httpx.Client | None = None, now: datetime | None = None,
               jobs_scheduled: bool = False) -> list[Check]:
    """Every check, in report order. `jobs_scheduled`: enabled jobs exist, so a missing service is a warning."""
    now = now or utcnow()
    checks: list[Check] = []
    db: Database | None = None
    try:
        db = open_db(settings.database)
        with db.session() as s:
            s.execute(sa.text("SELECT 1"))
        checks.append(Check("database", "ok", f"{db.dialect} reachable"))
    except ConfigError as exc:  # open_database: cannot be reached or opened (URL shown without its password)
        checks.append(Check("database", "down", exc.message))
        db = None
    except (SQLAlchemyError, OSError) as exc:
        checks.append(Check("database", "down", f"{type(exc).__name__}: {str(exc).splitlines()[0]}"))
        if db is not None:
            db.dispose()
        db = None
    own_client = client is None
    http = client or httpx.Client(timeout=HTTP_TIMEOUT_SECONDS, follow_redirects=True)
    try:
        for name, bot in settings.bots.items():
            if not bot.enabled:
                checks.append(Check(f"{name}", "info", "disabled in the settings file"))
                continue
            for source in bot.sources:
                checks.append(_named(name, check_source(source)))
            if bot.casesystem is not None:
                checks.append(_named(name, check_casesystem(bot.casesystem.url, http)))
            if db is not None:
                checks.append(_named(name, last_run(db, name, now)))
                checks.append(_named(name, oldest_exception(db, bot.queue or name, now,
                                                            settings.alerts.exception_age_days)))
        if db is not None:
            status = control.service_status(db, now)
            checks.append(Check("scheduler", "ok" if status.running else ("warn" if jobs_scheduled else "info"),
                                status.describe()))
    finally:
        if own_client:
            http.close()
        if db is not None:
            db.dispose()
    return checks


def _named(bot: str, check: Check) -> Check:
    return Check(f"{bot}: {check.name}", check.status, check.detail)


def exit_code(checks: list[Check]) -> int:
    """1 when anything is down, else 0."""
    return 1 if any(c.status == "down" for c in checks) else 0
