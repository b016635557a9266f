"""`softbot assess tonk`'s function: JSON out, exit codes 0/1/2, BSN and IBAN masked."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from test_tonk_support import POLICIES, REQUIRED_DOCS, application

from common.db import Database
from common.storage import BlobStore
from common.workqueue import NewItem, WorkQueue
from tonk_bot.assess_command import assess_file

DRONTEN = POLICIES / "dronten-2021-q3.yaml"


def write_app(tmp_path: Path, fields: dict[str, Any] | None = None, *, received: Any = "2021-08-12",
              docs: Any = None, name: str = "application.json") -> Path:
    data: dict[str, Any] = dict(application() if fields is None else fields)
    data["documents"] = [{"type": t, "filename": f"{t}.pdf"} for t in REQUIRED_DOCS] if docs is None else docs
    if received is not None:
        data["received"] = received
    path = tmp_path / name
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def test_a_complete_application_exits_0_with_the_assessment(tmp_path: Path) -> None:
    output, code = assess_file(write_app(tmp_path), policy_path=DRONTEN, policies_dir=POLICIES, queue=None)
    assert code == 0
    assert output["findings"] == []
    a = output["assessment"]
    # 2000 -> 1400 (30 %), huur 650: 650 - 560 = 90.00 x 3 = 270.00
    assert (a["outcome"], a["amount_per_month"], a["amount_total"]) == ("voldoet", "90.00", "270.00")
    assert a["policy"]["id"] == "dronten-tonk-2021-q3" and len(a["policy"]["sha256"]) == 64
    assert a["months_left_out"] == [] and a["assumptions"]
    assert "ignored_keys" not in output
    json.dumps(output)  # printable as it is


def test_keys_that_are_not_the_forms_are_named_as_ignored(tmp_path: Path) -> None:
    fields = application({"huurtoeslagg": "300"})  # misspelt: the housing allowance is not read
    output, code = assess_file(write_app(tmp_path, fields), policy_path=DRONTEN, policies_dir=POLICIES,
                               queue=None)
    assert (code, output["ignored_keys"], output["assessment"]["amount_per_month"]) == (0, ["huurtoeslagg"], "90.00")


def test_findings_exit_1_with_bsn_and_iban_masked(tmp_path: Path) -> None:
    fields = application({"bsn": "111222334", "iban": "NL45ABNA0123456789", "huur": "1,234"})
    output, code = assess_file(write_app(tmp_path, fields), policy_path=DRONTEN, policies_dir=POLICIES,
                               queue=None)
    assert code == 1
    assert [(f["code"], f["field"], f["value"]) for f in output["findings"]] == [
        ("bsn_invalid", "bsn", "*****2334"),
        ("amount_ambiguous", "huur", "1,234"),
        ("iban_invalid", "iban", "NL45 **** **** **67 89"),
    ]
    assert all(f["message"] for f in output["findings"])
    assert output["assessment"] is None   # the rent cannot be read: no figures
    assert "111222334" not in json.dumps(output) and "0123456789" not in json.dumps(output)


def test_the_assessment_is_there_when_other_findings_exist(tmp_path: Path) -> None:
    path = write_app(tmp_path, docs=[{"type": "bankpas", "filename": "pas.jpg"}])
    output, code = assess_file(path, policy_path=DRONTEN, policies_dir=POLICIES, queue=None)
    assert code == 1
    assert [f["code"] for f in output["findings"]] == ["document_missing"] * 3
    assert output["assessment"]["outcome"] == "voldoet"


def test_without_policy_the_one_in_force_for_the_municipality_is_used(tmp_path: Path) -> None:
    output, code = assess_file(write_app(tmp_path), policy_path=None, policies_dir=POLICIES, queue=None,
                               municipality="dronten")
    assert code == 0 and output["assessment"]["policy"]["file"] == "dronten-2021-q3.yaml"


def test_no_policy_in_force_is_a_finding(tmp_path: Path) -> None:
    output, code = assess_file(write_app(tmp_path, received="2021-07-15"), policy_path=None,
                               policies_dir=POLICIES, queue=None, municipality="dronten")
    assert code == 1
    assert [(f["code"], f["field"], f["value"]) for f in output["findings"]] == [
        ("no_policy", "received", "2021-07-15")]
    assert output["assessment"] is None


def test_fields_may_sit_under_fields_as_in_a_work_item(tmp_path: Path) -> None:
    path = tmp_path / "item.json"
    path.write_text(json.dumps({"fields": application(), "received": "2021-08-12",
                                "documents": [{"type": t, "filename": "x.pdf"} for t in REQUIRED_DOCS]}))
    assert assess_file(path, policy_path=DRONTEN, policies_dir=POLICIES, queue=None)[1] == 0


@pytest.mark.parametrize(("content", "error_code"), [
    (None, "input.unreadable"),             # no file
    ("{not json", "input.unreadable"),
    ("[1, 2]", "input.invalid"),
    ('{"bsn": "111222333"}', "input.invalid"),                       # no received
    ('{"received": "12-08-2021"}', "input.invalid"),                  # not ISO
    ('{"received": "2021-08-12", "documents": "id.pdf"}', "input.invalid"),
    ('{"received": "2021-08-12", "documents": [{"type": "bankpas"}]}', "input.invalid"),
])
def test_unusable_input_exits_2(tmp_path: Path, content: str | None, error_code: str) -> None:
    path = tmp_path / "application.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    output, code = assess_file(path, policy_path=DRONTEN, policies_dir=POLICIES, queue=None)
    assert code == 2
    assert output["error"]["code"] == error_code and str(path) in output["error"]["message"]


def test_an_unknown_policy_exits_2(tmp_path: Path) -> None:
    output, code = assess_file(write_app(tmp_path), policy_path=tmp_path / "nope.yaml", policies_dir=POLICIES,
                               queue=None)
    assert (code, output["error"]["code"]) == (2, "config.unreadable")


def test_an_ambiguous_policy_choice_exits_2(tmp_path: Path) -> None:
    output, code = assess_file(write_app(tmp_path), policy_path=None, policies_dir=POLICIES, queue=None)
    assert (code, output["error"]["code"]) == (2, "policy.ambiguous")


def test_with_the_queue_duplicates_are_found(sqlite_db: Database, tmp_path: Path) -> None:
    queue = WorkQueue(sqlite_db, "tonk", BlobStore(tmp_path / "blobs"),
                      clock=lambda: datetime(2021, 8, 12, tzinfo=UTC))
    item = queue.add(NewItem(reference="OF-AAAAAA", payload={"fields": application()}), actor="test").item_id
    queue.set_keys(item, {"bsn": ["111222333"], "month": ["2021-08"]})
    output, code = assess_file(write_app(tmp_path), policy_path=DRONTEN, policies_dir=POLICIES, queue=queue)
    assert code == 1
    assert [(f["code"], f["field"], f["value"]) for f in output["findings"]] == [
        ("possible_duplicate", "bsn", "*****2333")]
    assert "111222333" not in output["findings"][0]["message"]
