"""Acceptance of issue 4: 200 generated applications through a misbehaving case system.

The sandbox answers 10 % of requests with HTTP 500, every page 50 ms late, and ends each
session after 50 requests; `softbot run tonk --workers 3` takes the 200 applications in from a
Maildir and registers them (three browsers keep 2 cores busy while pages are late). Checked
against the sample generator's recorded expectations, not the robot's own account: every valid
application is exactly one zaak with all its documents, every faulty one a business exception
naming its findings, no kenmerk twice; every attempt the runner retried (if any: the robot
carries on after error pages by itself, so the runner rarely has to; test_retry_artefacts.py
makes one fail for sure) left its screenshot, page HTML and trace (without the password) in its
folder; and no file name or log line under the run folders carries a BSN, a name, an IBAN or a
citizen's file name. One run of 10-20 minutes on 2 cores: slow.
"""

from __future__ import annotations

import re
import zipfile
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from registration_world import Deployment, cases_by_kenmerk, generate, make_deployment

from common.workqueue import State
from sandbox.casesystem.testing import RunningCaseSystem

pytestmark = [pytest.mark.browser, pytest.mark.slow]

COUNT, SEED, FAULTY_SHARE = 200, 2104, 0.2
FAULTS = {"error_rate": 0.1, "seed": 4, "slow_ms": 50, "session_expiry_requests": 50}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, casesystem: RunningCaseSystem) -> dict[str, Any]:
    """The run, once for the module: deployment, expectations, the run's output and the zaken after it."""
    deployment = make_deployment(tmp_path_factory.mktemp("acceptance"), casesystem, lease_seconds=60,
                                 max_attempts=5)
    samples = generate(deployment.maildir, count=COUNT, seed=SEED, faulty_share=FAULTY_SHARE)
    casesystem.set_faults(**FAULTS)
    try:
        run = deployment.softbot("run", "tonk", "--workers", "3", timeout=3600)
    finally:
        casesystem.set_faults()
    return {"deployment": deployment, "samples": samples, "run": run, "cases": cases_by_kenmerk(casesystem),
            "items": {i.reference: i for i in deployment.items()}}


def test_the_run_completes_without_system_failures(world: dict[str, Any]) -> None:
    run = world["run"]
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    valid = [s for s in world["samples"] if s["expected"] == "registered"]
    faulty = [s for s in world["samples"] if s["expected"] == "business"]
    assert len(valid) + len(faulty) == COUNT and len(faulty) >= 20  # the generator made both kinds


def test_every_valid_application_is_exactly_one_zaak_with_all_its_documents(world: dict[str, Any]) -> None:
    cases, items = world["cases"], world["items"]
    for sample in (s for s in world["samples"] if s["expected"] == "registered"):
        [case] = cases[sample["reference"]]
        assert case["status"] == "geregistreerd", sample["reference"]
        assert sorted((d["documenttype"], d["sha256"]) for d in case["documenten"]) == sorted(
            (d["type"], d["sha256"]) for d in sample["documents"]), sample["reference"]
        item = items[sample["reference"]]
        assert (item.state, item.result_ref) == (State.DONE, case["zaaknummer"])


def test_every_faulty_application_is_a_business_exception_and_no_zaak(world: dict[str, Any]) -> None:
    cases, items = world["cases"], world["items"]
    for sample in (s for s in world["samples"] if s["expected"] == "business"):
        item = items[sample["reference"]]
        assert (item.state.value, item.failure_kind.value if item.failure_kind else None) == ("failed", "business")
        found = {(f.get("code"), f.get("field")) for f in item.findings}
        assert {(c["code"], c["field"]) for c in sample["codes"]} <= found, sample["reference"]
        assert sample["reference"] not in cases


def test_no_kenmerk_has_two_zaken(world: dict[str, Any]) -> None:
    counts = Counter({kenmerk: len(zaken) for kenmerk, zaken in world["cases"].items()})
    assert counts.most_common(1)[0][1] == 1
    assert sum(counts.values()) == sum(1 for s in world["samples"] if s["expected"] == "registered")


def test_each_retried_attempt_left_its_artefacts_without_the_password(
        world: dict[str, Any], casesystem: RunningCaseSystem) -> None:
    deployment: Deployment = world["deployment"]
    [run_folder] = [p for p in deployment.runs_dir.iterdir() if p.is_dir() and p.name != "data"]
    retried: list[tuple[int, int]] = []
    with deployment.queue() as queue:
        for item in world["items"].values():
            retried += [(item.id, e.details["attempt"] - 1) for e in queue.history(item.id) if e.reason == "retry"]
    for item_id, attempt in retried:
        folder = run_folder / "failures" / str(item_id) / f"attempt-{attempt}"
        assert sorted(p.name for p in folder.iterdir()) == ["error.txt", "page.html", "screenshot.png",
                                                            "trace.zip"], folder
        with zipfile.ZipFile(folder / "trace.zip") as trace:
            assert not [n for n in trace.namelist() if casesystem.password.encode() in trace.read(n)], folder


def personal_values(samples: list[dict[str, Any]]) -> set[str]:
    """BSNs, names, IBANs and file names of the citizens (as the generator made them)."""
    values: set[str] = set()
    for sample in samples:
        raw = sample["raw"]
        for key in ("bsn", "partner_bsn"):
            digits = re.sub(r"\D", "", raw.get(key) or "")
            if len(digits) == 9:
                values.add(digits)
        for first, last in (("voornamen", "achternaam"), ("partner_voornamen", "partner_achternaam")):
            if raw.get(first) and raw.get(last):
                values.add(f"{raw[first]} {raw[last]}")
        if raw.get("iban"):
            values.add(re.sub(r"\s", "", raw["iban"]).upper())
        values.update(d["filename"] for d in sample["documents"])
    return values


def test_no_file_name_or_log_line_carries_personal_data(world: dict[str, Any]) -> None:
    deployment: Deployment = world["deployment"]
    values = personal_values(world["samples"])
    names = [str(p.relative_to(deployment.runs_dir)) for p in deployment.runs_dir.rglob("*")]
    logs = [p.read_text(encoding="utf-8") for p in deployment.runs_dir.rglob("log.jsonl")]
    output = world["run"].stdout + world["run"].stderr
    assert "log.jsonl" in {Path(n).name for n in names} and len(logs) == 1 and logs[0]  # something to look at
    for value in values:
        assert not [n for n in names if value in n], value
        assert not [i for i, text in enumerate(logs) if value in text], value
        assert value not in output, value
