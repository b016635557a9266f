"""Alerts to an administrator by mail: a run failed, or an exception item waits too long.

Settings: `alerts:` in config/softbot.yaml (common.config.AlertSettings); the SMTP password comes
from the environment variable named by `alerts.password_env`. The scheduler service checks after
each firing and every few minutes; each alert is mailed once (a row in `alerts_sent`, written
after the mail went out, so a failed send is tried again at the next check).

Mails carry ids, counts and reason codes only: no BSNs, names or amounts (they go to a mailbox
outside the exception queue's access control).
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from common.config import AlertSettings, Settings, secret_from_env
from common.db import Database, utcnow
from common.errors import ConfigError, SystemException
from common.logging import get_logger
from common.scheduler.models import AlertSentRow
from common.workqueue.models import RunRow, WorkItemRow

log = get_logger(__name__)

FAILED_RUN_LOOKBACK = timedelta(days=1)  # failed runs that ended longer ago than this are not mailed
SMTP_TIMEOUT_SECONDS = 10


class Mailer:
    """Sends one plain-text mail through the configured SMTP server.

    Raises (from `send`): SystemException("alerts.smtp") when the server refuses or cannot be reached;
    ConfigError when the password variable is named but not set.
    """

    def __init__(self, conf: AlertSettings) -> None:
        self.conf = conf

    def send(self, subject: str, body: str) -> None:
        conf = self.conf
        if not conf.enabled or conf.smtp_host is None:
            raise SystemException("alerts.off", "alerts are not configured (alerts.smtp_host, alerts.to)")
        message = EmailMessage()
        message["From"] = conf.from_address
        message["To"] = ", ".join(conf.to)
        message["Subject"] = subject
        message.set_content(body)
        try:
            if conf.security == "tls":
                client: smtplib.SMTP = smtplib.SMTP_SSL(conf.smtp_host, conf.smtp_port, timeout=SMTP_TIMEOUT_SECONDS,
                                                        context=ssl.create_default_context())
            else:
                client = smtplib.SMTP(conf.smtp_host, conf.smtp_port, timeout=SMTP_TIMEOUT_SECONDS)
            with client:
                if conf.security == "starttls":
                    client.starttls(context=ssl.create_default_context())
                if conf.username:
                    if not conf.password_env:
                        raise ConfigError("config.alerts", "alerts.username is set: name the password's "
                                                           "environment variable in alerts.password_env")
                    client.login(conf.username,
                                 secret_from_env(conf.password_env, "alerts.password_env").get_secret_value())
                client.send_message(message)
        except (OSError, smtplib.SMTPException) as exc:
            raise SystemException("alerts.smtp", f"cannot send alert mail via {conf.smtp_host}:{conf.smtp_port}: "
                                                 f"{type(exc).__name__}: {exc}") from exc


@dataclass(frozen=True)
class Alert:
    """One mail to send: `key` makes it once-only (`run-failed:<run-id>`, `old-exceptions:<date>`)."""

    key: str
    subject: str
    body: str


class Alerts:
    """Finds what deserves a mail and sends each alert once.

    Args:
        settings: for `alerts` and the time zone used in texts.
        db: the project database.
        mailer: sends mail (tests pass one pointing at a local SMTP server).
        clock: aware UTC now.
    """

    def __init__(self, settings: Settings, db: Database, mailer: Mailer | None = None,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.settings = settings
        self.conf = settings.alerts
        self.db = db
        self.mailer = mailer or Mailer(settings.alerts)
        self.clock = clock
        self.zone = ZoneInfo(settings.timezone)

    @property
    def enabled(self) -> bool:
        return self.conf.enabled

    def check(self) -> list[str]:
        """Mail every new alert; returns the keys sent. An SMTP failure is logged and retried next time."""
        if not self.enabled:
            return []
        sent = []
        for alert in [*self.failed_runs(), *self.old_exceptions()]:
            if self._already_sent(alert.key):
                continue
            try:
                self.mailer.send(alert.subject, alert.body)
            except (SystemException, ConfigError) as exc:
                log.warning("alert_not_sent", key=alert.key, error=exc.message)
                continue
            with self.db.session() as s:
                s.add(AlertSentRow(key=alert.key, subject=alert.subject, sent_at=self.clock(),
                                   recipients=", ".join(self.conf.to)))
            log.info("alert_sent", key=alert.key, to=len(self.conf.to))
            sent.append(alert.key)
        return sent

    def _already_sent(self, key: str) -> bool:
        with self.db.session() as s:
            return s.get(AlertSentRow, key) is not None

    def failed_runs(self) -> list[Alert]:
        """One alert per run that ended in the last day with a non-zero exit code or crashed."""
        since = self.clock() - FAILED_RUN_LOOKBACK
        with self.db.session() as s:
            runs = s.scalars(sa.select(RunRow).where(RunRow.ended_at >= since, RunRow.exit_code != 0)
                             .order_by(RunRow.ended_at)).all()
            s.expunge_all()
        alerts = []
        for run in runs:
            counts = ", ".join(f"{k} {v}" for k, v in sorted(run.counts.items())) or "none"
            ended = run.ended_at.astimezone(self.zone) if run.ended_at else None
            alerts.append(Alert(
                key=f"run-failed:{run.id}",
                subject=f"[softbot] run of {run.bot} {'crashed' if run.status == 'crashed' else 'failed'} "
                        f"(exit {run.exit_code})",
                body=(f"Run {run.id} of bot {run.bot} ({run.command}, started by {run.trigger}) ended "
                      f"{ended:%Y-%m-%d %H:%M %Z} with status {run.status}, exit code {run.exit_code}.\n\n"
                      f"Counts: {counts}\n"
                      f"Run folder: {run.folder} (log.jsonl, summary.json, failure screenshots)\n\n"
                      f"Exit code 1 means some items failed with a system exception (the case system or a "
                      f"source misbehaved) or the run crashed; see `softbot health` and the run folder.\n")))
        return alerts

    def old_exceptions(self) -> list[Alert]:
        """At most one alert per day while failed items wait longer than `exception_age_days`."""
        now = self.clock()
        limit = now - timedelta(days=self.conf.exception_age_days)
        with self.db.session() as s:
            rows = s.execute(sa.select(WorkItemRow.id, WorkItemRow.queue, WorkItemRow.reason_codes,
                                       WorkItemRow.updated_at)
                             .where(WorkItemRow.state == "failed", WorkItemRow.updated_at < limit)
                             .order_by(WorkItemRow.updated_at)).all()
        if not rows:
            return []
        today = now.astimezone(self.zone).date()
        lines = [f"  item {r.id:>6}  {r.queue:<12} waiting {(now - r.updated_at).days} days  "
                 f"{', '.join(r.reason_codes)}" for r in rows[:50]]
        more = f"\n  ... and {len(rows) - 50} more" if len(rows) > 50 else ""
        return [Alert(
            key=f"old-exceptions:{today.isoformat()}",
            subject=f"[softbot] {len(rows)} exception item(s) waiting longer than "
                    f"{self.conf.exception_age_days} days",
            body=(f"These work items are in the exception queue for longer than {self.conf.exception_age_days} "
                  f"days (oldest first):\n\n" + "\n".join(lines) + more +
                  "\n\nA caseworker can see why with `softbot queue show <id>` and correct and requeue "
                  "or resolve it.\n"))]
