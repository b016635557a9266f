"""CaseDraft, PersonDraft, DocumentDraft and the case system labels: what the page objects may rely on."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from common.errors import ConfigError
from tonk_bot.casesystem import DEFAULT_LABELS, CaseDraft, CaseSystemLabels, DocumentDraft, PersonDraft

PERSON = dict(bsn="176543211", voornamen="Ayşe", achternaam="Çelik", geboortedatum=date(1984, 2, 29), straat="Rede",
              huisnummer="12", postcode="8251 EH", woonplaats="Dronten")


def case(**changes: Any) -> CaseDraft:
    data: dict[str, Any] = dict(reference="OF-7QK2MZ", startdatum=date(2021, 8, 12), kanaal="e-formulier",
                                initiator=PersonDraft(**PERSON), huur=Decimal("650.00"), maanden=["juli"],
                                iban="NL91ABNA0417164300", rekeninghouder="A. Çelik", note="advies: voldoet")
    return CaseDraft(**{**data, **changes})


def test_omschrijving_defaults_to_tonk_aanvraag_and_the_reference() -> None:
    assert case().omschrijving == "TONK aanvraag OF-7QK2MZ"


def test_omschrijving_longer_than_80_characters_is_refused() -> None:
    with pytest.raises(ValidationError, match="omschrijving"):
        case(omschrijving="x" * 81)


def test_months_become_a_tuple_and_must_be_dutch_month_names() -> None:
    assert case(maanden=["juli", "augustus"]).maanden == ("juli", "augustus")
    with pytest.raises(ValidationError, match="unknown month name"):
        case(maanden=["July"])


def test_amounts_are_decimals_not_negative_with_at_most_two_decimals() -> None:
    assert case(huur="650.5").huur == Decimal("650.5")
    with pytest.raises(ValidationError, match="huur"):
        case(huur=Decimal("-1"))
    with pytest.raises(ValidationError, match="huur"):
        case(huur=Decimal("650.555"))


def test_the_partner_must_be_another_person() -> None:
    with pytest.raises(ValidationError, match="partner"):
        case(partner=PersonDraft(**PERSON))


def test_a_draft_is_frozen() -> None:
    draft = case()
    with pytest.raises(ValidationError):
        draft.reference = "OF-OTHER2"  # type: ignore[misc]


def test_a_document_file_name_may_not_hold_a_path(tmp_path: Path) -> None:
    ok = DocumentDraft(path=tmp_path / "x", filename="paspoort d'Hondt (1).pdf", document_type="identiteitsbewijs",
                       sha256="a" * 64)
    assert ok.filename == "paspoort d'Hondt (1).pdf"
    with pytest.raises(ValidationError, match="path separators"):
        DocumentDraft(path=tmp_path / "x", filename="../etc/passwd", document_type="overig", sha256="a" * 64)


def test_a_person_needs_a_nine_digit_bsn_and_a_postcode() -> None:
    with pytest.raises(ValidationError, match="bsn"):
        PersonDraft(**{**PERSON, "bsn": "17654321"})
    with pytest.raises(ValidationError, match="postcode"):
        PersonDraft(**{**PERSON, "postcode": "825 EH"})


def test_labels_can_be_overridden_for_another_case_system() -> None:
    labels = CaseSystemLabels.with_overrides({"save_button": "Bewaren", "channels": {"e-formulier": "Webformulier",
                                                                                      "e-mail": "E-mail"}})
    assert (labels.save_button, labels.channels["e-formulier"]) == ("Bewaren", "Webformulier")
    assert DEFAULT_LABELS.save_button == "Opslaan"


def test_an_unknown_label_name_is_a_config_error_naming_it() -> None:
    with pytest.raises(ConfigError, match="unknown label.*: saveknop"):
        CaseSystemLabels.with_overrides({"saveknop": "Bewaren"})
