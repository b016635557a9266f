"""One complete, valid TONK application: the citizen's typed strings, the documents and the truth.

`build_application` returns what a citizen filled in (`raw`, strings in form order,
exactly as they would reach the intake), the uploaded documents, and `parsed`: the
values a correct reader must arrive at. A valid application satisfies every intake
check of tonk-policy.md: required fields and documents present, BSN and IBAN valid,
at least one housing cost, partner data and partner ID when there is a partner,
applicant >= 18 on the date received, requested months inside July-September 2021,
received before 2021-10-31, verklaring `ja`. Faults are injected afterwards (`faults`).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sandbox.samples import documents as docs
from sandbox.samples.assessment import assess, housing_share_holds, income_drop_holds, woonkosten
from sandbox.samples.documents import Document, make_document, unique_filenames
from sandbox.samples.form import KEYS
from sandbox.samples.formats import (
    SCHEME_MONTHS,
    canonical_amount,
    make_phone,
    type_amount,
    type_bsn,
    type_date,
    type_iban,
    type_months,
    type_postcode,
)
from sandbox.samples.identifiers import make_bsn, make_iban
from sandbox.samples.people import HOUSEHOLDS, Address, Person, ascii_fold, make_address, make_person

AMSTERDAM = ZoneInfo("Europe/Amsterdam")

#: submissions fall inside the application window: 1 Aug 2021 .. 30 Oct 2021 (deadline 31 Oct), 07:00-23:00
FIRST_DAY = date(2021, 8, 1)
LAST_DAY = date(2021, 10, 30)

TOELICHTING = (
    "Door corona ben ik mijn baan in de horeca kwijtgeraakt.",
    "Mijn partner's uren bij de bloembollenkwekerij zijn gehalveerd.",
    "Ik werk als zzp'er (café-eigenaar) en heb sinds maart 2020 bijna geen inkomsten.",
    "Het evenementenbureau waar ik werkte is failliet gegaan; de Tozo is gestopt.",
    "We hebben al een betalingsregeling met de woningcorporatie, maar redden het niet.",
    "Onze spaarrekening is leeg; de huur van juli is nog niet betaald.",
    "Ik ben kapper aan huis en mocht maandenlang niet werken.",
    "Mijn contract bij het pretpark in Biddinghuizen is niet verlengd.",
    "Sinds de lockdown rijd ik minder ritten als taxichauffeur, zo'n 60 % minder.",
    "Graag hoor ik of ik ook voor oktober in aanmerking kom.",
)

EMAIL_DOMAINS = ("example.nl", "example.com", "mail.example", "ziggo.example", "kpn.example")


@dataclass
class Application:
    """A TONK application as typed.

    - `raw`: key -> the citizen's string, in form order; a key that is absent was left
      out, a value `""` is an empty field shown by the portal.
    - `parsed`: key -> expected parsed value (`bsn` 9 digits, dates ISO, amounts
      `"1234.56"`, `maanden` a list, `iban` compact upper case, `postcode` `8251 AB`,
      other text stripped as typed). Only filled fields appear.
    - `documents`: uploaded files with their document type, in upload order.
    - `submitted_at`: aware datetime, Europe/Amsterdam.
    - `assessment`: expected Dronten advice (see `assessment.assess`).
    """

    raw: dict[str, str]
    parsed: dict[str, object]
    documents: list[Document]
    submitted_at: datetime
    applicant: Person
    partner: Person | None
    assessment: dict[str, object] | None


class Registry:
    """Values that must be unique across one generated set: BSNs (applicant and partner,
    so duplicate detection never fires), applicants and references."""

    def __init__(self) -> None:
        self.bsns: set[str] = set()
        self.applicants: set[tuple[str, str, str, date]] = set()
        self.references: set[str] = set()

    def new_bsn(self, rng: random.Random) -> str:
        """A valid BSN not used before in this set."""
        while True:
            value = make_bsn(rng)
            if value not in self.bsns:
                self.bsns.add(value)
                return value


def _money(rng: random.Random, low: int, high: int, cents: bool) -> Decimal:
    """A random amount in [low, high] euros, whole or with cents."""
    units = rng.randint(low, high)
    return Decimal(units) + (Decimal(rng.randint(0, 99)) / 100 if cents else Decimal(0))


def _submitted_at(rng: random.Random) -> datetime:
    """A moment between 07:00 and 23:00 on a day from 1 Aug to 30 Oct 2021, Amsterdam time (CEST)."""
    day = date.fromordinal(rng.randint(FIRST_DAY.toordinal(), LAST_DAY.toordinal()))
    seconds = rng.randint(7 * 3600, 23 * 3600)
    return datetime(day.year, day.month, day.day, tzinfo=AMSTERDAM) + timedelta(seconds=seconds)


def _housing_costs(rng: random.Random) -> dict[str, Decimal]:
    """Monthly housing costs of a renter (huur, maybe huurtoeslag) or an owner (hypotheek), plus
    energy and water (each sometimes left out)."""
    costs: dict[str, Decimal] = {}
    if rng.random() < 0.72:
        costs["huur"] = _money(rng, 480, 1150, cents=rng.random() < 0.7)
        if rng.random() < 0.4:
            costs["huurtoeslag"] = _money(rng, 60, min(380, int(costs["huur"]) - 300), cents=True)
    else:
        costs["hypotheekrente"] = _money(rng, 180, 950, cents=True)
        if rng.random() < 0.6:
            costs["hypotheekaflossing"] = _money(rng, 100, 650, cents=True)
    if rng.random() < 0.85:
        costs["energie"] = _money(rng, 70, 260, cents=rng.random() < 0.5)
    if rng.random() < 0.6:
        costs["water"] = _money(rng, 12, 38, cents=True)
    return costs


def _incomes(rng: random.Random, household: str, costs: Decimal, want_pass: bool) -> tuple[Decimal, Decimal]:
    """Old (January 2020) and new (July 2021) net household income, whole euros, aimed at the
    target advice. Pass: drop >= 30 % and woonkosten >= 40 % of new. Fail: a drop of 5-25 %."""
    base = (2200, 5200) if household == "gehuwd of samenwonend" else (1350, 3400)
    old = Decimal(rng.randint(*base))
    if want_pass:
        if rng.random() < 0.08:
            return old, Decimal(0)
        ceiling = min(old * Decimal("0.70"), costs / Decimal("0.40"))
        new = Decimal(int(ceiling * Decimal(rng.uniform(0.35, 1.0))))
        return old, new
    drop = Decimal(str(round(rng.uniform(0.05, 0.25), 2)))
    return old, Decimal(int(old * (1 - drop)))


def _choose_months(rng: random.Random) -> list[str]:
    """Requested months, all inside the scheme period, in calendar order."""
    return rng.choice([list(SCHEME_MONTHS)] * 5 + [["juli", "augustus"], ["augustus", "september"]] * 2
                      + [["september"], ["augustus"], ["juli"]])


def _email_address(rng: random.Random, person: Person) -> str:
    first = ascii_fold(person.voornamen.split()[0]).lower().replace("-", "")
    last = ascii_fold(person.full_surname).lower().replace(" ", "").replace("'", "")
    local = rng.choice((f"{first}.{last}", f"{first[0]}{last}", f"{first}{rng.randint(1, 99)}", f"{last}.{first}"))
    return f"{local}@{rng.choice(EMAIL_DOMAINS)}"


def _rekeninghouder(rng: random.Random, applicant: Person, partner: Person | None) -> str:
    options = [f"{applicant.initials} {applicant.full_surname}", applicant.full_name]
    if partner is not None:
        options.append(f"{applicant.initials} {applicant.full_surname} en/of {partner.initials} "
                       f"{partner.full_surname}")
    return rng.choice(options)


def _documents(rng: random.Random, applicant: Person, partner: Person | None, iban: str,
               amounts: dict[str, Decimal], photo_share: float) -> list[Document]:
    """The uploads: ID, partner ID (with a partner), bank card, both income proofs, sometimes housing costs."""
    first = applicant.voornamen.split()[0]
    bank = iban[4:8]
    old = canonical_amount(amounts["inkomen_peilmaand_oud"]).replace(".", ",")
    new = canonical_amount(amounts["inkomen_peilmaand_nieuw"]).replace(".", ",")
    name_line = f"Naam: {applicant.full_name}"
    result = [
        make_document(docs.IDENTITY, rng.choice((f"paspoort {first}", "ID-kaart voor- en achterkant",
                                                 f"identiteitskaart {applicant.full_name}", "verblijfsdocument",
                                                 f"paspoort {first} {applicant.achternaam}",
                                                 f"ID {applicant.full_surname}")),
                      "Identiteitsbewijs", [name_line, f"Geboortedatum: {applicant.geboortedatum:%d-%m-%Y}",
                                            "Documentnummer: " + f"NX{rng.randrange(10**7):07d}"], rng,
                      photo_share),
    ]
    if partner is not None:
        result.append(make_document(
            docs.IDENTITY_PARTNER, rng.choice((f"paspoort {partner.voornamen.split()[0]}", "ID partner",
                                               f"id-kaart {partner.full_name}")),
            "Identiteitsbewijs", [f"Naam: {partner.full_name}",
                                  f"Geboortedatum: {partner.geboortedatum:%d-%m-%Y}"], rng, photo_share))
    result += [
        make_document(docs.BANK_CARD, rng.choice(("bankpas", f"pinpas {bank}", f"bankafschrift {bank} juli 2021",
                                                  f"bankpas {first}")),
                      "Bankpas", [f"Rekeninghouder: {applicant.full_name}", f"IBAN: {iban}"], rng,
                      photo_share * 2),
        make_document(docs.INCOME_OLD, rng.choice(("loonstrook januari 2020", "salarisstrook jan 2020",
                                                   "uitkering UWV januari 2020", "inkomen jan '20")),
                      "Inkomensspecificatie januari 2020", [name_line, f"Netto: EUR {old}"], rng, photo_share / 2),
        make_document(docs.INCOME_NEW, rng.choice(("loonstrook juli 2021", "uitkeringsspecificatie juli 2021",
                                                   "inkomsten zzp juli 2021", "WW-uitkering juli '21")),
                      "Inkomensspecificatie juli 2021", [name_line, f"Netto: EUR {new}"], rng, photo_share / 2),
    ]
    if rng.random() < 0.7:
        stems = (("huurspecificatie 2021", "huurverhoging 1 juli 2021") if "huur" in amounts
                 else ("hypotheekoverzicht", "jaaroverzicht hypotheek 2020"))
        result.append(make_document(docs.HOUSING, rng.choice((*stems, "jaarnota energie 2021")),
                                    "Woonkosten", [name_line, f"Woonkosten per maand: EUR {woonkosten(amounts)}"],
                                    rng, photo_share / 2))
    return unique_filenames(result)


def build_application(rng: random.Random, registry: Registry, *, latin1_only: bool = False,
                      euro_sign: bool = True, photo_share: float = 0.2, pass_share: float = 0.75) -> Application:
    """A complete, valid application drawn from `rng`, unique within `registry`.

    `latin1_only` and `euro_sign=False` suit an AcroForm PDF (see `pdfform`).
    `pass_share` is the chance that the Dronten advice is `voldoet`.
    """
    household = rng.choices(HOUSEHOLDS, weights=(40, 20, 40))[0]
    while True:
        applicant = make_person(rng, registry.new_bsn(rng), latin1_only=latin1_only)
        key = (applicant.voornamen, applicant.tussenvoegsel, applicant.achternaam, applicant.geboortedatum)
        if key not in registry.applicants:
            registry.applicants.add(key)
            break
    partner = None
    if household == "gehuwd of samenwonend":
        same_name = rng.random() < 0.3
        partner = make_person(rng, registry.new_bsn(rng),
                              surname=(applicant.tussenvoegsel, applicant.achternaam) if same_name else None,
                              latin1_only=latin1_only)
    address: Address = make_address(rng)
    costs = _housing_costs(rng)
    want_pass = rng.random() < pass_share
    old, new = _incomes(rng, household, woonkosten(costs), want_pass)
    amounts = {"inkomen_peilmaand_oud": old, "inkomen_peilmaand_nieuw": new, **costs}
    if rng.random() < 0.25:
        amounts["vermogen"] = _money(rng, 0, 6000, cents=rng.random() < 0.5)
    if want_pass and not (income_drop_holds(old, new) and housing_share_holds(woonkosten(costs), new)):
        raise AssertionError(f"income generator missed its target: old={old} new={new} costs={costs}")
    months = _choose_months(rng)
    iban = make_iban(rng)
    submitted_at = _submitted_at(rng)

    values: dict[str, str] = {
        "bsn": type_bsn(applicant.bsn, rng),
        "voornamen": applicant.voornamen,
        "tussenvoegsel": applicant.tussenvoegsel,
        "achternaam": applicant.achternaam,
        "geboortedatum": type_date(applicant.geboortedatum, rng),
        "straat": address.straat,
        "huisnummer": address.huisnummer,
        "huisnummertoevoeging": address.toevoeging,
        "postcode": type_postcode(address.postcode, rng),
        "woonplaats": address.woonplaats,
        "email": _email_address(rng, applicant),
        "telefoon": make_phone(rng) if rng.random() < 0.7 else "",
        "woonsituatie": household,
    }
    if partner is not None:
        values |= {
            "partner_bsn": type_bsn(partner.bsn, rng),
            "partner_voornamen": partner.voornamen,
            "partner_achternaam": partner.full_surname,
            "partner_geboortedatum": type_date(partner.geboortedatum, rng),
        }
    for key, amount in amounts.items():
        values[key] = type_amount(amount, rng, euro_sign=euro_sign)
    values |= {
        "iban": type_iban(iban, rng),
        "rekeninghouder": _rekeninghouder(rng, applicant, partner),
        "maanden": type_months(months, rng),
        "toelichting": " ".join(rng.sample(TOELICHTING, rng.randint(1, 5))) if rng.random() < 0.7 else "",
        "verklaring": "ja",
    }
    show_empty = rng.random() < 0.35  # the portal prints empty optional fields with an empty value
    raw = {k: values[k] for k in KEYS if k in values and (values[k] != "" or show_empty)}
    # keys whose canonical form differs from what a citizen types; the rest parse to themselves
    canonical = {
        "bsn": applicant.bsn,
        "geboortedatum": applicant.geboortedatum.isoformat(),
        "postcode": address.postcode,
        "iban": iban,
        "maanden": months,
        **{key: canonical_amount(amount) for key, amount in amounts.items()},
    }
    if partner is not None:
        canonical |= {"partner_bsn": partner.bsn, "partner_geboortedatum": partner.geboortedatum.isoformat()}
    parsed = {key: canonical.get(key, value) for key, value in raw.items() if value != ""}
    return Application(
        raw=raw,
        parsed=parsed,
        documents=_documents(rng, applicant, partner, iban, amounts, photo_share),
        submitted_at=submitted_at,
        applicant=applicant,
        partner=partner,
        assessment=assess(amounts, len(months)),
    )
