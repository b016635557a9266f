"""`softbot health`: can a run work right now, and what needs attention.

Checks what a run needs (the database, each configured source of each enabled bot, the case
system's login page) and reports the last run per bot, the oldest open exception per bot with its
age, and whether the scheduler service holds its lease. Status per line:

- `ok`, `down` (a run would fail: the command exits 1),
- `warn` (needs a look: last run failed, exception older than `alerts.exception_age_days`,
  scheduler not running while jobs are scheduled), `info`, `unchecked` (no check available).

Sources: a Maildir is checked here (folder with cur/new/tmp, readable and writable). For every
other kind the source object built by `common.sources.factory.build_sources` is asked: if it has
`check() -> str` (returns a short detail, raises when unreachable), that is the check; if it has
none, the line says `unchecked`. This is the hook for the IMAP and portal sources.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

import httpx
import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from common.config import BotSettings, MaildirSourceSettings, Settings, SourceSettings
from common.db import Database, utcnow
from common.errors import ConfigError
from common.scheduler import control
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


def check_maildir(conf: MaildirSourceSettings) -> Check:
    """A Maildir source: the folder exists with cur/, new/ and tmp/, and this user may read and move mail."""
    name = f"source {conf.name}"
    path = Path(conf.path)
    if not path.is_dir():
        return Check(name, "down", f"Maildir {path} does not exist")
    missing = [sub for sub in ("cur", "new", "tmp") if not (path / sub).is_dir()]
    if missing:
        return Check(name, "down", f"{path} is not a Maildir (no {', '.join(missing)}/)")
    if not all(os.access(path / sub, os.R_OK | os.W_OK | os.X_OK) for sub in ("cur", "new", "tmp")):
        return Check(name, "down", f"Maildir {path}: no permission to read and move mail")
    waiting = sum(1 for sub in ("new", "cur") for f in (path / sub).iterdir() if not f.name.startswith("."))
    return Check(name, "ok", f"Maildir {path}: {waiting} message(s) waiting")


def check_source(settings: Settings, bot: BotSettings, conf: SourceSettings) -> Check:
    """One configured source: Maildir here, any other kind through its source object's `check()`."""
    if isinstance(conf, MaildirSourceSettings):
        return check_maildir(conf)
    from common.sources.factory import build_sources

    name = f"source {conf.name}"
    try:
        sources = build_sources(settings, bot.model_copy(update={"sources": [conf]}))
    except ConfigError as exc:
        return Check(name, "down", exc.message)
    source = sources[0]
    try:
        probe = getattr(source, "check", None)
        if probe is None:
            return Check(name, "unchecked", f"{conf.kind}: this source kind offers no check() yet")
        return Check(name, "ok", str(probe()))
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


def run_checks(settings: Settings, *, open_db: Callable[[str], Database] = Database,
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
                checks.append(_named(name, check_source(settings, bot, source)))
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
