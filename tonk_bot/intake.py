"""The one entry point for judging a TONK application: read, check, pre-assess.

Used by the consumer (for each work item) and by `softbot assess tonk` (for a file), so
both reach the same verdict on the same input:

    received = received_date(item.received_at)
    policy = select_policy(policies, received, settings.municipality)   # None: finding no_policy
    result = evaluate(item.fields, document_refs(item.documents), received, policy,
                      QueueDuplicates(queue, item.id))
    if result.findings: ...business exception: result.reason_codes, result.finding_dicts()...
    else: ...register the case, with result.note() as the "Beoordeling robot (advies)" note...

Findings block registration (a caseworker looks); the assessment never does.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from common.workqueue import Document
from tonk_bot import checks
from tonk_bot import findings as f
from tonk_bot.assessment import Assessment, assess, render_note, resolve_months
from tonk_bot.duplicates import DuplicateLookup
from tonk_bot.findings import FIELD_HOUSING_COSTS, Finding
from tonk_bot.form import FIELDS
from tonk_bot.model import Application, DocumentRef, build_application, figures, read_form
from tonk_bot.policy import Policy

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
_FORM_ORDER = {fld.key: i for i, fld in enumerate(FIELDS)}
_FORM_ORDER[FIELD_HOUSING_COSTS] = _FORM_ORDER["water"]


@dataclass(frozen=True)
class IntakeResult:
    """What the intake made of one application.

    Attributes:
        application: the complete model, or None when a field is missing or unreadable.
        findings: every problem found, in form order, then documents, dates, policy, duplicates.
            Empty means the application can be registered.
        assessment: the pre-assessment whenever its figures could be read and a policy is in
            force (also when there are findings), else None. Advice only.
    """

    application: Application | None
    findings: list[Finding]
    assessment: Assessment | None

    @property
    def complete(self) -> bool:
        """True when there are no findings (the application can be registered)."""
        return not self.findings

    @property
    def reason_codes(self) -> list[str]:
        """The findings' codes, each once, in order (for the work item's reason codes)."""
        return list(dict.fromkeys(f.code.value for f in self.findings))

    def finding_dicts(self) -> list[dict[str, Any]]:
        """The findings as plain dicts with whole values (for the work item's detail view)."""
        return [f.as_dict() for f in self.findings]

    def note(self) -> str | None:
        """The assessment as the case's Dutch note text, or None without an assessment."""
        return render_note(self.assessment) if self.assessment is not None else None


def evaluate(fields: Mapping[str, object], documents: Sequence[DocumentRef], received: date,
             policy: Policy | None, duplicates: DuplicateLookup | None = None) -> IntakeResult:
    """Run every intake check on one application and compute its pre-assessment.

    Args:
        fields: the form as received, key -> raw text (tonk-form.md keys), with a caseworker's
            corrections already laid over it (`WorkItem.fields`). Other keys are ignored.
        documents: the documents that came with it (type and filename).
        received: the date received (Europe/Amsterdam; tonk-form.md "The date received").
        policy: the policy in force on `received` (tonk_bot.policy.select_policy), or None when
            there is none: that is the finding `no_policy`.
        duplicates: where to look for other applications with the same BSN and month; None
            skips the duplicate check (e.g. `softbot assess tonk` without `--db`).

    Returns:
        `IntakeResult`; never raises on citizens' input.
    """
    reading = read_form(fields)
    field_findings = reading.findings + checks.completeness(reading)
    field_findings.sort(key=lambda x: _FORM_ORDER.get(x.field, len(_FORM_ORDER)))
    application = build_application(reading.values, documents) if not field_findings else None

    fig = figures(reading)
    assessment = assess(fig, policy) if fig is not None and policy is not None else None
    inside: list[str] = []
    if policy is not None and reading.values.maanden:
        inside, _ = resolve_months(reading.values.maanden, policy.period)

    found = [*field_findings, *checks.documents(documents, reading), *checks.applicant_age(reading, received),
             *checks.against_policy(reading, received, policy, inside)]
    if duplicates is not None:
        bsns = {k: v for k in ("bsn", "partner_bsn") if (v := getattr(reading.values, k)) is not None}
        if bsns:
            for hit in duplicates.find(bsns, inside):
                found.append(f.possible_duplicate(hit.field, hit.bsn, [hit.other], hit.months))
    return IntakeResult(application=application, findings=found, assessment=assessment)


def received_date(received_at: datetime) -> date:
    """The date received (tonk-form.md): the calendar date in Europe/Amsterdam of an aware moment,
    e.g. a work item's `received_at` (UTC). ``2021-08-31T22:30Z`` is received on 2021-09-01.

    Raises:
        ValueError: `received_at` is naive (its zone unknown).
    """
    if received_at.tzinfo is None:
        raise ValueError("received_at is naive; pass an aware datetime")
    return received_at.astimezone(AMSTERDAM).date()


def document_refs(documents: Iterable[Document]) -> list[DocumentRef]:
    """The typed attachments of a work item (`WorkItem.documents`) as `DocumentRef`s.

    Stored documents without a document type (the raw e-mail, an untyped file) are not
    application documents and are left out here; they stay with the item.
    """
    return [DocumentRef(type=d.document_type, filename=d.filename) for d in documents if d.document_type]
