"""The `softbot` command's contract: exit codes, errors that name file/line/field, the caseworker's commands."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from common.commands import app
from common.db import Database
from common.locks import bot_lock
from common.storage import BlobStore
from common.workqueue import Failure, FailureKind, NewItem, State, WorkQueue

ROOT = Path(__file__).resolve().parents[2]
APPLICATION = {
    "bsn": "111222333", "voornamen": "Anna", "achternaam": "de Vries", "geboortedatum": "01-02-1980",
    "straat": "De Rede", "huisnummer": "1", "postcode": "8251 AA", "woonplaats": "Dronten",
    "email": "anna@example.org", "woonsituatie": "alleenstaand", "inkomen_peilmaand_oud": "€ 2.000,00",
    "inkomen_peilmaand_nieuw": "1400", "huur": "650", "iban": "NL91ABNA0417164300",
    "rekeninghouder": "A. de Vries", "maanden": "juli, augustus", "verklaring": "ja", "received": "2021-08-12",
    "documents": [{"type": t, "filename": f"{t}.pdf"} for t in ("identiteitsbewijs", "bankpas", "inkomen oud",
                                                                 "inkomen nieuw")],
}


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    config = tmp_path / "softbot.yaml"
    config.write_text(f"""data_dir: {tmp_path / 'data'}
runs_dir: {tmp_path / 'runs'}
bots:
  tonk:
    casesystem: {{url: "http://127.0.0.1:9", username: robot}}
    options: {{municipality: dronten, policies_dir: {ROOT / 'config' / 'policies'}}}
""", encoding="utf-8")
    monkeypatch.setenv("SOFTBOT_CONFIG", str(config))
    monkeypatch.setenv("SOFTBOT_USER", "els")
    return tmp_path


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def test_assess_a_complete_application_exits_0_with_the_stated_amount(env: Path) -> None:
    path = env / "app.json"
    path.write_text(json.dumps(APPLICATION), encoding="utf-8")
    code, output = run("assess", "tonk", str(path))
    result = json.loads(output)
    # Dronten: drop 600/2000 = 30 % exactly holds; 650 - 0.40 * 1400 = 90.00 a month, 2 months = 180.00
    assert (code, result["findings"], result["assessment"]["amount_per_month"],
            result["assessment"]["amount_total"]) == (0, [], "90.00", "180.00")


def test_assess_with_findings_exits_1_and_masks_the_bsn(env: Path) -> None:
    path = env / "app.json"
    path.write_text(json.dumps({**APPLICATION, "bsn": "111222334"}), encoding="utf-8")
    code, output = run("assess", "tonk", str(path))
    finding = json.loads(output)["findings"][0]
    assert (code, finding["code"], finding["field"], finding["value"]) == (1, "bsn_invalid", "bsn", "*****2334")


def test_assess_of_an_unreadable_file_exits_2(env: Path) -> None:
    (env / "bad.json").write_text("{not json", encoding="utf-8")
    code, output = run("assess", "tonk", str(env / "bad.json"))
    assert (code, json.loads(output)["error"]["code"]) == (2, "input.unreadable")


def test_a_config_error_exits_2_naming_file_line_and_field(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bad = env / "bad.yaml"
    bad.write_text("data_dir: runs/data\nbrowser:\n  headless: maybe\n  timeout_ms: -5\n", encoding="utf-8")
    monkeypatch.setenv("SOFTBOT_CONFIG", str(bad))
    code, output = run("config", "check")
    assert code == 2
    assert f"{bad}:3: browser.headless:" in output and f"{bad}:4: browser.timeout_ms:" in output


def test_an_unknown_bot_exits_2_and_names_the_known_ones(env: Path) -> None:
    code, output = run("run", "post")
    assert code == 2 and "no bot 'post' in config (known: tonk)" in output


def test_a_run_while_another_holds_the_lock_exits_3(env: Path) -> None:
    db = Database(f"sqlite:///{env / 'data' / 'softbot.db'}")
    with bot_lock(db, "tonk", "elsewhere", "run-x"):
        code, output = run("intake", "tonk")
    db.dispose()
    assert code == 3 and "already running (run run-x" in output


def test_the_caseworker_commands_show_requeue_and_resolve(env: Path) -> None:
    db = Database(f"sqlite:///{env / 'data' / 'softbot.db'}")
    queue = WorkQueue(db, "tonk", BlobStore(env / "data" / "blobs"))
    finding = {"code": "bsn_invalid", "field": "bsn", "value": "111222334", "message": "BSN: klopt niet"}
    first = queue.add(NewItem(reference="OF-AAAAAA", payload={"fields": {"bsn": "111222334"}},
                              failure=Failure(FailureKind.BUSINESS, ["bsn_invalid"], "BSN klopt niet", [finding])),
                      actor="p").item_id
    second = queue.add(NewItem(reference="OF-BBBBBB", payload={"fields": {}},
                               failure=Failure(FailureKind.BUSINESS, ["not_an_application"], "vraag")),
                       actor="p").item_id

    code, output = run("queue", "list", "--state", "failed", "--json")
    assert code == 0 and [i["reference"] for i in json.loads(output)] == ["OF-BBBBBB", "OF-AAAAAA"]
    code, output = run("queue", "show", str(first), "--json")
    assert json.loads(output)["findings"][0]["value"] == "111222334"  # whole, in the detail view

    code, output = run("queue", "requeue", str(first), "--set", "bsn=111222333", "--note", "gebeld")
    assert code == 0 and "pending again with corrections to bsn" in output
    assert queue.get(first).fields == {"bsn": "111222333"}
    assert queue.history(first)[-1].actor == "person:els"

    code, output = run("queue", "requeue", str(second), "--waive", "bsn_invalid")
    assert code == 2 and "may be waived: possible_duplicate" in output
    code, output = run("queue", "resolve", str(second), "--reason", "vraag beantwoord")
    assert code == 0 and queue.get(second).state == State.RESOLVED
    code, output = run("queue", "resolve", str(second), "--zaak", "ZAAK-2021-0000000001")
    assert code == 2 and "resolved -> resolved is not allowed" in output
    code, output = run("queue", "show", "999")
    assert code == 2 and "no work item 999" in output
    db.dispose()
