"""`softbot health`: what a run needs is checked for real (SQLite, a Maildir, an HTTP server on a free port)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from common.commands import app
from common.config import BotSettings, CaseSystemSettings, MaildirSourceSettings, PortalSourceSettings, Settings
from common.db import Database
from common.runs import blob_store
from common.scheduler.health import Check, check_source, exit_code, run_checks
from common.workqueue import Failure, FailureKind, NewItem, WorkQueue
from common.workqueue.models import RunRow

NOW = datetime(2021, 10, 12, 8, 0, tzinfo=UTC)


class _Login(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        status = 200 if self.path in ("/", "/login") else 404
        self.send_response(status)
        self.end_headers()
        self.wfile.write(b"<form>Inloggen</form>")

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def login_page() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Login)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def maildir(path: Path) -> Path:
    for sub in ("cur", "new", "tmp"):
        (path / sub).mkdir(parents=True, exist_ok=True)
    (path / "new" / "1.eml").write_bytes(b"Subject: x\n\nx")
    return path


def settings_with(tmp_path: Path, url: str, mailbox: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", runs_dir=tmp_path / "runs", bots={
        "tonk": BotSettings(sources=[MaildirSourceSettings(kind="maildir", name="postbus", path=mailbox)],
                            casesystem=CaseSystemSettings(url=url, username="robot")),
    })


def seed(settings: Settings) -> None:
    db = Database(settings.database)
    try:
        with db.session() as s:
            s.add(RunRow(id="20211012T060000Z-tonk-aaaaaa", bot="tonk", command="run", trigger="scheduler:tonk-intake",
                         host="h", pid=1, folder="runs/x", status="completed", exit_code=1, counts={"system": 1},
                         started_at=NOW - timedelta(hours=2), ended_at=NOW - timedelta(hours=2) + timedelta(minutes=3)))
        for days, ref in ((8, "old"), (1, "new")):
            queue = WorkQueue(db, "tonk", blob_store(settings), clock=lambda d=days: NOW - timedelta(days=d, hours=3))
            queue.add(NewItem(reference=ref, payload={}, failure=Failure(FailureKind.BUSINESS, ["bsn_invalid"], "x")),
                      actor="test")
    finally:
        db.dispose()


def test_everything_up_reports_last_run_and_oldest_exception(tmp_path: Path, login_page: str) -> None:
    settings = settings_with(tmp_path, login_page, maildir(tmp_path / "mail"))
    seed(settings)
    checks = run_checks(settings, now=NOW)
    assert [(c.name, c.status) for c in checks] == [
        ("database", "ok"), ("tonk: source postbus", "ok"), ("tonk: case system", "ok"),
        ("tonk: last run", "warn"), ("tonk: exceptions", "warn"), ("scheduler", "info"),
    ]
    by_name = {c.name: c.detail for c in checks}
    assert by_name["tonk: source postbus"] == f"Maildir {tmp_path / 'mail'}: 1 message(s) waiting"
    assert by_name["tonk: case system"].startswith(f"{login_page}: HTTP 200 in ")
    assert by_name["tonk: last run"] == ("20211012T060000Z-tonk-aaaaaa (run, scheduler:tonk-intake): completed, "
                                         "exit 1, started 2 h 0 min ago")
    # the older of the two failed items: 8 days 3 hours; alerts.exception_age_days defaults to 5
    assert by_name["tonk: exceptions"] == ("2 open; oldest item 1 (bsn_invalid), waiting 8 d 3 h "
                                           "(more than 5 days)")
    assert by_name["scheduler"] == "not running"
    assert exit_code(checks) == 0   # warnings are not "down"


def test_missing_maildir_and_silent_case_system_are_down(tmp_path: Path) -> None:
    settings = settings_with(tmp_path, "http://127.0.0.1:9/", tmp_path / "nowhere")  # port 9: discard, closed
    checks = {c.name: c for c in run_checks(settings, now=NOW)}
    assert checks["tonk: source postbus"] == Check("tonk: source postbus", "down",
                                                   f"Maildir {tmp_path / 'nowhere'} does not exist")
    assert checks["tonk: case system"].status == "down"
    assert checks["tonk: case system"].detail.startswith("http://127.0.0.1:9/: ConnectError")
    assert not (tmp_path / "nowhere").exists()  # the check creates nothing
    assert exit_code(list(checks.values())) == 1


def test_case_system_answering_404_is_down(tmp_path: Path, login_page: str) -> None:
    settings = settings_with(tmp_path, f"{login_page}/verkeerd", maildir(tmp_path / "mail"))
    checks = {c.name: c for c in run_checks(settings, now=NOW)}
    assert checks["tonk: case system"] == Check("tonk: case system", "down", f"{login_page}/verkeerd: HTTP 404")


def test_unreachable_database_is_down(tmp_path: Path) -> None:
    settings = Settings(database_url="postgresql+psycopg://nobody:geheim@127.0.0.1:9/none", bots={})
    [database] = run_checks(settings, now=NOW)
    assert database.name == "database" and database.status == "down"
    assert database.detail.startswith("database postgresql+psycopg://nobody:***@127.0.0.1:9/none: cannot open it: "
                                      "connection failed: ")  # the password is never shown


def test_other_source_kinds_use_their_check_hook(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    portal = PortalSourceSettings(kind="portal", name="eformulieren", base_url="http://portal", token_env="T", form="x")

    class Probe:
        name = "eformulieren"
        closed = False

        def check(self) -> str:
            return "3 submissions waiting"

        def close(self) -> None:
            Probe.closed = True

    class NoProbe(Probe):
        check = None  # type: ignore[assignment]

    import common.sources.factory as factory

    monkeypatch.setattr(factory, "build_source", lambda conf: Probe())
    assert check_source(portal) == Check("source eformulieren", "ok", "3 submissions waiting")
    assert Probe.closed
    monkeypatch.setattr(factory, "build_source", lambda conf: NoProbe())
    assert check_source(portal).status == "unchecked"


def test_a_source_whose_secret_is_missing_is_down(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SOFTBOT_TEST_PORTAL_TOKEN", raising=False)
    portal = PortalSourceSettings(kind="portal", name="eformulieren", base_url="http://portal",
                                  token_env="SOFTBOT_TEST_PORTAL_TOKEN", form="x")
    check = check_source(portal)
    assert (check.status, check.detail) == ("down", "source eformulieren: token_env: environment variable "
                                                    "SOFTBOT_TEST_PORTAL_TOKEN is not set")


def test_health_command_json_and_exit_code(tmp_path: Path, login_page: str, monkeypatch: pytest.MonkeyPatch) -> None:
    mailbox = maildir(tmp_path / "mail")
    config = tmp_path / "softbot.yaml"
    config.write_text(f"""\
data_dir: {tmp_path / 'data'}
runs_dir: {tmp_path / 'runs'}
bots:
  tonk:
    sources: [{{kind: maildir, name: postbus, path: {mailbox}}}]
    casesystem: {{url: "{login_page}", username: robot}}
""", encoding="utf-8")
    monkeypatch.setenv("SOFTBOT_CONFIG", str(config))
    monkeypatch.delenv("SOFTBOT_SCHEDULES", raising=False)
    result = CliRunner().invoke(app, ["health", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["healthy"] is True
    assert [c["status"] for c in report["checks"]] == ["ok", "ok", "ok", "info", "ok", "info"]
    (mailbox / "new").rename(tmp_path / "gone")
    result = CliRunner().invoke(app, ["health", "--json"])
    assert result.exit_code == 1
    assert json.loads(result.stdout)["checks"][1]["detail"] == f"{mailbox} is not a Maildir (no new/)"
