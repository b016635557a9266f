"""`python -m sandbox.portal serve` as a real server on a free loopback port, read with httpx."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from sandbox.portal.store import PortalStore
from sandbox.samples import generate
from sandbox.samples.writers import write_portal_dir

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(url: str, process: subprocess.Popen) -> None:
    """Poll until the server answers (any status); fail with its stderr if it died."""
    for _ in range(200):
        if process.poll() is not None:
            pytest.fail(f"portal exited early: {process.stderr.read().decode()}")
        try:
            httpx.get(url, timeout=0.5)
            return
        except httpx.TransportError:
            time.sleep(0.05)
    pytest.fail("portal did not start")


@pytest.fixture
def server(tmp_path):
    write_portal_dir(generate(2, 3, others=0, portal_share=1.0), tmp_path / "portal")
    data = tmp_path / "portal.sqlite"
    PortalStore(data).load_dir(tmp_path / "portal")
    port = free_port()
    env = {**os.environ, "SANDBOX_PORTAL_TOKEN": "from-env"}
    process = subprocess.Popen(
        [sys.executable, "-m", "sandbox.portal", "serve", "--port", str(port), "--data", str(data),
         "--faults", '{"fail_next": 1, "error_statuses": [503]}'],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base + "/", process)
        yield base
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=10)


def test_served_portal_answers_with_faults_and_token_from_the_environment(server):
    headers = {"Authorization": "Token from-env"}
    url = server + "/api/v1/submissions?status=new&form=tonk&page=1"
    assert httpx.get(url, headers=headers).status_code == 503  # fail_next=1 from --faults
    body = httpx.get(url, headers=headers).json()
    assert body["count"] == 2 and body["next"] is None
    first = body["results"][0]
    ack = httpx.post(f"{server}/api/v1/submissions/{first['reference']}/ack", headers=headers,
                     json={"status": "received", "external_reference": "item-1"})
    assert ack.status_code == 200
    assert httpx.get(url, headers=headers).json()["count"] == 1
    assert httpx.get(url, headers={"Authorization": "Token wrong"}).status_code == 401
