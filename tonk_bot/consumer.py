"""The TONK consumer: judge a work item, then register it in the case system through its UI.

Per item: the intake checks and pre-assessment (`tonk_bot.intake.evaluate`, the same code
path as `softbot assess tonk`), then, when there are no findings, `register_case` drives
the case system (exactly once: it looks the zaak up by extern kenmerk first, the work
item records "submission started" right before the click that creates a zaak and the
zaak number right after it shows, and a later attempt that knows the number never
creates another). Findings raise a BusinessException (to a caseworker at once, every
finding listed). The login runs untraced (`BrowserSession.untraced`): no trace holds
the password.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path

from common.bot import ItemOutcome, ItemSteps
from common.browser import BrowserSession
from common.errors import BusinessException, ConfigError, SystemException
from common.runs import RunContext
from common.workqueue import WorkItem
from tonk_bot.case_draft import case_draft, documents_of
from tonk_bot.casesystem.registration import CaseSystemAccount, register_case
from tonk_bot.duplicates import QueueDuplicates
from tonk_bot.findings import Finding
from tonk_bot.form import BY_KEY
from tonk_bot.intake import IntakeResult, evaluate
from tonk_bot.model import DocumentRef
from tonk_bot.options import tonk_options
from tonk_bot.policy import Policy, load_policies, select_policy
from tonk_bot.portal_mail import AMSTERDAM
from tonk_bot.producer import CHANNEL_MAIL, CHANNEL_PORTAL

#: findings a caseworker may waive on requeue: a judgement, not a fact about the form
WAIVABLE = frozenset({"possible_duplicate"})
#: fields a caseworker may correct on requeue: the form's keys (specs/tonk-form.md) and the date received
CORRECTABLE = frozenset(BY_KEY) | {"received"}


def standing_findings(findings: Sequence[Finding], waived: frozenset[str]) -> list[Finding]:
    """The findings that still block registration: all but those a caseworker waived, where waivable."""
    return [f for f in findings if f.code.value not in waived & WAIVABLE]


def date_received(item: WorkItem) -> date:
    """The date received (Europe/Amsterdam) the producer recorded; a caseworker may correct it.

    Raises:
        BusinessException("received_unknown"): no date could be determined at intake, or a
            caseworker's correction of `received` is not a date YYYY-MM-DD.
    """
    text = item.corrections.get("received") or item.payload.get("received")
    if text:
        try:
            return date.fromisoformat(str(text))
        except ValueError:
            raise _received_unknown(str(text), f"De datum van ontvangst {text!r} is geen datum JJJJ-MM-DD.",
                                    "Datum van ontvangst niet leesbaar; schrijf JJJJ-MM-DD.") from None
    if item.received_at is not None:
        return item.received_at.astimezone(AMSTERDAM).date()
    raise _received_unknown(None, "De datum van ontvangst is onbekend; vul die in bij 'received'.",
                            "Datum van ontvangst onbekend.")


def _received_unknown(value: str | None, message: str, finding: str) -> BusinessException:
    return BusinessException("received_unknown", message, [{"code": "received_unknown", "field": "received",
                                                             "value": value, "message": finding}])


def document_refs(item: WorkItem) -> list[DocumentRef]:
    """The item's typed attachments, as the intake checks see them."""
    return [DocumentRef(type=d.document_type, filename=d.filename) for d in item.documents
            if d.role == "attachment" and d.document_type]


class TonkConsumer:
    """Processes TONK work items in one worker thread (one browser, started at the first item).

    With `browser.trace: always`, each item's trace goes to `runs/<run-id>/items/<item-id>/trace.zip`.

    Raises (from the constructor): ConfigError for invalid options, policies, or a missing
    case-system password environment variable.
    """

    def __init__(self, ctx: RunContext) -> None:
        options = tonk_options(ctx.options)
        casesystem = ctx.bot_settings.casesystem
        if casesystem is None:
            raise ConfigError("config.invalid", f"bots.{ctx.bot}.casesystem: the case system is not configured")
        self._ctx = ctx
        self._municipality = options.municipality
        self._policies: list[Policy] = load_policies(options.policies_dir)
        self._account = CaseSystemAccount(url=casesystem.url, username=casesystem.username,
                                          password=casesystem.password())
        self._browser = BrowserSession(ctx.settings.browser)

    def judge(self, item: WorkItem, duplicates: QueueDuplicates | None) -> tuple[IntakeResult, date]:
        """Checks and pre-assessment of `item` (the fields with a caseworker's corrections)."""
        received = date_received(item)
        policy = select_policy(self._policies, received, self._municipality)
        return evaluate(item.fields, document_refs(item), received, policy, duplicates), received

    def process(self, item: WorkItem, steps: ItemSteps) -> ItemOutcome:
        result, received = self.judge(item, QueueDuplicates(steps.queue, item.id))
        standing = standing_findings(result.findings, item.waived)
        if standing:
            findings = [f.as_dict() for f in standing]
            summary = "; ".join(f.message for f in standing)
            raise BusinessException(findings[0]["code"], f"De aanvraag kan zo niet geregistreerd worden: {summary}",
                                    findings)
        if result.application is None or result.assessment is None:
            raise SystemException("intake.inconsistent", "no findings, yet no application or assessment")
        try:
            documents = documents_of(item, self._ctx.blobs)
        except FileNotFoundError as exc:
            raise SystemException("document.missing", str(exc)) from exc
        channel = item.channel if item.channel in (CHANNEL_PORTAL, CHANNEL_MAIL) else CHANNEL_PORTAL
        draft = case_draft(item, result.application, received, channel, result.note() or "", documents)
        browser = self._browser.start()
        browser.item_started()
        registration = register_case(
            browser.page, draft, before_submit=lambda: steps.mark_submission_started(),
            after_submit=lambda number: steps.mark_submitted(number), known_zaak=steps.submitted_ref(),
            account=self._account, untraced=browser.untraced)
        browser.item_finished(steps.folder)
        return ItemOutcome(
            result={"zaak": registration.zaak_number, "created": registration.created,
                    "uploaded": registration.uploaded,
                    "assessment": result.assessment.model_dump(mode="json")},
            result_ref=registration.zaak_number)

    def reset(self) -> None:
        self._browser.reset()

    def capture_failure(self, folder: Path) -> list[Path]:
        return self._browser.capture_failure(folder) if self._browser.found else []

    def close(self) -> None:
        self._browser.close()
