"""Personal data and secrets never reach a log line unmasked."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from common.logging import bound, ensure_configured, get_logger, run_log_file
from common.masking import mask_bsn, mask_finding, mask_iban, mask_mapping, mask_text


def test_bsn_and_iban_masks_follow_the_policy_examples() -> None:
    # tonk-policy.md: BSN `*****2333`, IBAN `NL91 **** **** **43 00`
    assert mask_bsn("111222333") == "*****2333"
    assert mask_bsn("111.222.333") == "*****2333"
    assert mask_iban("NL91ABNA0417164300") == "NL91 **** **** **43 00"
    assert mask_iban("nl91 abna 0417 1643 00") == "NL91 **** **** **43 00"


def test_free_text_masks_bsn_and_iban_but_not_zaak_numbers_or_amounts() -> None:
    text = "BSN 111222333, rekening NL91ABNA0417164300, zaak ZAAK-2021-0000000123, huur 1234,56"
    assert mask_text(text) == ("BSN *****2333, rekening NL91 **** **** **43 00, zaak ZAAK-2021-0000000123, "
                               "huur 1234,56")


@pytest.mark.parametrize(("text", "masked"), [
    ("IBAN NL91ABNA0417164300 ook niet", "IBAN NL91 **** **** **43 00 ook niet"),
    ("IBAN NL91 ABNA 0417 1643 00 ook niet", "IBAN NL91 **** **** **43 00 ook niet"),
    ("iban nl91abna0417164300.", "iban NL91 **** **** **43 00."),
])
def test_an_iban_is_masked_without_swallowing_the_words_after_it(text: str, masked: str) -> None:
    assert mask_text(text) == masked


def test_mapping_masks_secrets_by_key_and_personal_fields() -> None:
    assert mask_mapping({"password": "geheim", "bsn": "123456782", "achternaam": "d'Hondt", "huur": "850",
                         "reference": "OF-7QK2MZ", "nested": {"api_token": "t"}}) == {
        "password": "***", "bsn": "*****6782", "achternaam": "***", "huur": "***", "reference": "OF-7QK2MZ",
        "nested": {"api_token": "***"}}


def test_finding_values_are_masked_by_their_field() -> None:
    assert mask_finding({"code": "iban_invalid", "field": "iban", "value": "NL45ABNA0123456789"})["value"] == (
        "NL45 **** **** **67 89")


def test_log_lines_carry_the_run_and_item_and_never_a_bsn_or_secret(tmp_path: Path) -> None:
    ensure_configured()
    log = get_logger("t")
    path = tmp_path / "log.jsonl"
    with run_log_file(path), bound(run_id="R1", bot="tonk"), bound(item_id=7):
        log.info("checked", note="BSN 111222333 gevonden", password="hunter2", iban="NL91ABNA0417164300")
    line = json.loads(path.read_text().splitlines()[-1])
    assert (line["run_id"], line["bot"], line["item_id"], line["event"]) == ("R1", "tonk", 7, "checked")
    assert (line["note"], line["password"], line["iban"]) == ("BSN *****2333 gevonden", "***",
                                                              "NL91 **** **** **43 00")
    assert "111222333" not in path.read_text() and "hunter2" not in path.read_text()


def test_a_run_log_holds_only_its_own_runs_lines_when_runs_share_a_process(tmp_path: Path) -> None:
    import threading

    ensure_configured()
    log = get_logger("t")
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    with run_log_file(a, "A"), run_log_file(b, "B"):
        def other_run() -> None:
            with bound(run_id="B"):
                log.info("from_b")
        thread = threading.Thread(target=other_run)
        with bound(run_id="A"):
            log.info("from_a")
            thread.start()
            thread.join()
        log.info("from_nobody")
    assert [json.loads(line)["event"] for line in a.read_text().splitlines()] == ["from_a"]
    assert [json.loads(line)["event"] for line in b.read_text().splitlines()] == ["from_b"]
