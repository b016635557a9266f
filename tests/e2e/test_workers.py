"""`--workers N`: parallel consumers in one run, SIGTERM, and no Chromium left behind.

Real parts: the `softbot` command in a subprocess, the sandbox case system (pages slowed down
so that both workers are busy at once), headless Chromium, a Maildir, SQLite. Chromium
processes are those below the softbot process, sampled while it runs (after it ends they are
reparented), and must all be gone once it has ended.
"""

from __future__ import annotations

import signal
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from registration_world import (
    Deployment,
    cases_by_kenmerk,
    generate,
    make_deployment,
    wait_for,
)

from common.workqueue import State
from sandbox.casesystem.testing import RunningCaseSystem
from sandbox.processes import chromium_descendants, wait_until_gone

pytestmark = pytest.mark.browser


@contextmanager
def watched(process: subprocess.Popen[str]) -> Iterator[set[int]]:
    """The Chromium pids seen below `process` while it runs (sampled every 0.1 s until the block ends)."""
    seen: set[int] = set()
    done = threading.Event()

    def sample() -> None:
        while not done.is_set() and process.poll() is None:
            seen.update(chromium_descendants(process.pid))
            done.wait(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        yield seen
    finally:
        done.set()
        sampler.join()


def two_in_progress(world: Deployment) -> set[str] | None:
    """The lease owners when two items are in progress, else None."""
    owners = {i.lease_owner or "" for i in world.items() if i.state is State.IN_PROGRESS}
    return owners if len(owners) == 2 else None


@pytest.fixture(params=[41])
def world(request: pytest.FixtureRequest, tmp_path: Path, casesystem: RunningCaseSystem
          ) -> Iterator[tuple[Deployment, list[dict[str, object]]]]:
    """Six valid applications (seeded by the param, one seed per test) taken in; pages 150 ms slower."""
    deployment = make_deployment(tmp_path, casesystem, lease_seconds=30)
    samples = generate(deployment.maildir, count=6, seed=request.param)
    intake = deployment.softbot("intake", "tonk")
    assert intake.returncode == 0, intake.stdout + intake.stderr
    casesystem.set_faults(slow_ms=150)
    yield deployment, samples
    casesystem.set_faults()


def test_sigterm_lets_both_workers_finish_their_item_and_leaves_no_chromium(
        world: tuple[Deployment, list[dict[str, object]]], casesystem: RunningCaseSystem) -> None:
    deployment, samples = world
    worker = deployment.start("worker", "tonk", "--workers", "2")
    with watched(worker) as browsers:
        owners = wait_for(lambda: two_in_progress(deployment), 180, "two items in progress at once")
        worker.send_signal(signal.SIGTERM)
        code = worker.wait(timeout=180)

    assert code == 0, (deployment.root / "worker-tonk---workers-2.err").read_text()
    assert {o.rsplit(":", 1)[1] for o in owners} == {"w1", "w2"}  # one lease owner per worker thread
    assert len({o.rsplit(":", 1)[0] for o in owners}) == 1         # ... of one run
    assert browsers, "the workers' Chromium processes were seen"
    assert wait_until_gone(browsers) == set()
    items = deployment.items()
    states = [i.state for i in items]
    assert set(states) <= {State.DONE, State.PENDING}  # finished or never started: none left in progress
    assert states.count(State.DONE) >= 2              # both items in hand were finished
    cases = cases_by_kenmerk(casesystem)
    for item in items:
        expected = 1 if item.state is State.DONE else 0
        assert len(cases.get(item.reference, [])) == expected, item.reference
    assert len(items) == len(samples) == 6


@pytest.mark.parametrize("world", [42], indirect=True)
def test_a_run_with_two_workers_registers_each_item_once_and_leaves_no_chromium(
        world: tuple[Deployment, list[dict[str, object]]], casesystem: RunningCaseSystem) -> None:
    deployment, samples = world
    casesystem.set_faults()  # full speed: this test needs no slow pages
    run = deployment.start("run", "tonk", "--workers", "2")
    with watched(run) as browsers:
        code = run.wait(timeout=600)

    assert code == 0, (deployment.root / "run-tonk---workers-2.err").read_text()
    assert browsers and wait_until_gone(browsers) == set()
    cases = cases_by_kenmerk(casesystem)
    items = deployment.items()
    assert [i.state for i in items] == [State.DONE] * 6
    for item in items:
        [case] = cases[item.reference]
        assert case["zaaknummer"] == item.result_ref
    with deployment.queue() as queue:
        takers = {e.actor.rsplit(":", 1)[1] for i in items for e in queue.history(i.id) if e.reason == "reserved"}
    assert takers == {"w1", "w2"}  # both workers registered items
