"""A failed attempt leaves its diagnostics, and the retry in a fresh browser context finishes the item.

`softbot run tonk` (subprocess) against the sandbox, whose `hold` fault keeps the "Nieuwe zaak"
page from answering for longer than the browser waits (3 s): the first attempt fails with a
system exception, the runner captures the screenshot, the page's HTML and the trace into
`runs/<run-id>/failures/<item-id>/attempt-1/`, resets the browser context and tries again; the
hold is spent, so the second attempt registers the zaak.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from registration_world import cases_by_kenmerk, generate, make_deployment

from common.workqueue import State
from sandbox.casesystem.testing import RunningCaseSystem

pytestmark = pytest.mark.browser


def test_a_retried_attempt_leaves_screenshot_html_and_trace_and_the_retry_registers(
        casesystem: RunningCaseSystem, tmp_path: Path) -> None:
    world = make_deployment(tmp_path, casesystem, timeout_ms=3000)
    [sample] = generate(world.maildir, count=1, seed=21)
    casesystem.set_faults(hold={"method": "GET", "path": "/zaken/nieuw", "max_seconds": 8})
    try:
        run = world.softbot("run", "tonk")
    finally:
        casesystem.set_faults()

    assert run.returncode == 0, run.stdout + run.stderr
    [item] = world.items()
    [case] = cases_by_kenmerk(casesystem)[sample["reference"]]
    assert (item.state, item.attempts, item.result_ref) == (State.DONE, 2, case["zaaknummer"])
    [run_folder] = world.runs_dir.iterdir()
    attempt = run_folder / "failures" / str(item.id) / "attempt-1"
    assert sorted(p.name for p in attempt.iterdir()) == ["error.txt", "page.html", "screenshot.png", "trace.zip"]
    assert (attempt / "screenshot.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (attempt / "error.txt").read_text(encoding="utf-8").startswith("SystemException")
    with zipfile.ZipFile(attempt / "trace.zip") as trace:
        names = trace.namelist()
        assert any(n.endswith(".trace") for n in names)
        assert not [n for n in names if casesystem.password.encode() in trace.read(n)]
    assert not (run_folder / "failures" / str(item.id) / "attempt-2").exists()  # the retry went through
    summary = json.loads((run_folder / "summary.json").read_text(encoding="utf-8"))
    assert summary["counts"]["done"] == 1
