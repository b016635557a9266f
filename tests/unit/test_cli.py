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



def test_a_value_from_the_environment_is_blamed_on_its_variable_not_the_file(env: Path,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOFTBOT_BROWSER__TIMEOUT_MS", "abc")
    monkeypatch.setenv("SOFTBOT_BROWSER__TIMEOUTMS", "5")  # misspelt
    code, output = run("config", "check")
    text = " ".join(output.split())
    assert code == 2
    assert "environment SOFTBOT_BROWSER__TIMEOUT_MS: browser.timeout_ms: Input should be a valid integer" in text
    assert "environment SOFTBOT_BROWSER__TIMEOUTMS: browser.timeoutms: Extra inputs are not permitted" in text
    assert "softbot.yaml" not in text


def test_a_missing_default_settings_file_is_an_error_not_an_empty_setup(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    # a caseworker in the wrong folder must not see an empty exception queue
    monkeypatch.delenv("SOFTBOT_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    code, output = run("queue", "list")
    assert code == 2
    assert "config/softbot.yaml: not found in" in " ".join(output.split())
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize(("url", "message"), [
    ("nonsense", "database_url: not a database URL"),
    ("mysql://softbot@db/softbot", "database_url: database 'mysql' is not supported (sqlite or postgresql)"),
])
def test_a_database_url_that_cannot_work_is_a_config_error(env: Path, monkeypatch: pytest.MonkeyPatch, url: str,
                                                           message: str) -> None:
    monkeypatch.setenv("SOFTBOT_DATABASE_URL", url)
    code, output = run("config", "check")
    assert code == 2 and f"environment SOFTBOT_DATABASE_URL: {message}" in " ".join(output.split())


def test_a_database_that_cannot_be_reached_exits_2_without_its_password(env: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOFTBOT_DATABASE_URL", "postgresql+psycopg://robot:geheim@127.0.0.1:1/softbot")
    code, output = run("queue", "list")
    text = " ".join(output.split())
    assert code == 2
    assert "database postgresql+psycopg://robot:***@127.0.0.1:1/softbot: cannot open it: connection failed" in text
    assert "geheim" not in text and "Traceback" not in text

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
    code, output = run("queue", "show", str(first))
    # the history says what the caseworker added, the corrected BSN masked like every BSN in a list
    assert code == 0 and all(part in output for part in ("notitie:", "gebeld;", "correcties:", "bsn=*****2333"))

    code, output = run("queue", "requeue", str(second), "--waive", "bsn_invalid")
    assert code == 2 and "may be waived: possible_duplicate" in output
    code, output = run("queue", "requeue", str(second), "--set", "bsnn=111222333")  # a typo goes nowhere
    assert code == 2 and "--set bsnn: no such field for queue 'tonk' (fields: achternaam," in " ".join(output.split())
    code, output = run("queue", "resolve", str(second), "--zaak", "ZAAK-21-12")
    assert code == 2 and "--zaak 'ZAAK-21-12': not a number of this case system" in " ".join(output.split())
    code, output = run("queue", "resolve", str(second), "--zaak", "ZAAK-2021-0000000001", "--reason", "x")
    assert code == 2 and "give either --zaak" in output
    assert queue.get(second).state == State.FAILED  # none of the refused commands changed the item
    code, output = run("queue", "resolve", str(second), "--reason", "vraag beantwoord")
    assert code == 0 and queue.get(second).state == State.RESOLVED
    code, output = run("queue", "resolve", str(second), "--zaak", "ZAAK-2021-0000000001")
    assert code == 2 and "resolved -> resolved is not allowed" in output
    code, output = run("queue", "show", "999")
    assert code == 2 and "no work item 999" in output
    db.dispose()
