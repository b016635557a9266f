"""Every text the robot looks for in the case system: labels, accessible names, headings, messages.

The page objects locate elements by role and by these names only, so a municipality
whose case system words things differently changes this dataclass (for instance from
the bot's `options.casesystem_labels` in config), not the process. The defaults are
the sandbox zaaksysteem's Dutch screens.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from common.errors import ConfigError


def _frozen(mapping: dict[str, str]) -> Mapping[str, str]:
    return MappingProxyType(mapping)


@dataclass(frozen=True)
class CaseSystemLabels:
    """The case system's words, by what the robot uses them for. All matching is exact."""

    # navigation and generic screens
    main_menu: str = "Hoofdmenu"
    menu_case_search: str = "Zaken zoeken"
    menu_persons: str = "Personen"
    menu_new_case: str = "Nieuwe zaak"
    error_summary_title: str = "Er zijn fouten gevonden"
    error_headings: tuple[str, ...] = ("Er is een fout opgetreden", "Pagina niet gevonden", "Formulier verlopen")

    # login
    login_form: str = "Inloggen"
    username: str = "Gebruikersnaam"
    password: str = "Wachtwoord"
    login_button: str = "Inloggen"
    login_failed: str = "Onjuiste gebruikersnaam of wachtwoord."

    # persons
    person_search_heading: str = "Persoon zoeken"
    person_search_form: str = "Persoon zoeken"
    person_search_bsn: str = "BSN"
    search_button: str = "Zoeken"
    person_found_region: str = "Gevonden persoon"
    person_not_found: str = "Geen persoon gevonden"
    person_form: str = "Persoon aanmaken"
    person_create_button: str = "Persoon aanmaken"
    #: PersonDraft field -> label on the "Persoon aanmaken" form
    person_fields: Mapping[str, str] = field(default_factory=lambda: _frozen({
        "bsn": "BSN", "voornamen": "Voornamen", "tussenvoegsel": "Tussenvoegsel", "achternaam": "Achternaam",
        "geboortedatum": "Geboortedatum", "straat": "Straat", "huisnummer": "Huisnummer",
        "toevoeging": "Toevoeging", "postcode": "Postcode", "woonplaats": "Woonplaats", "email": "E-mailadres",
        "telefoon": "Telefoonnummer",
    }))

    # new case
    new_case_heading: str = "Nieuwe zaak"
    new_case_form: str = "Nieuwe zaak"
    save_button: str = "Opslaan"
    zaaktype_tonk: str = "TONK"
    #: CaseDraft field -> label on the "Nieuwe zaak" form
    case_fields: Mapping[str, str] = field(default_factory=lambda: _frozen({
        "zaaktype": "Zaaktype", "omschrijving": "Omschrijving", "startdatum": "Startdatum", "kanaal": "Kanaal",
        "reference": "Extern kenmerk", "initiator": "Initiator (BSN)", "partner": "Partner (BSN)",
        "inkomen_oud": "Inkomen peilmaand oud", "inkomen_nieuw": "Inkomen peilmaand nieuw", "huur": "Huur",
        "huurtoeslag": "Huurtoeslag", "hypotheekrente": "Hypotheekrente",
        "hypotheekaflossing": "Hypotheekaflossing", "energie": "Energie", "water": "Water", "vermogen": "Vermogen",
        "iban": "IBAN", "rekeninghouder": "Tenaamstelling", "toelichting": "Toelichting",
        "note": "Beoordeling robot (advies)",
    }))
    months_group: str = "Aangevraagde maanden"
    #: CaseDraft month name -> checkbox label
    months: Mapping[str, str] = field(default_factory=lambda: _frozen({m: m for m in (
        "januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober",
        "november", "december")}))
    #: CaseDraft kanaal -> option label
    channels: Mapping[str, str] = field(default_factory=lambda: _frozen({"e-formulier": "e-formulier",
                                                                         "e-mail": "e-mail"}))
    #: how amounts are typed: '1234,56' (',') or '1234.56' ('.')
    decimal_mark: str = ","
    #: how dates are typed into a text input (a date input always gets ISO 8601)
    date_format: str = "%d-%m-%Y"

    # documents and finishing
    upload_heading: str = "Documenten toevoegen"
    upload_form: str = "Document uploaden"
    upload_file: str = "Bestand"
    upload_type: str = "Documenttype"
    upload_button: str = "Uploaden"
    uploaded_table: str = "Geüploade documenten"
    finish_form: str = "Afronden"
    finish_button: str = "Afronden"
    column_filename: str = "Bestandsnaam"
    column_document_type: str = "Documenttype"
    #: DocumentDraft document_type -> option label (and the type shown in document lists)
    document_types: Mapping[str, str] = field(default_factory=lambda: _frozen({t: t for t in (
        "identiteitsbewijs", "identiteitsbewijs partner", "bankpas", "inkomen oud", "inkomen nieuw", "woonkosten",
        "overig")}))
    case_number_test_id: str = "zaaknummer"
    case_number_pattern: str = r"ZAAK-\d{4}-\d{10}"
    confirmation_heading: str = "Zaak geregistreerd"

    # case search and detail
    case_search_heading: str = "Zaken zoeken"
    case_search_form: str = "Zaken zoeken"
    case_search_reference: str = "Extern kenmerk"
    results_region: str = "Zoekresultaten"
    results_table: str = "Zoekresultaten"
    no_results: str = "Geen resultaten"
    search_failed: str = "Er is een fout opgetreden bij het zoeken."
    column_case_number: str = "Zaaknummer"
    column_reference: str = "Extern kenmerk"
    case_detail_heading: str = "Zaakdetails"
    documents_table: str = "Documenten"
    add_documents_link: str = "Documenten toevoegen"

    @classmethod
    def with_overrides(cls, overrides: Mapping[str, Any], where: str = "casesystem_labels") -> CaseSystemLabels:
        """The default labels with `overrides` applied (e.g. from config).

        Raises:
            ConfigError("config.invalid"): an unknown label name (named, with `where`).
        """
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise ConfigError("config.invalid", f"{where}: unknown label(s): {', '.join(unknown)}")
        values = {k: (_frozen(dict(v)) if isinstance(v, Mapping) else (tuple(v) if isinstance(v, list) else v))
                  for k, v in overrides.items()}
        return dataclasses.replace(cls(), **values)


DEFAULT_LABELS = CaseSystemLabels()
