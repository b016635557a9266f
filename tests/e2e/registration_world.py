"""Helpers for the registration suites: a softbot deployment in a temp folder, samples, processes.

A `Deployment` is a config file (data and run folders, a Maildir source, the sandbox case
system, short leases) plus the environment to run the `softbot` command with it; the work
queue is read back from its SQLite database. Two bots share the queue `tonk`: `tonk` and
`tonk-b` (each has its own run lock, docs/decisions/0003), so a second run can start while
the lock of a killed one has not expired yet.

Chromium processes are found by walking /proc below a process: after SIGKILL the browser
is reparented, so a test records the pids first and waits for them to go.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from common.db import Database, utcnow
from common.storage import BlobStore
from common.workqueue import WorkItem, WorkQueue
from sandbox.casesystem.testing import RunningCaseSystem

REPO = Path(__file__).resolve().parents[2]
SOFTBOT = Path(sys.executable).with_name("softbot")
POLICIES = REPO / "config" / "policies"


@dataclass
class Deployment:
    """One softbot installation in `root` (see the module docstring)."""

    root: Path
    env: dict[str, str]
    maildir: Path
    data_dir: Path
    runs_dir: Path
    lease_seconds: int

    def softbot(self, *args: str, timeout: float = 1800) -> subprocess.CompletedProcess[str]:
        """Run `softbot ARGS` to its end."""
        return subprocess.run([str(SOFTBOT), *args], cwd=self.root, env=self.env, capture_output=True, text=True,
                              timeout=timeout)

    def start(self, *args: str) -> subprocess.Popen[str]:
        """Start `softbot ARGS` in the background (stdout/stderr to files in root)."""
        name = "-".join(args).replace("/", "_")
        out = (self.root / f"{name}.out").open("w", encoding="utf-8")
        err = (self.root / f"{name}.err").open("w", encoding="utf-8")
        return subprocess.Popen([str(SOFTBOT), *args], cwd=self.root, env=self.env, stdout=out, stderr=err,
                                text=True)

    @contextmanager
    def queue(self) -> Iterator[WorkQueue]:
        """The work queue `tonk`, read from the deployment's database."""
        db = Database(f"sqlite:///{self.data_dir / 'softbot.db'}")
        try:
            yield WorkQueue(db, "tonk", BlobStore(self.data_dir / "blobs"))
        finally:
            db.dispose()

    def items(self) -> list[WorkItem]:
        """Every item of the queue, oldest first."""
        from common.workqueue.listing import list_items

        with self.queue() as queue:
            return [queue.get(i.id) for i in sorted(list_items(queue.db, queue="tonk", limit=100_000),
                                                    key=lambda i: i.id)]

    def wait_lease_expired(self, item_id: int, limit_s: float = 60.0) -> WorkItem:
        """Poll until the item's lease has expired (its worker died); a bound, not a timing."""
        deadline = time.monotonic() + limit_s
        with self.queue() as queue:
            while True:
                item = queue.get(item_id)
                expires = item.lease_expires_at
                if expires is None or expires < utcnow():
                    return item
                if time.monotonic() > deadline:
                    raise TimeoutError(f"item {item_id}: lease still held after {limit_s} s")
                time.sleep(0.2)


def make_deployment(root: Path, casesystem: RunningCaseSystem, *, lease_seconds: int = 5, max_attempts: int = 3,
                    trace: str = "on_failure", timeout_ms: int = 10_000) -> Deployment:
    """A config for bots `tonk` and `tonk-b` (queue `tonk`) against `casesystem`, in `root`."""
    root.mkdir(parents=True, exist_ok=True)
    data_dir, runs_dir = root / "data", root / "runs"
    maildir = data_dir / "mailbox" / "tonk"
    maildir.parent.mkdir(parents=True, exist_ok=True)
    bot = f"""
    queue: tonk
    module: bots.tonk
    sources: [{{kind: maildir, name: postbus, path: "{maildir}"}}]
    casesystem: {{url: "{casesystem.url}", username: {casesystem.username}, password_env: SB_PASSWORD}}
    lease_seconds: {lease_seconds}
    max_attempts: {max_attempts}
    backoff: {{initial: 0.2, maximum: 1}}
    options: {{municipality: dronten, policies_dir: "{POLICIES}"}}"""
    config = root / "softbot.yaml"
    config.write_text(f"""
data_dir: "{data_dir}"
runs_dir: "{runs_dir}"
browser: {{headless: true, timeout_ms: {timeout_ms}, trace: "{trace}"}}
bots:
  tonk:{bot}
  tonk-b:{bot}
""", encoding="utf-8")
    env = {**os.environ, "SOFTBOT_CONFIG": str(config), "SB_PASSWORD": casesystem.password}
    return Deployment(root=root, env=env, maildir=maildir, data_dir=data_dir, runs_dir=runs_dir,
                      lease_seconds=lease_seconds)


def generate(maildir: Path, count: int, seed: int, *, faulty_share: float = 0.0, others: int = 0
             ) -> list[dict[str, Any]]:
    """Deliver `count` generated TONK applications into `maildir`; returns the generator's expectations."""
    expect = maildir.parent / f"expected-{seed}.json"
    subprocess.run([sys.executable, "-m", "sandbox.samples", "generate", "--count", str(count), "--seed", str(seed),
                    "--faulty-share", str(faulty_share), "--others", str(others), "--maildir", str(maildir),
                    "--expect", str(expect)], check=True, capture_output=True, timeout=600, cwd=REPO)
    return json.loads(expect.read_text(encoding="utf-8"))["samples"]


def cases_by_kenmerk(casesystem: RunningCaseSystem) -> dict[str, list[dict[str, Any]]]:
    """Every zaak in the case system, grouped by extern kenmerk."""
    found: dict[str, list[dict[str, Any]]] = {}
    for case in casesystem.cases():
        found.setdefault(case["extern_kenmerk"], []).append(case)
    return found


def wait_held(casesystem: RunningCaseSystem, process: subprocess.Popen[str], limit_s: float = 180.0
              ) -> dict[str, Any]:
    """Wait until the sandbox holds a request, failing early when `process` ended first."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        held = casesystem.holds()["held"]
        if held:
            return held[0]
        if process.poll() is not None:
            raise AssertionError(f"the worker ended (exit {process.returncode}) before the held step")
        time.sleep(0.05)
    raise TimeoutError(f"no request was held within {limit_s} s")


# -- processes ------------------------------------------------------------------------------------

def wait_for(condition: Any, limit_s: float, what: str, poll_s: float = 0.1) -> Any:
    """Poll `condition()` until it returns something truthy; returns it. Raises TimeoutError naming `what`."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(poll_s)
    raise TimeoutError(f"{what}: not within {limit_s} s")
