"""The walking skeleton's acceptance: a Maildir of generated TONK e-mails into the sandbox case system.

Real parts: the sandbox case system as a web server, headless Chromium, the `softbot` command
in a subprocess, a Maildir, SQLite. Outcomes are compared with what the sample generator
recorded for each sample (from the fault it injected, not from the robot's own checks).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from sandbox.casesystem.testing import RunningCaseSystem

pytestmark = pytest.mark.browser

AMOUNT_KEYS = {"inkomen_peilmaand_oud": "inkomen_peilmaand_oud", "inkomen_peilmaand_nieuw": "inkomen_peilmaand_nieuw",
               "huur": "huur", "huurtoeslag": "huurtoeslag", "hypotheekrente": "hypotheekrente",
               "hypotheekaflossing": "hypotheekaflossing", "energie": "energie", "water": "water"}


def softbot(workdir: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("softbot")
    return subprocess.run([str(exe), *args], cwd=workdir, env=env, capture_output=True, text=True, timeout=900)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, casesystem: RunningCaseSystem) -> dict[str, Any]:
    """12 generated applications (some faulty) and one non-application in a Maildir; a config for them."""
    root = tmp_path_factory.mktemp("skeleton")
    maildir = root / "data" / "mailbox" / "tonk"
    maildir.parent.mkdir(parents=True)
    expected = root / "expected.json"
    subprocess.run([sys.executable, "-m", "sandbox.samples", "generate", "--count", "12", "--seed", "7",
                    "--faulty-share", "0.34", "--others", "1", "--maildir", str(maildir), "--expect",
                    str(expected)], check=True, capture_output=True, timeout=120)
    config = root / "softbot.yaml"
    config.write_text(f"""
data_dir: {root / 'data'}
runs_dir: {root / 'runs'}
browser: {{headless: true, timeout_ms: 10000, trace: on_failure}}
bots:
  tonk:
    sources: [{{kind: maildir, name: postbus, path: {maildir}}}]
    casesystem: {{url: "{casesystem.url}", username: {casesystem.username}, password_env: SB_PASSWORD}}
    backoff: {{initial: 0.2, maximum: 1}}
    options: {{municipality: dronten, policies_dir: {Path.cwd() / 'config' / 'policies'}}}
""", encoding="utf-8")
    env = {**os.environ, "SOFTBOT_CONFIG": str(config), "SB_PASSWORD": casesystem.password}
    first = softbot(root, env, "run", "tonk")
    return {"root": root, "env": env, "first": first, "maildir": maildir,
            "expected": json.loads(expected.read_text(encoding="utf-8"))["samples"]}


def queue_items(world: dict[str, Any]) -> dict[str, dict[str, Any]]:
    listed = softbot(world["root"], world["env"], "queue", "list", "--json", "--limit", "1000")
    assert listed.returncode == 0, listed.stderr
    return {i["reference"]: i for i in json.loads(listed.stdout)}


def test_the_run_completes_with_exit_code_0(world: dict[str, Any]) -> None:
    first = world["first"]
    assert first.returncode == 0, first.stdout + first.stderr
    assert "registered" in first.stdout and "run folder:" in first.stdout


def test_each_valid_sample_is_exactly_one_zaak_with_its_fields_persons_and_documents(
        world: dict[str, Any], casesystem: RunningCaseSystem) -> None:
    valid = [s for s in world["expected"] if s["expected"] == "registered"]
    cases = casesystem.cases()
    by_kenmerk: dict[str, list[dict[str, Any]]] = {}
    for case in cases:
        by_kenmerk.setdefault(case["extern_kenmerk"], []).append(case)
    assert sorted(by_kenmerk) == sorted(s["reference"] for s in valid)
    for sample in valid:
        [case] = by_kenmerk[sample["reference"]]
        fields = sample["fields"]
        assert case["zaaktype"] == "TONK"
        assert case["omschrijving"] == f"TONK aanvraag {sample['reference']}"
        assert case["startdatum"] == sample["received_date"]
        assert case["kanaal"] == "e-formulier"
        assert case["iban"] == fields["iban"]
        assert case["maanden"] == fields["maanden"]
        for key in AMOUNT_KEYS:
            expected = Decimal(fields[key]) if key in fields else None
            assert (Decimal(case[key]) if case[key] is not None else None) == expected, (sample["reference"], key)
        initiator = next(p for p in case["personen"] if p["rol"] == "initiator")
        assert (initiator["bsn"], initiator["voornamen"], initiator["achternaam"], initiator["geboortedatum"]) == (
            fields["bsn"], fields["voornamen"], fields["achternaam"], fields["geboortedatum"])
        if "partner_bsn" in fields:
            partner = next(p for p in case["personen"] if p["rol"] == "partner")
            assert partner["bsn"] == fields["partner_bsn"]
        assert sorted((d["documenttype"], d["sha256"]) for d in case["documenten"]) == sorted(
            (d["type"], d["sha256"]) for d in sample["documents"])
        assert "advies" in case["beoordeling"]


def test_each_faulty_sample_is_a_business_exception_naming_its_field(world: dict[str, Any]) -> None:
    items = queue_items(world)
    faulty = [s for s in world["expected"] if s["expected"] == "business"]
    assert faulty, "the generator was asked for faulty samples"
    for sample in faulty:
        item = items[sample["reference"]]
        assert (item["state"], item["kind"]) == ("failed", "business"), sample["reference"]
        shown = json.loads(softbot(world["root"], world["env"], "queue", "show", str(item["id"]), "--json").stdout)
        found = {(f["code"], f["field"]) for f in shown["findings"]}
        for code in sample["codes"]:
            assert (code["code"], code["field"]) in found, (sample["reference"], found)


def test_a_mail_that_is_no_application_lands_with_a_human(world: dict[str, Any]) -> None:
    items = queue_items(world)
    humans = [s for s in world["expected"] if s["expected"] == "human"]
    assert len(humans) == 1
    item = next(i for i in items.values() if "not_an_application" in i["codes"])
    assert (item["state"], item["kind"]) == ("failed", "business")


def test_processed_mail_is_moved_and_a_second_run_adds_no_zaak_and_no_item(
        world: dict[str, Any], casesystem: RunningCaseSystem) -> None:
    maildir: Path = world["maildir"]
    assert list((maildir / "new").iterdir()) == [] and list((maildir / "cur").iterdir()) == []
    zaken, items = len(casesystem.cases()), len(queue_items(world))
    # the same mails delivered again (as `make demo` does on a second run)
    subprocess.run([sys.executable, "-m", "sandbox.samples", "generate", "--count", "12", "--seed", "7",
                    "--faulty-share", "0.34", "--others", "1", "--maildir", str(maildir)], check=True,
                   capture_output=True, timeout=120)
    second = softbot(world["root"], world["env"], "run", "tonk")
    assert second.returncode == 0, second.stdout + second.stderr
    assert "new items 0, duplicates 13" in second.stdout
    assert (len(casesystem.cases()), len(queue_items(world))) == (zaken, items)
