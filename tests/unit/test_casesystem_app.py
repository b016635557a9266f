"""The sandbox zaaksysteem, through HTTP (FastAPI's TestClient): login, forms, numbers, uploads, search, faults."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from sandbox.casesystem import __main__ as cli
from sandbox.casesystem import app as app_module
from sandbox.casesystem.app import create_app
from sandbox.casesystem.settings import Faults, FaultsFileError, SandboxConfig, load_faults, parse_users

BSN_A, BSN_B = "176543211", "253086425"  # 11-proof: 176543211 -> 9+56+42+30+20+12+6+2-1 = 176 = 16*11
PERSON = {"bsn": BSN_A, "voornamen": "Ayşe", "achternaam": "Çelik", "geboortedatum": "1984-02-29",
          "straat": "Rede", "huisnummer": "12", "toevoeging": "B", "postcode": "8251eh", "woonplaats": "Dronten",
          "email": "ayse@example.nl", "telefoon": "06-12345678"}
CASE = {"zaaktype": "TONK", "omschrijving": "TONK aanvraag OF-7QK2MZ", "startdatum": "2021-08-12",
        "kanaal": "e-formulier", "extern_kenmerk": "OF-7QK2MZ", "initiator_bsn": BSN_A, "huur": "650,00",
        "inkomen_peilmaand_oud": "2000", "inkomen_peilmaand_nieuw": "1400.5", "iban": "nl91 abna 0417 1643 00",
        "tenaamstelling": "A. Çelik", "beoordeling": "advies: voldoet", "maanden": ["juli", "augustus"]}


def csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def make_client(tmp_path: Path, **faults: Any) -> TestClient:
    return TestClient(create_app(SandboxConfig(db_path=tmp_path / "zs.db", faults=Faults(**faults), control=True)))


def log_in(client: TestClient) -> str:
    """Log in as the demo user; returns the session's CSRF token."""
    token = csrf(client.get("/inloggen").text)
    page = client.post("/inloggen", data={"csrf_token": token, "gebruikersnaam": "robot-tonk",
                                          "wachtwoord": "demo-wachtwoord", "next": "/zaken/zoeken"})
    assert page.status_code == 200 and "<h1>Zaken zoeken</h1>" in page.text
    return csrf(page.text)


def errors_of(html: str) -> list[str]:
    summary = re.search(r'role="alert".*?<ul>(.*?)</ul>', html, re.S)
    return re.findall(r"<li>([^<]*)</li>", summary.group(1)) if summary else []


@pytest.fixture
def client(tmp_path: Path) -> TestClient:
    return make_client(tmp_path)


def store(client: TestClient) -> Any:
    return client.app.state.sandbox.store  # type: ignore[attr-defined]


# --- login and CSRF -------------------------------------------------------------------------------


def test_a_page_without_session_redirects_to_login(client: TestClient) -> None:
    response = client.get("/zaken/zoeken?kenmerk=OF-7QK2MZ", follow_redirects=False)

    assert response.status_code == 303
    assert response.headers["location"] == "/inloggen?next=%2Fzaken%2Fzoeken%3Fkenmerk%3DOF-7QK2MZ"


def test_login_goes_to_the_page_asked_for(client: TestClient) -> None:
    token = csrf(client.get("/inloggen?next=/personen/zoeken").text)

    page = client.post("/inloggen", data={"csrf_token": token, "gebruikersnaam": "robot-tonk",
                                          "wachtwoord": "demo-wachtwoord", "next": "/personen/zoeken"})

    assert page.url.path == "/personen/zoeken"
    assert "<h1>Persoon zoeken</h1>" in page.text


def test_a_wrong_password_shows_an_error_on_the_page(client: TestClient) -> None:
    token = csrf(client.get("/inloggen").text)

    page = client.post("/inloggen", data={"csrf_token": token, "gebruikersnaam": "robot-tonk", "wachtwoord": "fout"})

    assert "Onjuiste gebruikersnaam of wachtwoord." in page.text
    assert client.get("/zaken/zoeken", follow_redirects=False).status_code == 303


def test_login_without_the_csrf_token_is_refused(client: TestClient) -> None:
    client.get("/inloggen")

    page = client.post("/inloggen", data={"csrf_token": "guessed", "gebruikersnaam": "robot-tonk",
                                          "wachtwoord": "demo-wachtwoord"})

    assert page.status_code == 400
    assert "Het formulier is verlopen" in page.text
    assert client.get("/zaken/zoeken", follow_redirects=False).status_code == 303


def test_a_form_post_without_the_sessions_csrf_token_is_refused(client: TestClient) -> None:
    log_in(client)

    page = client.post("/personen", data={**PERSON, "csrf_token": "not-the-token"})

    assert page.status_code == 400
    assert store(client).find_person(BSN_A) is None


def test_there_is_no_json_api(client: TestClient) -> None:
    log_in(client)
    assert [client.get(p).status_code for p in ("/openapi.json", "/docs", "/api/zaken")] == [404, 404, 404]


def test_users_come_from_name_password_pairs() -> None:
    assert parse_users("robot-tonk:demo-wachtwoord, jan:ge:heim") == {"robot-tonk": "demo-wachtwoord",
                                                                     "jan": "ge:heim"}
    with pytest.raises(ValueError, match="name:password"):
        parse_users("robot-tonk")


# --- persons ----------------------------------------------------------------------------------------


def test_an_unknown_bsn_offers_the_person_form_prefilled(client: TestClient) -> None:
    log_in(client)

    page = client.get(f"/personen/zoeken?bsn={BSN_A}")

    assert "Geen persoon gevonden" in page.text
    assert 'aria-label="Persoon aanmaken"' in page.text
    assert f'id="veld-bsn" name="bsn" value="{BSN_A}"' in page.text


def test_a_created_person_is_found_by_bsn(client: TestClient) -> None:
    token = log_in(client)

    page = client.post("/personen", data={**PERSON, "csrf_token": token})

    assert page.url.path == "/personen/zoeken"
    assert "Persoon aangemaakt." in page.text and "Gevonden persoon" in page.text
    assert "Rede 12 B, 8251 EH Dronten" in page.text  # postcode normalised: "8251eh" -> "8251 EH"
    person = store(client).find_person(BSN_A)
    assert (person["voornamen"], person["achternaam"], person["geboortedatum"]) == ("Ayşe", "Çelik", "1984-02-29")


def test_person_validation_errors_are_shown_next_to_each_field_and_nothing_is_stored(client: TestClient) -> None:
    token = log_in(client)
    bad = {**PERSON, "bsn": "12345678", "geboortedatum": "31-02-1980", "postcode": "8251 SA", "huisnummer": "12a"}

    page = client.post("/personen", data={**bad, "csrf_token": token})

    assert errors_of(page.text) == ["BSN: Een BSN bestaat uit 9 cijfers",
                                    "Geboortedatum: Geen geldige datum (dd-mm-jjjj)",
                                    "Huisnummer: Huisnummer bestaat uit cijfers",
                                    "Postcode: Geen geldige postcode (1234 AB)"]
    assert '<p class="veldfout" id="veld-postcode-fout">Geen geldige postcode (1234 AB)</p>' in page.text
    assert 'aria-describedby="veld-postcode-fout"' in page.text
    assert 'value="8251 SA"' in page.text  # what was typed stays in the field
    assert store(client).find_person("12345678") is None


def test_a_bsn_failing_the_eleven_proof_is_refused(client: TestClient) -> None:
    token = log_in(client)
    # 123456789: 9+16+21+24+25+24+21+16-9 = 147 = 13*11 + 4: not divisible by 11
    page = client.post("/personen", data={**PERSON, "bsn": "123456789", "csrf_token": token})
    assert errors_of(page.text) == ["BSN: Dit BSN voldoet niet aan de elfproef"]


# --- cases ------------------------------------------------------------------------------------------


def _with_person(client: TestClient) -> str:
    token = log_in(client)
    client.post("/personen", data={**PERSON, "csrf_token": token})
    return token


def test_zaak_numbers_are_sequential_with_ten_digits(client: TestClient) -> None:
    token = _with_person(client)

    pages = [client.post("/zaken", data={**CASE, "extern_kenmerk": f"OF-AAAAA{i}", "csrf_token": token})
             for i in (2, 3, 4)]

    assert [p.url.path for p in pages] == ["/zaken/ZAAK-2021-0000000001/documenten",
                                           "/zaken/ZAAK-2021-0000000002/documenten",
                                           "/zaken/ZAAK-2021-0000000003/documenten"]
    assert '<strong data-testid="zaaknummer">ZAAK-2021-0000000003</strong>' in pages[2].text


def test_a_saved_case_keeps_its_fields_amounts_and_initiator(client: TestClient) -> None:
    token = _with_person(client)

    client.post("/zaken", data={**CASE, "csrf_token": token})

    [case] = store(client).all_cases()
    assert (case["zaaktype"], case["startdatum"], case["kanaal"], case["status"]) == (
        "TONK", "2021-08-12", "e-formulier", "concept")
    # "650,00" -> 650.00; "2000" -> 2000.00; "1400.5" -> 1400.50; IBAN compacted and upper-cased
    assert (case["huur"], case["inkomen_peilmaand_oud"], case["inkomen_peilmaand_nieuw"]) == (
        "650.00", "2000.00", "1400.50")
    assert case["iban"] == "NL91ABNA0417164300"
    assert case["maanden"] == ["juli", "augustus"]
    assert [(p["rol"], p["bsn"]) for p in case["personen"]] == [("initiator", BSN_A)]


def test_case_validation_errors_are_shown_and_nothing_is_created(client: TestClient) -> None:
    token = _with_person(client)
    bad = {**CASE, "omschrijving": "x" * 81, "partner_bsn": BSN_B, "huur": "1.234,56", "startdatum": "2021-02-30",
           "kanaal": "fax", "maanden": []}

    page = client.post("/zaken", data={**bad, "csrf_token": token})

    assert errors_of(page.text) == [
        "Omschrijving: Maximaal 80 tekens", "Startdatum: Geen geldige datum (dd-mm-jjjj)",
        "Kanaal: Kies een waarde uit de lijst", "Huur: Vul een bedrag in zoals 1234,56",
        "Aangevraagde maanden: Kies ten minste een maand", "Partner (BSN): Geen persoon met dit BSN gevonden",
    ]
    assert store(client).all_cases() == []


def test_the_same_extern_kenmerk_twice_is_accepted_as_real_systems_do(client: TestClient) -> None:
    token = _with_person(client)
    client.post("/zaken", data={**CASE, "csrf_token": token})
    client.post("/zaken", data={**CASE, "csrf_token": token})
    assert [c["extern_kenmerk"] for c in store(client).all_cases()] == ["OF-7QK2MZ", "OF-7QK2MZ"]


def test_an_upload_is_kept_with_its_sha256_size_name_and_type(client: TestClient, tmp_path: Path) -> None:
    token = _with_person(client)
    client.post("/zaken", data={**CASE, "csrf_token": token})

    page = client.post("/zaken/ZAAK-2021-0000000001/documenten", data={"documenttype": "bankpas", "csrf_token": token},
                       files={"bestand": ("bankpas d'Hondt.pdf", b"abc", "application/pdf")})

    assert "Document geüpload." in page.text and "bankpas d&#39;Hondt.pdf" in page.text
    [case] = store(client).all_cases()
    # sha256("abc") is the FIPS 180-2 example digest
    digest = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert case["documenten"] == [{"bestandsnaam": "bankpas d'Hondt.pdf", "documenttype": "bankpas", "grootte": 3,
                                   "sha256": digest}]
    assert (tmp_path / "zs-bestanden" / "ba" / digest).read_bytes() == b"abc"


def test_an_upload_without_file_or_type_is_refused_on_the_page(client: TestClient) -> None:
    token = _with_person(client)
    client.post("/zaken", data={**CASE, "csrf_token": token})

    page = client.post("/zaken/ZAAK-2021-0000000001/documenten", data={"documenttype": "", "csrf_token": token})

    assert errors_of(page.text) == ["Bestand: Kies een bestand", "Documenttype: Kies een documenttype"]


def test_afronden_registers_the_case_and_confirms_its_number(client: TestClient) -> None:
    token = _with_person(client)
    client.post("/zaken", data={**CASE, "csrf_token": token})

    page = client.post("/zaken/ZAAK-2021-0000000001/afronden", data={"csrf_token": token})

    assert page.url.path == "/zaken/ZAAK-2021-0000000001/bevestiging"
    assert '<strong data-testid="zaaknummer">ZAAK-2021-0000000001</strong>' in page.text
    assert store(client).all_cases()[0]["status"] == "geregistreerd"


# --- search -----------------------------------------------------------------------------------------


def test_the_search_page_shows_busy_and_loads_results_after_the_configured_delay(tmp_path: Path) -> None:
    client = make_client(tmp_path, search_delay_ms=750)
    log_in(client)

    page = client.get("/zaken/zoeken?kenmerk=OF-7QK2MZ")

    assert "Bezig met zoeken..." in page.text
    assert 'data-vertraging="750"' in page.text
    assert 'data-bron="/zaken/zoeken/resultaten?kenmerk=OF-7QK2MZ"' in page.text
    assert "Geen resultaten" not in page.text


def test_the_results_fragment_says_geen_resultaten_or_lists_the_zaak(client: TestClient) -> None:
    token = _with_person(client)
    assert "<p class=\"leeg\">Geen resultaten</p>" in client.get("/zaken/zoeken/resultaten?kenmerk=OF-7QK2MZ").text
    client.post("/zaken", data={**CASE, "csrf_token": token})

    fragment = client.get("/zaken/zoeken/resultaten?kenmerk=of-7qk").text  # contains, case-insensitive

    assert "<caption>Zoekresultaten</caption>" in fragment
    assert '<a href="/zaken/ZAAK-2021-0000000001">ZAAK-2021-0000000001</a>' in fragment


def test_the_results_fragment_without_session_answers_401(client: TestClient) -> None:
    assert client.get("/zaken/zoeken/resultaten?kenmerk=x", follow_redirects=False).status_code == 401


def test_the_case_detail_page_shows_fields_persons_and_documents(client: TestClient) -> None:
    token = _with_person(client)
    client.post("/zaken", data={**CASE, "csrf_token": token})
    client.post("/zaken/ZAAK-2021-0000000001/documenten", data={"documenttype": "bankpas", "csrf_token": token},
                files={"bestand": ("pas.pdf", b"x" * 2048, "application/pdf")})

    page = client.get("/zaken/ZAAK-2021-0000000001").text

    assert "<dt>Huur</dt><dd>€ 650,00</dd>" in page
    assert "<td>initiator</td><td>176543211</td><td>Ayşe Çelik</td><td>29-02-1984</td>" in page
    assert "<td>pas.pdf</td><td>bankpas</td><td>2,0 kB</td>" in page  # 2048 B / 1024 = 2.0 kB


# --- faults -----------------------------------------------------------------------------------------


def test_slow_pages_wait_the_configured_milliseconds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    waits: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        waits.append(seconds)

    monkeypatch.setattr(app_module.asyncio, "sleep", fake_sleep)
    client = make_client(tmp_path, slow_ms=250)

    client.get("/inloggen")
    client.get("/static/zaaksysteem.css")  # static files are not slowed

    assert waits == [0.25]


def test_an_error_rate_of_one_answers_every_page_with_500(tmp_path: Path) -> None:
    page = make_client(tmp_path, error_rate=1.0).get("/inloggen")
    assert page.status_code == 500
    assert "<h1>Er is een fout opgetreden</h1>" in page.text


def test_random_500s_repeat_for_the_same_seed(tmp_path: Path) -> None:
    def statuses(folder: Path) -> list[int]:
        folder.mkdir()
        client = make_client(folder, error_rate=0.5, seed=7)
        return [client.get("/inloggen").status_code for _ in range(12)]

    first, second = statuses(tmp_path / "a"), statuses(tmp_path / "b")

    assert first == second
    assert {200, 500} == set(first)


def test_a_session_expires_after_n_requests(tmp_path: Path) -> None:
    client = make_client(tmp_path, session_expiry_requests=2)
    log_in(client)  # the redirect after login is request 1
    assert client.get("/personen/zoeken", follow_redirects=False).status_code == 200  # request 2

    third = client.get("/personen/zoeken", follow_redirects=False)

    assert third.status_code == 303
    assert third.headers["location"] == "/inloggen?verlopen=1&next=%2Fpersonen%2Fzoeken"
    assert "Uw sessie is verlopen. Log opnieuw in." in client.get(third.headers["location"]).text


def test_a_validation_fault_refuses_the_named_field(tmp_path: Path) -> None:
    client = make_client(tmp_path, validation_error={"field": "omschrijving", "message": "Ongeldig teken"})
    token = _with_person(client)

    page = client.post("/zaken", data={**CASE, "csrf_token": token})

    assert errors_of(page.text) == ["Omschrijving: Ongeldig teken"]
    assert store(client).all_cases() == []


def test_the_alternate_layout_keeps_labels_but_changes_ids_classes_and_order(tmp_path: Path) -> None:
    default_client, alternate_client = make_client(tmp_path / "a"), make_client(tmp_path / "b", layout="alternate")
    pages = []
    for client in (default_client, alternate_client):
        log_in(client)
        pages.append(client.get("/zaken/nieuw").text)
    default, alternate = pages

    labels = re.compile(r"<label for=\"[^\"]+\">([^<]+)</label>")
    assert sorted(labels.findall(default)) == sorted(labels.findall(alternate))
    assert 'id="veld-omschrijving"' in default and 'id="veld-omschrijving"' not in alternate
    assert 'class="groep groep-zaak"' in default and "groep-zaak" not in alternate
    assert default.index("<legend>Zaakgegevens</legend>") < default.index("<legend>Betrokkenen</legend>")
    assert alternate.index("<legend>Betrokkenen</legend>") < alternate.index("<legend>Zaakgegevens</legend>")


def test_faults_switch_at_run_time_through_the_control_endpoint(client: TestClient) -> None:
    switched = client.post("/_sandbox/faults", json={"layout": "alternate", "search_delay_ms": 1500})

    assert switched.json()["layout"] == "alternate"
    assert client.get("/inloggen").text.count('class="zs-b"') == 1
    assert client.post("/_sandbox/faults", json={"nonsense": 1}).status_code == 422


def test_the_control_endpoint_exists_only_when_asked_for(tmp_path: Path) -> None:
    client = TestClient(create_app(SandboxConfig(db_path=tmp_path / "zs.db")))
    assert client.post("/_sandbox/faults", json={}).status_code == 404


def test_faults_are_off_by_default() -> None:
    faults = Faults()
    assert (faults.slow_ms, faults.error_rate, faults.session_expiry_requests, faults.validation_error,
            faults.layout) == (0, 0.0, None, None, "default")


def test_a_faults_file_is_read_and_a_bad_field_is_named(tmp_path: Path) -> None:
    good = tmp_path / "faults.yaml"
    good.write_text("slow_ms: 300\nlayout: alternate\nvalidation_error: {field: postcode}\n", encoding="utf-8")
    bad = tmp_path / "bad.yaml"
    bad.write_text("error_rate: 2\n", encoding="utf-8")

    faults = load_faults(good)

    assert (faults.slow_ms, faults.layout, faults.validation_error.field) == (300, "alternate", "postcode")
    with pytest.raises(FaultsFileError, match=r"bad.yaml: error_rate: Input should be less than or equal to 1"):
        load_faults(bad)


# --- cases --json -----------------------------------------------------------------------------------


def test_cases_json_prints_every_zaak_with_persons_and_documents(
    client: TestClient, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    token = _with_person(client)
    client.post("/zaken", data={**CASE, "csrf_token": token})
    client.post("/zaken/ZAAK-2021-0000000001/documenten", data={"documenttype": "identiteitsbewijs",
                                                                "csrf_token": token},
                files={"bestand": ("paspoort Çelik.pdf", b"abc", "application/pdf")})

    assert cli.main(["cases", "--json", "--db", str(tmp_path / "zs.db")]) == 0

    [case] = json.loads(capsys.readouterr().out)
    assert case["zaaknummer"] == "ZAAK-2021-0000000001"
    assert case["omschrijving"] == "TONK aanvraag OF-7QK2MZ"
    assert case["personen"][0]["achternaam"] == "Çelik"
    assert case["documenten"] == [{"bestandsnaam": "paspoort Çelik.pdf", "documenttype": "identiteitsbewijs",
                                   "grootte": 3,
                                   "sha256": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"}]


def test_cases_json_without_a_database_exits_2(tmp_path: Path) -> None:
    assert cli.main(["cases", "--json", "--db", str(tmp_path / "none.db")]) == 2
