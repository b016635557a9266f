"""Exactly once when the worker dies: SIGKILL at each step of a registration, then a new run completes it.

Real parts: the `softbot` command in a subprocess, the sandbox case system, headless Chromium,
a Maildir, SQLite. The sandbox's `hold` fault keeps the request of the step open (after its
change is stored, or before it is handled) and reports it, so the test kills the worker at that
moment, with no hook in the robot's code. The run lock of the killed `tonk` run is left to
expire by itself; the new run is `tonk-b` (same queue, own lock: docs/decisions/0003), and it
starts once the item's short lease (5 s) has expired. What was registered is read back from the
case system (`cases --json`), never from the robot's own account of it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from registration_world import (
    cases_by_kenmerk,
    generate,
    make_deployment,
    wait_held,
)

from sandbox.casesystem.testing import RunningCaseSystem
from sandbox.processes import chromium_descendants, wait_until_gone

pytestmark = [pytest.mark.browser, pytest.mark.slow]

#: step -> (the request held, the seed of the one sample: each valid, with 4 to 5 documents)
STEPS: dict[str, tuple[dict[str, Any], int]] = {
    "after the person is created": ({"method": "POST", "path": "/personen", "after_commit": True}, 11),
    "after the case form is saved, before the zaak number is recorded":
        ({"method": "POST", "path": "/zaken", "after_commit": True}, 12),
    "after the first upload": ({"method": "POST", "path": "/zaken/[^/]+/documenten", "after_commit": True}, 13),
    "before Afronden is handled": ({"method": "POST", "path": "/zaken/[^/]+/afronden", "after_commit": False}, 14),
    "after Afronden is stored, before the item is done":
        ({"method": "POST", "path": "/zaken/[^/]+/afronden", "after_commit": True}, 15),
}


@pytest.mark.parametrize("step", list(STEPS))
def test_a_worker_killed_at_a_step_leaves_exactly_one_complete_zaak(
        step: str, tmp_path: Path, casesystem: RunningCaseSystem) -> None:
    hold, seed = STEPS[step]
    world = make_deployment(tmp_path, casesystem, lease_seconds=5)
    [sample] = generate(world.maildir, count=1, seed=seed)
    assert sample["expected"] == "registered" and len(sample["documents"]) >= 2
    casesystem.set_faults(hold=hold)
    worker = world.start("run", "tonk")
    try:
        held = wait_held(casesystem, worker)
        browsers = chromium_descendants(worker.pid)
        worker.kill()  # SIGKILL: no handler runs, nothing is released or recorded
        worker.wait(timeout=30)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
        casesystem.set_faults()  # lets the held request go (its browser is gone)

    assert (held["method"], held["after_commit"]) == (hold["method"], hold["after_commit"])
    assert browsers, "the worker's Chromium was running"
    assert wait_until_gone(browsers) == set()  # the killed worker left no Chromium behind
    [killed] = world.items()
    assert killed.state.value == "in_progress"
    world.wait_lease_expired(killed.id)

    again = world.softbot("run", "tonk-b")

    assert again.returncode == 0, again.stdout + again.stderr
    [case] = cases_by_kenmerk(casesystem)[sample["reference"]]  # exactly one zaak
    assert case["status"] == "geregistreerd"
    assert sorted((d["documenttype"], d["sha256"]) for d in case["documenten"]) == sorted(
        (d["type"], d["sha256"]) for d in sample["documents"])  # every document, each once
    persons = [sample["raw"][k] for k in ("bsn", "partner_bsn") if sample["raw"].get(k)]
    assert sorted(p["bsn"] for p in case["personen"]) == sorted("".join(filter(str.isdigit, b)) for b in persons)
    [item] = world.items()
    assert (item.state.value, item.result_ref, item.attempts) == ("done", case["zaaknummer"], 2)
    # the new run created the zaak only when the killed one had not got that far
    assert item.result["created"] is step.startswith("after the person")
    with world.queue() as queue:
        reasons = [e.reason for e in queue.history(item.id)]
    taken = reasons.index("lease_expired_taken_over")
    before_kill = reasons[:taken]
    if step.startswith("after the person"):
        assert "submission_started" not in before_kill
    elif step.startswith("after the case form"):
        # the click was recorded as started, its zaak number never reached the item
        assert "submission_started" in before_kill and "submitted" not in before_kill
    else:
        assert "submitted" in before_kill  # the zaak number was on the item before the kill
    assert reasons[-1] == "completed"
