"""Reading an e-mail as it really comes: body text and attachments (stdlib `email`, policy default).

Generic: no form knowledge. A bot maps `ParsedMail` to its own fields.
"""

from __future__ import annotations

import email
import email.policy
import email.utils
import html
import re
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage

from common.sources.base import Attachment

_TAGS = re.compile(r"<[^>]+>")
_BREAKS = re.compile(r"(?i)<\s*(br|/p|/div|/tr|/li|/h\d)\s*/?>")


@dataclass(frozen=True)
class ParsedMail:
    """The parts of a message a bot needs.

    Attributes:
        subject: decoded subject ('' when absent).
        message_id: the Message-ID header without angle brackets, or None.
        date: the Date header as an aware datetime, or None when absent or unreadable.
        sender: the From address.
        text: the text/plain body, else the text of the text/html body ('' when neither).
        attachments: every part that is a file (attachment or named inline part), in order.
    """

    subject: str
    message_id: str | None
    date: datetime | None
    sender: str
    text: str
    attachments: list[Attachment] = field(default_factory=list)


def html_to_text(markup: str) -> str:
    """Plain text of an HTML body: line breaks kept, tags dropped, entities decoded."""
    return html.unescape(_TAGS.sub("", _BREAKS.sub("\n", markup)))


def _header_date(message: EmailMessage) -> datetime | None:
    raw = message.get("Date")
    if not raw:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(str(raw))
    except (TypeError, ValueError):
        return None
    return parsed if parsed.tzinfo else None


def parse_mail(raw: bytes) -> ParsedMail:
    """Parse RFC 5322 bytes. Never raises on odd mail: what cannot be read is left out of `text`."""
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    plain: list[str] = []
    markup: list[str] = []
    attachments: list[Attachment] = []
    for part in message.walk():
        if part.is_multipart():
            continue
        filename = part.get_filename()
        disposition = part.get_content_disposition()
        content_type = part.get_content_type()
        if filename or disposition == "attachment":
            payload = part.get_payload(decode=True) or b""
            attachments.append(Attachment(filename=filename or "naamloos", data=payload,
                                          declared_content_type=content_type))
        elif content_type == "text/plain":
            plain.append(_text_of(part))
        elif content_type == "text/html":
            markup.append(_text_of(part))
    text = "\n".join(plain) if plain else html_to_text("\n".join(markup))
    message_id = str(message.get("Message-ID", "")).strip().strip("<>") or None
    return ParsedMail(subject=str(message.get("Subject", "")), message_id=message_id,
                      date=_header_date(message), sender=str(message.get("From", "")), text=text,
                      attachments=attachments)


def _text_of(part: EmailMessage) -> str:
    try:
        return str(part.get_content())
    except (LookupError, UnicodeDecodeError):
        payload = part.get_payload(decode=True) or b""
        return payload.decode("latin-1")
