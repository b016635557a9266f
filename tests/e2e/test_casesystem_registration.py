"""End-to-end: register TONK cases in the sandbox case system with headless Chromium.

The sandbox runs as a subprocess on a free port (one per module, faults switched per test);
one browser per module, a fresh context per test. What was registered is read back with
`python -m sandbox.casesystem cases --json`, never from the robot's own account of it.
"""

from __future__ import annotations

import hashlib
import re
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page
from pydantic import SecretStr
from structlog.testing import capture_logs

from common.browser import BrowserSession
from common.errors import SystemException
from sandbox.casesystem.testing import RunningCaseSystem
from tonk_bot.casesystem import (
    DEFAULT_LABELS,
    CaseDraft,
    CaseSystemAccount,
    DocumentDraft,
    PersonDraft,
    register_case,
)
from tonk_bot.casesystem.pages import CaseSearchPage

pytestmark = pytest.mark.browser

# valid BSNs (11-proof: 1*9+7*8+6*7+5*6+4*5+3*4+2*3+1*2-1*1 = 176 = 16*11 for 176543211)
BSN_CELIK, BSN_DHONDT, BSN_OZTURK, BSN_PARTNER2 = "176543211", "253086425", "329629633", "406172845"
NOTE = ("Pre-assessment (advies): voldoet\n"
        "- inkomensdaling 30,00 % (2000,00 -> 1400,00): voldoet\n"
        "- woonkosten 650,00 >= 40 % van 1400,00: voldoet\n"
        "Voorgesteld bedrag: 90,00 per maand, 270,00 totaal. Beleid dronten-tonk-2021-q3 v1.")


@pytest.fixture
def page(browser_session: BrowserSession, casesystem: RunningCaseSystem) -> Any:
    """A fresh browser context on about:blank, with every fault off (before and after)."""
    casesystem.set_faults()
    browser_session.reset()
    yield browser_session.page
    casesystem.set_faults()


def account(cs: RunningCaseSystem) -> CaseSystemAccount:
    return CaseSystemAccount(url=cs.url, username=cs.username, password=SecretStr(cs.password))


def person(bsn: str, voornamen: str, achternaam: str, tussenvoegsel: str | None = None) -> PersonDraft:
    return PersonDraft(bsn=bsn, voornamen=voornamen, tussenvoegsel=tussenvoegsel, achternaam=achternaam,
                       geboortedatum=date(1984, 2, 29), straat="Rede", huisnummer="12", toevoeging="B",
                       postcode="8251 EH", woonplaats="Dronten", email="ayse.celik@example.nl",
                       telefoon="06-12345678")


def document(folder: Path, filename: str, document_type: str, content: bytes) -> DocumentDraft:
    """A stored document: the blob under a neutral name, uploaded under the citizen's `filename`."""
    digest = hashlib.sha256(content).hexdigest()
    path = folder / digest
    path.write_bytes(content)
    return DocumentDraft(path=path, filename=filename, document_type=document_type, sha256=digest)


def draft(folder: Path, reference: str, *, initiator: PersonDraft, partner: PersonDraft | None = None,
          documents: tuple[DocumentDraft, ...] = ()) -> CaseDraft:
    return CaseDraft(
        reference=reference, startdatum=date(2021, 8, 12), kanaal="e-formulier", initiator=initiator,
        partner=partner, inkomen_oud=Decimal("2000.00"), inkomen_nieuw=Decimal("1400.00"), huur=Decimal("650.00"),
        huurtoeslag=Decimal("95.50"), energie=Decimal("120.25"), water=Decimal("18"), vermogen=Decimal("0"),
        maanden=("juli", "augustus", "september"), iban="NL91ABNA0417164300",
        rekeninghouder="A. Çelik-d'Hondt", toelichting="Sinds maart minder uren; zie bijlagen.", note=NOTE,
        documents=documents,
    )


def three_documents(folder: Path) -> tuple[DocumentDraft, ...]:
    return (
        document(folder, "paspoort Çelik.pdf", "identiteitsbewijs", b"%PDF-1.4 paspoort\n%%EOF\n"),
        document(folder, "ID d'Hondt.png", "identiteitsbewijs partner", b"\x89PNG\r\n\x1a\n partner id"),
        document(folder, "loonstrook juli 2021.pdf", "inkomen nieuw", b"%PDF-1.4 loonstrook juli\n%%EOF\n"),
    )


def cases_with(cs: RunningCaseSystem, reference: str) -> list[dict[str, Any]]:
    return [c for c in cs.cases() if c["extern_kenmerk"] == reference]


def test_registers_a_case_with_partner_and_three_documents(
    page: Page, casesystem: RunningCaseSystem, tmp_path: Path
) -> None:
    docs = three_documents(tmp_path)
    celik = person(BSN_CELIK, "Ayşe", "Çelik")
    dhondt = person(BSN_DHONDT, "Jean-Luc", "d'Hondt")
    calls: list[str] = []

    result = register_case(page, draft(tmp_path, "OF-7QK2MZ", initiator=celik, partner=dhondt, documents=docs),
                           DEFAULT_LABELS, before_submit=lambda: calls.append("started"),
                           account=account(casesystem))

    assert re.fullmatch(r"ZAAK-2021-\d{10}", result.zaak_number)
    assert result.created is True
    assert result.uploaded == ["paspoort Çelik.pdf", "ID d'Hondt.png", "loonstrook juli 2021.pdf"]
    assert calls == ["started"]
    [case] = cases_with(casesystem, "OF-7QK2MZ")
    assert case["zaaknummer"] == result.zaak_number
    fields = {k: case[k] for k in ("zaaktype", "omschrijving", "startdatum", "kanaal", "status", "maanden", "iban",
                                   "tenaamstelling", "toelichting", "beoordeling")}
    assert fields == {
        "zaaktype": "TONK", "omschrijving": "TONK aanvraag OF-7QK2MZ", "startdatum": "2021-08-12",
        "kanaal": "e-formulier", "status": "geregistreerd", "maanden": ["juli", "augustus", "september"],
        "iban": "NL91ABNA0417164300", "tenaamstelling": "A. Çelik-d'Hondt",
        "toelichting": "Sinds maart minder uren; zie bijlagen.", "beoordeling": NOTE,
    }
    amounts = {k: case[k] for k in ("inkomen_peilmaand_oud", "inkomen_peilmaand_nieuw", "huur", "huurtoeslag",
                                    "hypotheekrente", "hypotheekaflossing", "energie", "water", "vermogen")}
    assert amounts == {"inkomen_peilmaand_oud": "2000.00", "inkomen_peilmaand_nieuw": "1400.00", "huur": "650.00",
                       "huurtoeslag": "95.50", "hypotheekrente": None, "hypotheekaflossing": None,
                       "energie": "120.25", "water": "18.00", "vermogen": "0.00"}
    initiator, partner = case["personen"]
    assert initiator == {"rol": "initiator", "bsn": BSN_CELIK, "voornamen": "Ayşe", "tussenvoegsel": None,
                         "achternaam": "Çelik", "geboortedatum": "1984-02-29", "straat": "Rede", "huisnummer": 12,
                         "toevoeging": "B", "postcode": "8251 EH", "woonplaats": "Dronten",
                         "email": "ayse.celik@example.nl", "telefoon": "06-12345678"}
    assert (partner["rol"], partner["bsn"], partner["voornamen"], partner["achternaam"]) == (
        "partner", BSN_DHONDT, "Jean-Luc", "d'Hondt")
    assert case["documenten"] == [
        {"bestandsnaam": d.filename, "documenttype": d.document_type, "grootte": d.path.stat().st_size,
         "sha256": d.sha256} for d in docs
    ]
    # by hand: "%PDF-1.4 paspoort\n%%EOF\n" = 8+9+1+5+1 = 24; PNG magic 8 + " partner id" 11 = 19;
    # "%PDF-1.4 loonstrook juli\n%%EOF\n" = 8+16+1+5+1 = 31
    assert [d["grootte"] for d in case["documenten"]] == [24, 19, 31]


def test_the_same_draft_twice_makes_one_zaak(page: Page, casesystem: RunningCaseSystem, tmp_path: Path) -> None:
    the_draft = draft(tmp_path, "OF-TWXCE2", initiator=person(BSN_CELIK, "Ayşe", "Çelik"),
                      documents=three_documents(tmp_path))
    calls: list[str] = []

    first = register_case(page, the_draft, before_submit=lambda: calls.append("x"), account=account(casesystem))
    second = register_case(page, the_draft, before_submit=lambda: calls.append("y"), account=account(casesystem))

    assert (second.zaak_number, second.created, second.uploaded) == (first.zaak_number, False, [])
    assert calls == ["x"]
    [case] = cases_with(casesystem, "OF-TWXCE2")
    assert len(case["documenten"]) == 3


def test_an_existing_zaak_gets_only_its_missing_documents(
    page: Page, casesystem: RunningCaseSystem, tmp_path: Path
) -> None:
    docs = three_documents(tmp_path)
    ozturk = person(BSN_OZTURK, "Elif", "Öztürk-de Vries")
    first = register_case(page, draft(tmp_path, "OF-PART3A", initiator=ozturk, documents=docs[:1]),
                          before_submit=lambda: None, account=account(casesystem))

    again = register_case(page, draft(tmp_path, "OF-PART3A", initiator=ozturk, documents=docs),
                          before_submit=lambda: None, account=account(casesystem))

    assert (again.zaak_number, again.created) == (first.zaak_number, False)
    assert again.uploaded == ["ID d'Hondt.png", "loonstrook juli 2021.pdf"]
    [case] = cases_with(casesystem, "OF-PART3A")
    assert [d["bestandsnaam"] for d in case["documenten"]] == [d.filename for d in docs]
    assert case["personen"][0]["achternaam"] == "Öztürk-de Vries"


def test_the_alternate_layout_passes_with_the_same_page_objects(
    page: Page, casesystem: RunningCaseSystem, tmp_path: Path
) -> None:
    casesystem.set_faults(layout="alternate")
    docs = three_documents(tmp_path)
    result = register_case(
        page, draft(tmp_path, "OF-ALT3RN", initiator=person(BSN_OZTURK, "Elif", "Öztürk-de Vries"),
                    partner=person(BSN_PARTNER2, "Mohammed", "Ben Saïd"), documents=docs),
        before_submit=lambda: None, account=account(casesystem))

    assert page.locator("body.zs-b").count() == 1  # really the reskinned layout
    again = register_case(page, draft(tmp_path, "OF-ALT3RN", initiator=person(BSN_OZTURK, "Elif", "Öztürk-de Vries"),
                                      documents=docs), before_submit=lambda: None, account=account(casesystem))
    assert (again.zaak_number, again.created) == (result.zaak_number, False)
    [case] = cases_with(casesystem, "OF-ALT3RN")
    assert [p["bsn"] for p in case["personen"]] == [BSN_OZTURK, BSN_PARTNER2]
    assert case["personen"][1]["achternaam"] == "Ben Saïd"
    assert [d["sha256"] for d in case["documenten"]] == [d.sha256 for d in docs]
    assert case["huurtoeslag"] == "95.50"


def test_the_search_shows_busy_before_its_results(page: Page, casesystem: RunningCaseSystem) -> None:
    casesystem.set_faults(search_delay_ms=1500)
    page.goto(casesystem.url)
    page.get_by_label("Gebruikersnaam").fill(casesystem.username)
    page.get_by_label("Wachtwoord").fill(casesystem.password)
    page.get_by_role("button", name="Inloggen").click()
    page.get_by_label("Extern kenmerk").fill("OF-NNNE99")
    page.get_by_role("button", name="Zoeken").click()

    region = page.get_by_role("region", name="Zoekresultaten")
    assert region.inner_text() == "Bezig met zoeken..."  # read early: neither a table nor "Geen resultaten"
    assert CaseSearchPage(page, DEFAULT_LABELS).search("OF-NNNE99") == []


def test_a_search_read_before_its_results_load_makes_no_second_zaak(
    page: Page, casesystem: RunningCaseSystem, tmp_path: Path
) -> None:
    the_draft = draft(tmp_path, "OF-SLWW22", initiator=person(BSN_CELIK, "Ayşe", "Çelik"))
    first = register_case(page, the_draft, before_submit=lambda: None, account=account(casesystem))
    casesystem.set_faults(search_delay_ms=1500)

    second = register_case(page, the_draft, before_submit=lambda: None, account=account(casesystem))

    assert (second.zaak_number, second.created) == (first.zaak_number, False)
    assert len(cases_with(casesystem, "OF-SLWW22")) == 1


def test_session_expiry_every_few_requests_is_survived(
    page: Page, casesystem: RunningCaseSystem, tmp_path: Path
) -> None:
    casesystem.set_faults(session_expiry_requests=8)
    docs = three_documents(tmp_path)
    with capture_logs() as logs:
        result = register_case(
            page, draft(tmp_path, "OF-EXPZRE", initiator=person(BSN_DHONDT, "Jean-Luc", "d'Hondt"),
                        partner=person(BSN_PARTNER2, "Mohammed", "Ben Saïd"), documents=docs),
            before_submit=lambda: None, account=account(casesystem))

    assert sum(1 for e in logs if e["event"] == "casesystem.login_again") >= 1
    [case] = cases_with(casesystem, "OF-EXPZRE")
    assert case["zaaknummer"] == result.zaak_number
    assert case["status"] == "geregistreerd"
    assert [d["bestandsnaam"] for d in case["documenten"]] == [d.filename for d in docs]


def test_a_validation_error_raises_a_system_exception_naming_the_field(
    page: Page, casesystem: RunningCaseSystem, tmp_path: Path
) -> None:
    casesystem.set_faults(validation_error={"field": "omschrijving", "message": "Bevat een ongeldig teken"})

    with pytest.raises(SystemException) as raised:
        register_case(page, draft(tmp_path, "OF-VALQDX", initiator=person(BSN_CELIK, "Ayşe", "Çelik")),
                      before_submit=lambda: None, account=account(casesystem))

    assert raised.value.code == "casesystem.rejected"
    assert "Omschrijving: Bevat een ongeldig teken" in raised.value.message
    assert cases_with(casesystem, "OF-VALQDX") == []


def test_an_expired_session_without_an_account_is_a_system_exception(
    page: Page, casesystem: RunningCaseSystem, tmp_path: Path
) -> None:
    page.goto(casesystem.url)  # the login page: nobody logged in

    with pytest.raises(SystemException) as raised:
        register_case(page, draft(tmp_path, "OF-NXACCT", initiator=person(BSN_CELIK, "Ayşe", "Çelik")),
                      before_submit=lambda: None)

    assert raised.value.code == "casesystem.session_expired"


def test_a_server_error_page_is_a_system_exception(page: Page, casesystem: RunningCaseSystem, tmp_path: Path) -> None:
    casesystem.set_faults(error_rate=1.0)

    with pytest.raises(SystemException) as raised:
        register_case(page, draft(tmp_path, "OF-SRVERR", initiator=person(BSN_CELIK, "Ayşe", "Çelik")),
                      before_submit=lambda: None, account=account(casesystem))

    assert raised.value.code == "casesystem.server_error"
    assert "Er is een fout opgetreden" in raised.value.message


def test_error_pages_on_every_kind_of_step_are_survived_with_one_zaak(
    page: Page, casesystem: RunningCaseSystem, tmp_path: Path
) -> None:
    casesystem.set_faults(error_rate=0.2, seed=3)  # one request in five answers HTTP 500 (repeatable)
    docs = three_documents(tmp_path)
    with capture_logs() as logs:
        result = register_case(
            page, draft(tmp_path, "OF-ERRSV5", initiator=person(BSN_OZTURK, "Elif", "Öztürk-de Vries"),
                        partner=person(BSN_PARTNER2, "Mohammed", "Ben Saïd"), documents=docs),
            before_submit=lambda: None, account=account(casesystem))

    casesystem.set_faults()
    restarts = [e for e in logs if e["event"] == "casesystem.start_over"]
    assert len(restarts) >= 3  # it did meet error pages, and carried on each time
    [case] = cases_with(casesystem, "OF-ERRSV5")
    assert (case["zaaknummer"], case["status"]) == (result.zaak_number, "geregistreerd")
    assert [d["sha256"] for d in case["documenten"]] == [d.sha256 for d in docs]  # each once, in order


def test_the_zaak_number_is_handed_over_before_the_first_upload(
    page: Page, casesystem: RunningCaseSystem, tmp_path: Path
) -> None:
    seen: list[tuple[str, int]] = []

    def after_submit(number: str) -> None:
        [case] = cases_with(casesystem, "OF-AFTSB1")
        seen.append((number, len(case["documenten"])))

    result = register_case(page, draft(tmp_path, "OF-AFTSB1", initiator=person(BSN_CELIK, "Ayşe", "Çelik"),
                                       documents=three_documents(tmp_path)),
                           before_submit=lambda: None, after_submit=after_submit, account=account(casesystem))

    assert seen == [(result.zaak_number, 0)]  # recorded as soon as it showed, before any document


def test_a_known_zaak_the_search_does_not_find_is_never_created_again(
    page: Page, casesystem: RunningCaseSystem, tmp_path: Path
) -> None:
    calls: list[str] = []

    with pytest.raises(SystemException) as raised:
        register_case(page, draft(tmp_path, "OF-KNWN01", initiator=person(BSN_CELIK, "Ayşe", "Çelik")),
                      before_submit=lambda: calls.append("submit"), known_zaak="ZAAK-2021-0000009999",
                      account=account(casesystem))

    assert raised.value.code == "casesystem.case_not_found"
    assert "ZAAK-2021-0000009999" in raised.value.message
    assert (calls, cases_with(casesystem, "OF-KNWN01")) == ([], [])
