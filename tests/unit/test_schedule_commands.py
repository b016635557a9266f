"""`softbot schedule pause|resume|run-now|list` without a service: requests wait in the database."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from common.commands import app
from common.db import Database
from common.scheduler import control


@pytest.fixture
def deployment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "softbot.yaml").write_text(f"data_dir: {tmp_path / 'data'}\nruns_dir: {tmp_path / 'runs'}\n"
                                           "bots:\n  tonk: {}\n", encoding="utf-8")
    (tmp_path / "schedules.yaml").write_text("""\
calendars:
  kantoor: {hours: {mon-fri: "08:00-17:00"}}
jobs:
  tonk-intake: {bot: tonk, runs: intake, interval: {minutes: 15}}
  tonk-process: {bot: tonk, runs: process, cron: "0 9 * * 1-5", calendar: kantoor}
  tonk-night: {bot: tonk, cron: "30 2 * * *", enabled: false}
""", encoding="utf-8")
    monkeypatch.setenv("SOFTBOT_CONFIG", str(tmp_path / "softbot.yaml"))
    monkeypatch.delenv("SOFTBOT_SCHEDULES", raising=False)
    return tmp_path


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, " ".join(result.output.split())


def test_pause_without_a_service_waits_in_the_control_table(deployment: Path) -> None:
    code, output = invoke("schedule", "pause", "tonk-process", "--as", "beheerder")
    assert code == 0
    assert ("pause tonk-process: requested (request 1); the scheduler service is not running: it applies the "
            "request when it starts") in output
    db = Database(f"sqlite:///{deployment / 'data' / 'softbot.db'}")
    try:
        [request] = control.pending_requests(db)
        assert (request.job_id, request.action, request.requested_by) == ("tonk-process", "pause", "person:beheerder")
    finally:
        db.dispose()


def test_wait_gives_up_with_exit_1_when_no_service_applies_it(deployment: Path) -> None:
    code, output = invoke("schedule", "resume", "tonk-intake", "--wait", "1")
    assert code == 1
    assert "request 1 not applied within 1 s: is the scheduler service running?" in output


def test_unknown_and_disabled_jobs_are_usage_errors(deployment: Path) -> None:
    code, output = invoke("schedule", "run-now", "tonk")
    assert code == 2
    assert "no job 'tonk' in" in output and "(jobs: tonk-intake, tonk-process, tonk-night)" in output
    code, output = invoke("schedule", "pause", "tonk-night")
    assert code == 2
    assert "job 'tonk-night' is disabled" in output


def test_list_shows_state_pending_requests_and_no_runs_yet(deployment: Path) -> None:
    invoke("schedule", "pause", "tonk-process")
    result = CliRunner().invoke(app, ["schedule", "list", "--json"])
    assert result.exit_code == 0
    listed = json.loads(result.stdout)
    assert listed["service"] == {"running": False, "owner": None}
    assert [(j["id"], j["state"], j["calendar"], j["last_run"]) for j in listed["jobs"]] == [
        ("tonk-intake", "active", None, None),
        ("tonk-process", "active (pause requested)", "kantoor", None),   # not applied: no service runs
        ("tonk-night", "disabled", None, None),
    ]
    assert listed["jobs"][0]["next_run"] is not None and listed["jobs"][2]["next_run"] is None
