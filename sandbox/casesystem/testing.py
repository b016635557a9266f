"""Start the sandbox case system as a subprocess on a free loopback port (for tests and demos).

    with running_casesystem(tmp_path / "zaaksysteem.db") as cs:
        cs.set_faults(layout="alternate")
        ...  # drive cs.url with a browser
        cs.set_faults(hold={"method": "POST", "path": "/zaken"}); ...; cs.wait_held()  # crash tests
        cases = cs.cases()   # `python -m sandbox.casesystem cases --json`
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

import httpx

USERNAME = "robot-tonk"
PASSWORD = "demo-wachtwoord"


@dataclass
class RunningCaseSystem:
    """A case system subprocess: its `url` (ends with '/'), database and demo credentials."""

    url: str
    db_path: Path
    process: subprocess.Popen[str]
    username: str = USERNAME
    password: str = PASSWORD

    def set_faults(self, **faults: Any) -> dict[str, Any]:
        """Replace the faults (`POST /_sandbox/faults`); no arguments switches every fault off."""
        response = httpx.post(f"{self.url}_sandbox/faults", json=faults, timeout=10)
        response.raise_for_status()
        return response.json()

    def holds(self) -> dict[str, Any]:
        """`GET /_sandbox/holds`: `{"held": [{method, path, after_commit, seconds}], "started": n}`."""
        response = httpx.get(f"{self.url}_sandbox/holds", timeout=10)
        response.raise_for_status()
        return response.json()

    def wait_held(self, limit_s: float = 120.0, poll_s: float = 0.05) -> dict[str, Any]:
        """Wait until the `hold` fault holds a request; returns that request. A bound, not a timing.

        Raises:
            TimeoutError: nothing was held within `limit_s` seconds.
        """
        deadline = time.monotonic() + limit_s
        while time.monotonic() < deadline:
            held = self.holds()["held"]
            if held:
                return held[0]
            time.sleep(poll_s)
        raise TimeoutError(f"no request was held within {limit_s} s")

    def cases(self) -> list[dict[str, Any]]:
        """Every zaak, from `python -m sandbox.casesystem cases --json --db <db>`."""
        done = subprocess.run([sys.executable, "-m", "sandbox.casesystem", "cases", "--json", "--db",
                               str(self.db_path)], capture_output=True, text=True, check=True, timeout=60)
        return json.loads(done.stdout)


@contextmanager
def running_casesystem(db_path: Path, *extra_args: str) -> Iterator[RunningCaseSystem]:
    """Run `python -m sandbox.casesystem serve --port 0 --control` until the block ends.

    Raises:
        RuntimeError: the server exited before printing its address (its stderr is included).
    """
    env = {**os.environ, "SANDBOX_CASESYSTEM_USERS": f"{USERNAME}:{PASSWORD}"}
    log = db_path.with_suffix(".log").open("w", encoding="utf-8")  # stderr to a file: a pipe could fill up
    process = subprocess.Popen(
        [sys.executable, "-m", "sandbox.casesystem", "serve", "--port", "0", "--control", "--db", str(db_path),
         *extra_args],
        stdout=subprocess.PIPE, stderr=log, text=True, env=env,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        if not first.startswith("Zaaksysteem: "):
            process.kill()
            process.communicate(timeout=10)
            log.flush()
            raise RuntimeError(f"the sandbox case system did not start: {first}"
                               f"{db_path.with_suffix('.log').read_text(encoding='utf-8')}")
        yield RunningCaseSystem(url=first.split(" ", 1)[1].strip(), db_path=db_path, process=process)
    finally:
        process.terminate()
        try:
            process.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
        log.close()
