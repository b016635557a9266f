"""The TONK producer mapping: one incoming e-mail or submission -> one work item.

An application becomes a `pending` item with the form's raw fields and its documents;
anything else (another form, a question, an unreadable message, a refused attachment)
becomes an item for a caseworker with the reason, carrying the original. Received
and reference follow specs/tonk-form.md ("The date received and the reference").
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from common.config import LimitSettings
from common.runs import RunContext
from common.sources.base import Attachment, Incoming
from common.sources.documents import sniff
from common.sources.mail import ParsedMail, parse_mail
from common.workqueue import Failure, FailureKind, NewDocument, NewItem
from tonk_bot.portal_mail import AMSTERDAM, read_portal_mail

CHANNEL_PORTAL = "e-formulier"
CHANNEL_MAIL = "e-mail"


def mail_reference(message_id: str | None, raw: bytes) -> str:
    """`MAIL-` + the first 12 hex digits of sha256(Message-ID without <>), or of the raw message."""
    basis = message_id.encode("utf-8") if message_id else raw
    return "MAIL-" + hashlib.sha256(basis).hexdigest()[:12]


def received_at(*candidates: datetime | None) -> datetime | None:
    """The first known time: submitted on, else the Date header, else the delivery time."""
    return next((c for c in candidates if c is not None), None)


def _payload(fields: dict[str, str], received: datetime | None, **extra: Any) -> dict[str, Any]:
    local = received.astimezone(AMSTERDAM).date().isoformat() if received else None
    return {"fields": fields, "received": local, **extra}


def _documents(raw: bytes, attachments: list[tuple[Attachment, str | None]]) -> list[NewDocument]:
    docs = [NewDocument(role="raw", filename="origineel.eml", data=raw, content_type="message/rfc822")]
    for attachment, document_type in attachments:
        docs.append(NewDocument(role="attachment", filename=attachment.filename, data=attachment.data,
                                content_type=sniff(attachment.data),
                                declared_content_type=attachment.declared_content_type,
                                document_type=document_type))
    return docs


def refused_attachments(attachments: list[Attachment], limits: LimitSettings) -> list[dict[str, Any]]:
    """Findings for attachments the robot may not register: wrong type (by content), too big, empty."""
    findings = []
    for a in attachments:
        kind = sniff(a.data)
        problem = None
        if not a.data:
            problem = "het bestand is leeg (0 bytes)"
        elif len(a.data) > limits.max_attachment_bytes:
            problem = f"het bestand is te groot ({len(a.data)} bytes, maximaal {limits.max_attachment_bytes})"
        elif kind not in limits.allowed_content_types:
            problem = f"dit soort bestand ({kind}) wordt niet geaccepteerd; alleen PDF, JPEG of PNG"
        if problem:
            findings.append({"code": "attachment_refused", "field": "bijlagen", "value": a.filename,
                             "message": f"Bijlage '{a.filename}': {problem}."})
    return findings


def to_work_item(incoming: Incoming, ctx: RunContext) -> NewItem:
    """Map one input to a NewItem. Never raises on bad input: a human gets it with the reason."""
    if incoming.kind != "mail":
        raise ValueError(f"TONK producer: input kind {incoming.kind!r} is not supported yet")
    return _from_mail(incoming, parse_mail(incoming.raw), ctx.settings.limits)


def _from_mail(incoming: Incoming, mail: ParsedMail, limits: LimitSettings) -> NewItem:
    portal = read_portal_mail(mail)
    common = {"source": incoming.source}
    if portal is None or not portal.is_tonk:
        received = received_at(mail.date, incoming.delivered_at)
        reason = ("Dit bericht is geen TONK-aanvraag van het e-formulier" +
                  (f" (formulier '{portal.form}')" if portal else "") + "; een medewerker bekijkt het.")
        return NewItem(
            reference=mail_reference(mail.message_id, incoming.raw), channel=CHANNEL_MAIL, received_at=received,
            payload=_payload({}, received, subject=mail.subject, sender=mail.sender),
            documents=_documents(incoming.raw, [(a, None) for a in mail.attachments]),
            failure=Failure(FailureKind.BUSINESS, ["not_an_application"], reason), **common)
    received = received_at(portal.submitted_at, mail.date, incoming.delivered_at)
    types_by_name: dict[str, str] = {}
    for document_type, filename in portal.documents:
        types_by_name.setdefault(filename, document_type)
    attachments = [(a, types_by_name.get(a.filename)) for a in mail.attachments]
    payload = _payload(portal.fields, received, subject=mail.subject,
                       documents=[{"type": t, "filename": f} for t, f in portal.documents],
                       unknown_labels=portal.unknown_labels)
    refused = refused_attachments(mail.attachments, limits)
    failure = Failure(FailureKind.BUSINESS, ["attachment_refused"],
                      "Een of meer bijlagen kan de robot niet registreren; een medewerker bekijkt ze.",
                      refused) if refused else None
    return NewItem(reference=portal.reference, channel=CHANNEL_PORTAL, received_at=received, payload=payload,
                   documents=_documents(incoming.raw, attachments), failure=failure, **common)
