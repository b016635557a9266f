"""The whole bot against the reskinned case system: other element order, ids, classes and wrappers.

`softbot run tonk` (subprocess) with the sandbox's `layout: alternate`, the same bot and the same
labels as for the default layout: a change of skin must not need a change of robot. What was
registered is read back from the case system and compared with the generator's expectations.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from registration_world import cases_by_kenmerk, generate, make_deployment

from common.workqueue import State
from sandbox.casesystem.testing import RunningCaseSystem

pytestmark = pytest.mark.browser


@pytest.fixture
def alternate(casesystem: RunningCaseSystem) -> Iterator[RunningCaseSystem]:
    casesystem.set_faults(layout="alternate")
    yield casesystem
    casesystem.set_faults()


def test_the_bot_registers_every_valid_application_in_the_alternate_layout(
        alternate: RunningCaseSystem, tmp_path: Path) -> None:
    world = make_deployment(tmp_path, alternate)
    samples = generate(world.maildir, count=8, seed=77, faulty_share=0.25)

    run = world.softbot("run", "tonk")

    assert run.returncode == 0, run.stdout + run.stderr
    cases = cases_by_kenmerk(alternate)
    items = {i.reference: i for i in world.items()}
    valid: list[dict[str, Any]] = [s for s in samples if s["expected"] == "registered"]
    assert len(valid) >= 4
    for sample in valid:
        [case] = cases[sample["reference"]]
        assert case["status"] == "geregistreerd"
        assert sorted((d["documenttype"], d["sha256"]) for d in case["documenten"]) == sorted(
            (d["type"], d["sha256"]) for d in sample["documents"])
        assert (items[sample["reference"]].state, items[sample["reference"]].result_ref) == (
            State.DONE, case["zaaknummer"])
    for sample in (s for s in samples if s["expected"] == "business"):
        assert items[sample["reference"]].state is State.FAILED
        assert sample["reference"] not in cases
