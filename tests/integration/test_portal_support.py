"""Support for the portal tests: the sandbox portal (`python -m sandbox.portal serve --control`) as a real server
on a free loopback port, fed by the sample generator. Imported by test_portal_*.py; holds no tests itself."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from sandbox.portal.store import PortalStore
from sandbox.samples.generator import Sample
from sandbox.samples.writers import write_portal_dir

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "portaal-testtoken"  # the sandbox portal's token in tests, not a secret
TOKEN_ENV = "SOFTBOT_TEST_PORTAL_TOKEN"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class RunningPortal:
    """A running sandbox portal: `url`, its SQLite `data` file, and its control API."""

    url: str
    data: Path
    process: subprocess.Popen[bytes]

    def _client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers={"Authorization": f"Token {TOKEN}"}, timeout=10)

    def set_faults(self, **faults: Any) -> None:
        """Switch the faults (sandbox/portal/faults.py); none given: all off."""
        with self._client() as client:
            client.put("/_control/faults", json=faults).raise_for_status()

    def submissions(self) -> dict[str, dict[str, Any]]:
        """reference -> {status, acknowledged_by, external_reference, ack_count}."""
        with self._client() as client:
            response = client.get("/_control/submissions")
            response.raise_for_status()
            return {s["reference"]: s for s in response.json()}


def load(data: Path, samples: Iterable[Sample], folder: Path) -> int:
    """Write the portal samples into `folder` and load them into the portal store `data`; returns how many."""
    count = write_portal_dir(samples, folder)
    PortalStore(data).load_dir(folder)
    return count


@contextmanager
def running_portal(data: Path, faults: str | None = None) -> Iterator[RunningPortal]:
    """Serve the store `data` until the block ends (SIGTERM, then wait)."""
    port = free_port()
    args = [sys.executable, "-m", "sandbox.portal", "serve", "--port", str(port), "--data", str(data), "--control"]
    if faults:
        args += ["--faults", faults]
    log = open(data.with_suffix(".log"), "wb")  # closed below, after the process
    process = subprocess.Popen(args, cwd=ROOT, env={**os.environ, "SANDBOX_PORTAL_TOKEN": TOKEN},
                               stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"sandbox portal exited: {data.with_suffix('.log').read_text(errors='replace')}")
            try:
                httpx.get(url + "/api/v1/submissions", timeout=0.5)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise RuntimeError("sandbox portal did not start within 30 s") from None
                time.sleep(0.05)
        yield RunningPortal(url=url, data=data, process=process)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
