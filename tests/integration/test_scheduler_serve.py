"""`softbot schedule serve` as a real process: pause/resume survive a restart, and one service per database.

The services run the tiny bot of `tests/integration/scheduler_bot.py` (no browser) against a temp
SQLite database and a temp settings file (`SOFTBOT_CONFIG`); the schedules file sits next to it.
`pause`, `resume` and `list` only talk to the database, so they run in this process (CliRunner) to
keep the test quick. The test waits for database facts (runs recorded, requests applied), never for
a fixed time.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import Result
from typer.testing import CliRunner

from common.commands import app
from common.db import Database
from common.scheduler import control
from common.workqueue.models import RunRow

REPO = Path(__file__).resolve().parents[2]
BOT_MODULE = "tests.integration.scheduler_bot"


@pytest.fixture
def deployment(tmp_path: Path) -> dict[str, str]:
    """Settings and schedules files in tmp_path; returns the environment for `softbot` processes."""
    (tmp_path / "softbot.yaml").write_text(f"""\
data_dir: {tmp_path / 'data'}
runs_dir: {tmp_path / 'runs'}
bots:
  tick: {{module: {BOT_MODULE}}}
  tock: {{module: {BOT_MODULE}}}
""", encoding="utf-8")
    (tmp_path / "schedules.yaml").write_text("""\
poll_seconds: 0.2
jobs:
  tick-every: {bot: tick, runs: both, interval: {seconds: 1}}
  tock-every: {bot: tock, runs: both, interval: {seconds: 1}}
""", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOFTBOT_")}
    env.update(SOFTBOT_CONFIG=str(tmp_path / "softbot.yaml"), PYTHONPATH=str(REPO))
    return env


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 'data' / 'softbot.db'}")
    yield database
    database.dispose()


def softbot(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "common.cli", *args], env=env, cwd=REPO, capture_output=True,
                          text=True, timeout=120)


def softbot_here(env: dict[str, str], monkeypatch: pytest.MonkeyPatch, *args: str) -> Result:
    """A database-only command in this process, with the deployment's settings file."""
    monkeypatch.setenv("SOFTBOT_CONFIG", env["SOFTBOT_CONFIG"])
    monkeypatch.delenv("SOFTBOT_SCHEDULES", raising=False)
    return CliRunner().invoke(app, list(args))


class Service:
    """One `softbot schedule serve` process, its output in files."""

    def __init__(self, env: dict[str, str], folder: Path, name: str) -> None:
        self.log = folder / f"{name}.log"
        with self.log.open("w") as out:
            self.process = subprocess.Popen([sys.executable, "-m", "common.cli", "schedule", "serve"], env=env,
                                            cwd=REPO, stdout=out, stderr=subprocess.STDOUT)

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=60)


@pytest.fixture
def services() -> Iterator[list[Service]]:
    started: list[Service] = []
    yield started
    for service in started:
        if service.process.poll() is None:
            service.process.kill()
            service.process.wait(timeout=30)


def wait_until(what: str, condition: Callable[[], bool], service: Service, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if service.process.poll() is not None:
            pytest.fail(f"the service exited ({service.process.returncode}) waiting for {what}:\n{service.output()}")
        if time.monotonic() > deadline:
            pytest.fail(f"not seen within {timeout} s: {what}\n{service.output()}")
        time.sleep(0.1)


def runs_of(db: Database, job_id: str) -> int:
    with db.session() as s:
        return s.scalar(sa.select(sa.func.count()).select_from(RunRow)
                        .where(RunRow.trigger == f"scheduler:{job_id}", RunRow.status != "running")) or 0


def test_pause_and_resume_survive_a_restart_of_the_service(tmp_path: Path, deployment: dict[str, str],
                                                           db: Database, services: list[Service],
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    first = Service(deployment, tmp_path, "first")
    services.append(first)
    wait_until("a run of tick-every", lambda: runs_of(db, "tick-every") >= 1, first)

    paused = softbot_here(deployment, monkeypatch, "schedule", "pause", "tick-every", "--wait", "30",
                          "--as", "beheerder")
    assert paused.exit_code == 0, paused.output
    assert "request 1: paused" in paused.stdout
    assert first.stop() == 0
    ticks = runs_of(db, "tick-every")

    second = Service(deployment, tmp_path, "second")
    services.append(second)
    tocks = runs_of(db, "tock-every")
    # the restarted service fires tock-every again and again; tick-every stays paused meanwhile
    wait_until("three more runs of tock-every", lambda: runs_of(db, "tock-every") >= tocks + 3, second)
    assert runs_of(db, "tick-every") == ticks
    listed = json.loads(softbot_here(deployment, monkeypatch, "schedule", "list", "--json").stdout)
    assert listed["service"]["running"] is True
    assert [(j["id"], j["state"]) for j in listed["jobs"]] == [("tick-every", "paused"), ("tock-every", "active")]

    resumed = softbot_here(deployment, monkeypatch, "schedule", "resume", "tick-every", "--wait", "30")
    assert resumed.exit_code == 0, resumed.output
    assert "request 2: resumed; next firing" in resumed.stdout
    wait_until("a run of tick-every after resume", lambda: runs_of(db, "tick-every") > ticks, second)
    assert second.stop() == 0
    assert "firing_finished" in second.output()


def test_second_service_against_the_same_database_refuses_to_start(tmp_path: Path, deployment: dict[str, str],
                                                                   db: Database, services: list[Service]) -> None:
    first = Service(deployment, tmp_path, "first")
    services.append(first)
    wait_until("the first service's lease", lambda: control.service_status(db).running, first)

    second = softbot(deployment, "schedule", "serve")
    assert second.returncode == 3
    message = " ".join(second.stderr.split())
    assert "another scheduler service is running against this database (scheduler:" in message
    assert "There is one scheduler per deployment: stop the other one first." in message
    assert first.process.poll() is None       # the first one is undisturbed
    assert first.stop() == 0
