"""The TONK producer mapping: one incoming e-mail or submission -> one work item.

An application becomes a `pending` item with the form's raw fields and its documents;
anything else becomes an item for a caseworker with the reason, carrying the original.
Received and reference follow specs/tonk-form.md ("The date received and the reference").

What becomes of each input (the defined outcomes; tests/unit/test_tonk_producer.py and
tests/unit/test_mail_shapes.py hold a sample of each):

- portal e-mail of the TONK form (channel 1): application `OF-...`, kanaal e-formulier;
- that portal e-mail forwarded as an attached message: the same application (the inner mail);
- portal API submission (channel 2): application `OF-...`, e-formulier;
- mail with a filled AcroForm PDF (channel 3): application `MAIL-...`, e-mail;
- mail with the form PDF left empty: human, `unreadable`;
- mail with attachments but no form fields (a scan, a photo): human, `unreadable`;
- portal e-mail of another form, a question, an auto-reply, spam: human, `not_an_application`;
- any application with a refused attachment (type by content not PDF/JPEG/PNG, empty, too big,
  a damaged PDF) or a message over the size limit: human, `attachment_refused`;
- a submission whose attachment the portal did not deliver whole: human, `attachment_missing`.

A refused or missing attachment never silently disappears: every file is stored with the item
(sha256, size, sniffed type), and the item goes to a caseworker with a finding per file.
Images the HTML body shows (logos) are stored with role `inline` and are not documents.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections import defaultdict, deque
from datetime import datetime
from typing import Any

from common.config import LimitSettings
from common.runs import RunContext
from common.sources.base import Attachment, Incoming
from common.sources.documents import pdf_intact, sniff
from common.sources.mail import ParsedMail, parse_mail
from common.workqueue import Failure, FailureKind, NewDocument, NewItem
from tonk_bot.document_names import guess_document_type
from tonk_bot.form import BY_KEY, normalise_document_type
from tonk_bot.pdf_form import read_form
from tonk_bot.portal_mail import AMSTERDAM, REFERENCE, PortalMail, read_portal_mail

CHANNEL_PORTAL = "e-formulier"
CHANNEL_MAIL = "e-mail"

NOT_AN_APPLICATION = "not_an_application"
UNREADABLE = "unreadable"
ATTACHMENT_REFUSED = "attachment_refused"
ATTACHMENT_MISSING = "attachment_missing"

_MESSAGES = {
    ATTACHMENT_REFUSED: "Een of meer bijlagen kan de robot niet registreren; een medewerker bekijkt ze.",
    ATTACHMENT_MISSING: "Een of meer bijlagen kon de robot niet volledig ophalen bij het portaal; een medewerker "
                        "haalt ze op.",
}


def mail_reference(message_id: str | None, raw: bytes) -> str:
    """`MAIL-` + the first 12 hex digits of sha256(Message-ID without <>), or of the raw message."""
    basis = message_id.encode("utf-8") if message_id else raw
    return "MAIL-" + hashlib.sha256(basis).hexdigest()[:12]


def raw_reference(raw: bytes) -> str:
    """`RAW-` + the first 12 hex digits of sha256 of the raw input (input without any usable reference)."""
    return "RAW-" + hashlib.sha256(raw).hexdigest()[:12].upper()


def received_at(*candidates: datetime | None) -> datetime | None:
    """The first known time: submitted on, else the Date header, else the delivery time."""
    return next((c for c in candidates if c is not None), None)


def _payload(fields: dict[str, str], received: datetime | None, **extra: Any) -> dict[str, Any]:
    local = received.astimezone(AMSTERDAM).date().isoformat() if received else None
    return {"fields": fields, "received": local, **extra}


def _raw_document(incoming: Incoming) -> NewDocument:
    if incoming.kind == "mail":
        return NewDocument(role="raw", filename="origineel.eml", data=incoming.raw, content_type="message/rfc822")
    return NewDocument(role="raw", filename="origineel.json", data=incoming.raw, content_type="application/json")


def _documents(incoming: Incoming, attachments: list[tuple[Attachment, str | None]]) -> list[NewDocument]:
    """The raw input first, then each file with its sniffed content type (role `inline` for body images)."""
    docs = [_raw_document(incoming)]
    for attachment, document_type in attachments:
        docs.append(NewDocument(role="inline" if attachment.inline else "attachment", filename=attachment.filename,
                                data=attachment.data, content_type=sniff(attachment.data),
                                declared_content_type=attachment.declared_content_type,
                                document_type=document_type))
    return docs


def _finding(code: str, field: str, value: str, message: str) -> dict[str, Any]:
    return {"code": code, "field": field, "value": value, "message": message}


def refused_attachments(attachments: list[Attachment], limits: LimitSettings) -> list[dict[str, Any]]:
    """Findings for files the robot may not register: type by content not allowed, too big, empty, a PDF
    that is damaged or cut short, or (portal) not delivered whole. Body images (`inline`) are not checked."""
    findings = []
    for a in attachments:
        if a.inline:
            continue
        if a.problem == "missing":
            findings.append(_finding(ATTACHMENT_MISSING, "bijlagen", a.filename,
                                     f"Bijlage '{a.filename}': het portaal gaf het bestand niet (niet gevonden)."))
            continue
        if a.problem == "size_mismatch":
            findings.append(_finding(ATTACHMENT_MISSING, "bijlagen", a.filename,
                                     f"Bijlage '{a.filename}': het portaal leverde {len(a.data)} bytes, "
                                     f"{a.expected_size} aangekondigd (onvolledig)."))
            continue
        kind = sniff(a.data)
        problem = None
        if not a.data:
            problem = "het bestand is leeg (0 bytes)"
        elif len(a.data) > limits.max_attachment_bytes:
            problem = f"het bestand is te groot ({len(a.data)} bytes, maximaal {limits.max_attachment_bytes})"
        elif kind not in limits.allowed_content_types:
            problem = f"dit soort bestand ({kind}) wordt niet geaccepteerd; alleen PDF, JPEG of PNG"
        elif kind == "application/pdf" and not pdf_intact(a.data):
            problem = "het PDF-bestand is beschadigd of onvolledig"
        if problem:
            findings.append(_finding(ATTACHMENT_REFUSED, "bijlagen", a.filename, f"Bijlage '{a.filename}': {problem}."))
    return findings


def _size_findings(incoming: Incoming, limits: LimitSettings) -> list[dict[str, Any]]:
    if len(incoming.raw) <= limits.max_message_bytes:
        return []
    return [_finding(ATTACHMENT_REFUSED, "bericht", f"{len(incoming.raw)} bytes",
                     f"Het bericht is te groot ({len(incoming.raw)} bytes, maximaal {limits.max_message_bytes}).")]


def _failure(findings: list[dict[str, Any]]) -> Failure | None:
    """One failure for the attachment findings (codes in order of first appearance), or None."""
    if not findings:
        return None
    codes = list(dict.fromkeys(f["code"] for f in findings))
    return Failure(FailureKind.BUSINESS, codes, " ".join(_MESSAGES[c] for c in codes), findings)


def to_work_item(incoming: Incoming, ctx: RunContext) -> NewItem:
    """Map one input to a NewItem (module docstring). Never raises on bad input: a human gets it with the reason.

    Raises ValueError only for an input kind it does not know (the runner then makes an `unreadable` item).
    """
    limits = ctx.settings.limits
    if incoming.kind == "submission":
        return from_submission(incoming, limits)
    if incoming.kind == "mail":
        return from_mail(incoming, parse_mail(incoming.raw), limits)
    raise ValueError(f"TONK producer: input kind {incoming.kind!r} is not supported")


# -- e-mail: channels 1 and 3 ---------------------------------------------------------------------

def from_mail(incoming: Incoming, mail: ParsedMail, limits: LimitSettings) -> NewItem:
    """A mail: a portal e-mail (also forwarded as an attachment), a PDF form, or something for a human."""
    portal = read_portal_mail(mail)
    if portal is not None and portal.is_tonk:
        return _portal_mail(incoming, mail, portal, limits)
    if portal is None:
        for inner in mail.forwarded:
            forwarded = read_portal_mail(inner)
            if forwarded is not None and forwarded.is_tonk:
                return _portal_mail(incoming, inner, forwarded, limits, outer=mail)
    if portal is not None:
        return _for_a_human(incoming, mail, NOT_AN_APPLICATION,
                            f"Dit bericht is geen TONK-aanvraag van het e-formulier (formulier '{portal.form}'); "
                            "een medewerker bekijkt het.")
    if mail.auto_reply:
        return _for_a_human(incoming, mail, NOT_AN_APPLICATION,
                            "Dit is een automatisch bericht (bijvoorbeeld een afwezigheidsmelding), geen aanvraag; "
                            "een medewerker bekijkt het.")
    files = [a for a in mail.attachments if not a.inline]
    for attachment in files:
        if sniff(attachment.data) != "application/pdf" or len(attachment.data) > limits.max_attachment_bytes:
            continue
        form = read_form(attachment.data)
        if form is None:
            continue
        if form.empty:
            return _for_a_human(incoming, mail, UNREADABLE,
                                f"Het aanvraagformulier '{attachment.filename}' is niet ingevuld (alle velden leeg); "
                                "een medewerker bekijkt het bericht.")
        return _pdf_form_mail(incoming, mail, attachment, form.fields, form.other_fields, limits)
    if files:
        return _for_a_human(incoming, mail, UNREADABLE,
                            "Dit bericht heeft bijlagen maar geen ingevuld aanvraagformulier dat de robot kan lezen "
                            "(een scan of foto?); een medewerker leest de bijlagen.")
    return _for_a_human(incoming, mail, NOT_AN_APPLICATION,
                        "Dit bericht is geen TONK-aanvraag (geen e-formulier, geen aanvraagformulier); een medewerker "
                        "bekijkt het.")


def _for_a_human(incoming: Incoming, mail: ParsedMail, code: str, reason: str) -> NewItem:
    received = received_at(mail.date, incoming.delivered_at)
    return NewItem(
        reference=mail_reference(mail.message_id, incoming.raw), channel=CHANNEL_MAIL, received_at=received,
        source=incoming.source, payload=_payload({}, received, subject=mail.subject, sender=mail.sender),
        documents=_documents(incoming, [(a, None) for a in mail.attachments]),
        failure=Failure(FailureKind.BUSINESS, [code], reason))


def _name_key(filename: str) -> str:
    return unicodedata.normalize("NFC", filename).strip().casefold()


def _typed_by_bijlage_lines(attachments: list[Attachment], documents: list[tuple[str, str]]) -> list[str | None]:
    """The document type of each attachment: the n-th file named X gets the type of the n-th `Bijlage` line
    naming X (so two files both called `scan.pdf` keep their own types). Names compare in Unicode NFC,
    ignoring case (a Mac may send `Özlem` decomposed in the header and composed in the body)."""
    queue: dict[str, deque[str]] = defaultdict(deque)
    for document_type, filename in documents:
        queue[_name_key(filename)].append(document_type)
    types: list[str | None] = []
    for a in attachments:
        waiting = queue.get(_name_key(a.filename))
        types.append(waiting.popleft() if waiting and not a.inline else None)
    return types


def _portal_mail(incoming: Incoming, mail: ParsedMail, portal: PortalMail, limits: LimitSettings,
                 outer: ParsedMail | None = None) -> NewItem:
    received = received_at(portal.submitted_at, mail.date, outer.date if outer else None, incoming.delivered_at)
    types = _typed_by_bijlage_lines(mail.attachments, portal.documents)
    extra: dict[str, Any] = {"subject": (outer or mail).subject,
                             "documents": [{"type": t, "filename": f} for t, f in portal.documents],
                             "unknown_labels": portal.unknown_labels}
    if outer is not None:
        extra["forwarded_by"] = outer.sender
    findings = _size_findings(incoming, limits) + refused_attachments(mail.attachments, limits)
    return NewItem(reference=portal.reference, channel=CHANNEL_PORTAL, received_at=received, source=incoming.source,
                   payload=_payload(portal.fields, received, **extra),
                   documents=_documents(incoming, list(zip(mail.attachments, types, strict=True))),
                   failure=_failure(findings))


def _pdf_form_mail(incoming: Incoming, mail: ParsedMail, form_file: Attachment, fields: dict[str, str],
                   other_fields: list[str], limits: LimitSettings) -> NewItem:
    received = received_at(mail.date, incoming.delivered_at)
    typed: list[tuple[Attachment, str | None]] = []
    for a in mail.attachments:
        document_type = None if a is form_file or a.inline else guess_document_type(a.filename, fields)
        typed.append((a, document_type))
    findings = _size_findings(incoming, limits) + refused_attachments(mail.attachments, limits)
    payload = _payload(fields, received, subject=mail.subject, sender=mail.sender, form_filename=form_file.filename,
                       documents=[{"type": t, "filename": a.filename} for a, t in typed if t],
                       unknown_fields=other_fields)
    return NewItem(reference=mail_reference(mail.message_id, incoming.raw), channel=CHANNEL_MAIL,
                   received_at=received, source=incoming.source, payload=payload,
                   documents=_documents(incoming, typed), failure=_failure(findings))


# -- portal API: channel 2 -------------------------------------------------------------------------

def _text_value(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "ja" if value else "nee"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    text = str(value)
    return text if text.strip() else None


def from_submission(incoming: Incoming, limits: LimitSettings) -> NewItem:
    """A portal API submission (specs/portal-api.md): `data` keys are the form's keys, values the citizen's strings.

    A submission without a valid `OF-` reference, or whose `data` is not an object, goes to a human
    (`unreadable`) with the JSON.
    """
    result = incoming.data
    reference = str(result.get("reference") or "")
    data = result.get("data")
    received = incoming.delivered_at  # the portal source reads it from `submitted_at`
    if not REFERENCE.fullmatch(reference) or not isinstance(data, dict):
        problem = "geen geldig portaalkenmerk" if not REFERENCE.fullmatch(reference) else "geen formuliergegevens"
        return NewItem(reference=raw_reference(incoming.raw), channel=CHANNEL_PORTAL, received_at=received,
                       source=incoming.source, payload=_payload({}, received, portal_reference=reference or None),
                       documents=_documents(incoming, [(a, None) for a in incoming.attachments]),
                       failure=Failure(FailureKind.BUSINESS, [UNREADABLE],
                                       f"De robot kon deze inzending van het portaal niet lezen ({problem}); "
                                       "zie het origineel."))
    fields: dict[str, str] = {}
    unknown: list[str] = []
    for key, value in data.items():
        if key not in BY_KEY:
            unknown.append(str(key))
            continue
        text = _text_value(value)
        if text is not None:
            fields[key] = text
    typed = [(a, normalise_document_type(a.document_type) if a.document_type else None) for a in incoming.attachments]
    findings = _size_findings(incoming, limits) + refused_attachments(incoming.attachments, limits)
    payload = _payload(fields, received, form=result.get("form"),
                       documents=[{"type": t, "filename": a.filename} for a, t in typed if t],
                       unknown_fields=unknown)
    return NewItem(reference=reference, channel=CHANNEL_PORTAL, received_at=received, source=incoming.source,
                   payload=payload, documents=_documents(incoming, typed), failure=_failure(findings))


__all__ = ["CHANNEL_MAIL", "CHANNEL_PORTAL", "from_mail", "from_submission", "mail_reference", "received_at",
           "refused_attachments", "to_work_item"]
