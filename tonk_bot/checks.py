"""The intake checks of specs/tonk-policy.md ("Intake checks") that go beyond reading single fields.

Each check returns every finding it makes (never only the first). Reading the fields
(formats, 11-proof, mod-97, amounts, dates) happens in tonk_bot.model; duplicates in
tonk_bot.duplicates. A finding means "a caseworker must look": none of these refuses.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from tonk_bot import findings as f
from tonk_bot.findings import Finding
from tonk_bot.form import DOCUMENT_TYPES, FIELDS, HOUSING_COST_KEYS, Required
from tonk_bot.model import DocumentRef, FormReading
from tonk_bot.policy import Policy

ADULT_AGE = 18


def completeness(reading: FormReading) -> list[Finding]:
    """Required fields, partner fields, at least one housing cost, the declaration.

    - `required_missing`: a required field is blank (fields that were filled in but unreadable
      already have their own finding).
    - `partner_missing`: woonsituatie is "gehuwd of samenwonend" and a partner field is blank.
    - `no_housing_costs`: none of huur, hypotheekrente, hypotheekaflossing, energie, water is
      above 0 (and none of them was unreadable).
    - `declaration_not_confirmed`: verklaring filled in with something other than yes.
    """
    values, raw, unreadable = reading.values, reading.raw, reading.unreadable
    out: list[Finding] = []
    has_partner = values.woonsituatie is not None and values.woonsituatie.has_partner
    for fld in FIELDS:
        if fld.key in unreadable or getattr(values, fld.key) is not None:
            continue
        seen = raw.get(fld.key)
        if fld.required is Required.YES:
            out.append(f.required_missing(fld.key, seen))
        elif fld.required is Required.IF_PARTNER and has_partner:
            out.append(f.partner_missing(fld.key, seen))
    if values.verklaring is False:
        out.append(f.declaration_not_confirmed(raw.get("verklaring", "")))
    costs = [getattr(values, k) for k in HOUSING_COST_KEYS]
    if not unreadable.intersection(HOUSING_COST_KEYS) and not any(c for c in costs if c is not None and c > 0):
        out.append(f.no_housing_costs())
    return out


def documents(docs: Sequence[DocumentRef], reading: FormReading) -> list[Finding]:
    """`document_missing` for each required document type not among `docs` (the partner's ID only
    when woonsituatie says there is a partner). Unknown types are carried along, not checked."""
    present = {d.type for d in docs}
    household = reading.values.woonsituatie
    has_partner = household is not None and household.has_partner
    out = []
    for doc_type in DOCUMENT_TYPES:
        needed = doc_type.required is Required.YES or (doc_type.required is Required.IF_PARTNER and has_partner)
        if needed and doc_type.name not in present:
            out.append(f.document_missing(doc_type.name))
    return out


def age_on(born: date, day: date) -> int:
    """Age in whole years on `day` (a birthday on 29 February counts from 1 March in other years)."""
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def applicant_age(reading: FormReading, received: date) -> list[Finding]:
    """`applicant_under_18`: the applicant is younger than 18 on the date received."""
    born = reading.values.geboortedatum
    if born is None:
        return []
    age = age_on(born, received)
    if age >= ADULT_AGE:
        return []
    return [f.applicant_under_18(reading.raw.get("geboortedatum", ""), age)]


def against_policy(reading: FormReading, received: date, policy: Policy | None,
                   months_inside: Sequence[str]) -> list[Finding]:
    """Checks that need the policy in force.

    - `no_policy`: no policy (None) for the date received.
    - `received_after_deadline`: received after the policy's deadline.
    - `months_outside_period`: months were requested and none falls in the scheme period
      (`months_inside` from tonk_bot.assessment.resolve_months).
    """
    if policy is None:
        return [f.no_policy(received)]
    out = []
    if received > policy.deadline:
        out.append(f.received_after_deadline(received, policy.deadline, policy.id))
    if reading.values.maanden and not months_inside:
        out.append(f.months_outside_period(reading.raw.get("maanden", ""), policy.period.from_,
                                           policy.period.to))
    return out

