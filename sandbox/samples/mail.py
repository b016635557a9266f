"""Render messages as they reach the intake mailbox (tonk-form.md, "Channels").

- `portal_email`: channel 1, the portal's summary e-mail with `Label: value` lines,
  `Bijlage <type>: <filename>` lines and the documents as MIME parts.
- `citizen_email`: channel 3 and the "not an application" mails: free subject and
  text, attachments as the citizen added them (built with the modern `EmailMessage`
  API, as a current mail program would).

Output is bytes (LF line ends, as in a Maildir file). MIME boundaries come from the
caller's random generator, so the same seed gives the same bytes.
"""

from __future__ import annotations

import html
import random
from datetime import datetime
from email import policy
from email.charset import BASE64, QP, Charset
from email.encoders import encode_base64
from email.message import EmailMessage, Message, MIMEPart
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime

from sandbox.samples.documents import Document
from sandbox.samples.form import FORM_NAME, LABELS

PORTAL_FROM = "Open Formulieren <noreply@formulieren.gemeente.example>"
INTAKE_TO = "tonk@gemeente.example"
PORTAL_FOOTER = "Dit bericht is automatisch verstuurd door het e-formulierenportaal van de gemeente."


def portal_subject(reference: str, form_name: str = FORM_NAME) -> str:
    """`[Open Forms] TONK aanvraag - submission OF-XXXXXX`."""
    return f"[Open Forms] {form_name} - submission {reference}"


def portal_body(reference: str, submitted_at: datetime, raw: dict[str, str], documents: list[Document],
                form_name: str = FORM_NAME, labels: dict[str, str] = LABELS) -> str:
    """The plain-text summary: header line, reference, one `Label: value` line per field in form
    order (an empty value prints as `Label:`), then one `Bijlage <type>: <filename>` per document."""
    lines = [f"Submission details for {form_name} (submitted on {submitted_at:%d-%m-%Y %H:%M})", "",
             f"Our reference: {reference}", ""]
    lines += [f"{labels[key]}: {value}" if value else f"{labels[key]}:" for key, value in raw.items()]
    if documents:
        lines.append("")
        lines += [f"Bijlage {doc.type}: {doc.filename}" for doc in documents]
    lines += ["", PORTAL_FOOTER, ""]
    return "\n".join(lines)


def portal_html(reference: str, submitted_at: datetime, raw: dict[str, str], documents: list[Document],
                form_name: str = FORM_NAME, labels: dict[str, str] = LABELS) -> str:
    """The HTML alternative: the same content as a table."""
    esc = html.escape
    rows = "".join(f"<tr><th>{esc(labels[k])}</th><td>{esc(v)}</td></tr>" for k, v in raw.items())
    rows += "".join(f"<tr><th>Bijlage {esc(d.type or '')}</th><td>{esc(d.filename)}</td></tr>" for d in documents)
    return (f"<html><body><p>Submission details for {esc(form_name)} (submitted on "
            f"{submitted_at:%d-%m-%Y %H:%M})</p><p>Our reference: {esc(reference)}</p>"
            f"<table>{rows}</table><p>{esc(PORTAL_FOOTER)}</p></body></html>\n")


def _attach(msg: EmailMessage, documents: list[Document]) -> None:
    """Add each document as an attachment part (`MIMEPart`, so parts carry no MIME-Version of their own).
    A non-ASCII filename is written RFC 2231-encoded (`filename*=utf-8''...`) by the stdlib."""
    if documents and msg.get_content_type() != "multipart/mixed":
        msg.make_mixed()
    for doc in documents:
        maintype, subtype = doc.content_type.split("/")
        part = MIMEPart(policy=msg.policy)
        part.set_content(doc.data, maintype=maintype, subtype=subtype, disposition="attachment",
                         filename=doc.filename)
        msg.attach(part)


def _text_part(text: str, subtype: str, cte: str) -> MIMEText:
    """A compat32 text part in UTF-8 with the given transfer encoding (quoted-printable, base64, 8bit)."""
    charset = Charset("utf-8")
    charset.body_encoding = {"quoted-printable": QP, "base64": BASE64, "8bit": None}[cte]
    return MIMEText(text, subtype, charset)


def portal_email(*, reference: str, submitted_at: datetime, sent_at: datetime, message_id: str,
                 raw: dict[str, str], documents: list[Document], rng: random.Random,
                 form_name: str = FORM_NAME, labels: dict[str, str] = LABELS) -> bytes:
    """The portal's e-mail for one submission (channel 1), as bytes.

    Built the way a Django portal (Open Formulieren) builds it, with the stdlib's compat32
    `email.mime` classes: `multipart/mixed` holding the text (or a `multipart/alternative`
    of text and HTML, in about 30 % of messages) and one part per document, non-ASCII
    filenames RFC 2231-encoded. The text is quoted-printable, base64 or 8bit.
    """
    cte = rng.choice(("quoted-printable", "quoted-printable", "base64", "8bit"))
    body: Message = _text_part(portal_body(reference, submitted_at, raw, documents, form_name, labels), "plain", cte)
    if rng.random() < 0.3:
        html_part = _text_part(portal_html(reference, submitted_at, raw, documents, form_name, labels), "html",
                               "quoted-printable")
        body = MIMEMultipart("alternative", _subparts=[body, html_part],
                             boundary=f"=_alt_{rng.getrandbits(64):016x}")
    if documents:
        msg: Message = MIMEMultipart("mixed", _subparts=[body], boundary=f"=_mix_{rng.getrandbits(64):016x}")
        for doc in documents:
            maintype, subtype = doc.content_type.split("/")
            part = MIMEBase(maintype, subtype)
            part.set_payload(doc.data)
            encode_base64(part)
            filename = doc.filename if doc.filename.isascii() else ("utf-8", "", doc.filename)
            part.add_header("Content-Disposition", "attachment", filename=filename)
            msg.attach(part)
    else:
        msg = body
    msg["From"] = PORTAL_FROM
    msg["To"] = INTAKE_TO
    msg["Subject"] = portal_subject(reference, form_name)
    msg["Date"] = format_datetime(sent_at)
    msg["Message-ID"] = message_id
    return msg.as_bytes()


def citizen_email(*, sender: str, subject: str, sent_at: datetime, message_id: str, text: str,
                  documents: list[Document], rng: random.Random, to: str = INTAKE_TO,
                  extra_headers: dict[str, str] | None = None) -> bytes:
    """A mail a citizen (or their mail program) wrote: free subject and text, attachments."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(sent_at)
    msg["Message-ID"] = message_id
    for name, value in (extra_headers or {}).items():
        msg[name] = value
    msg.set_content(text, charset="utf-8", cte=rng.choice(("quoted-printable", "8bit", "base64")))
    _attach(msg, documents)
    for part in msg.walk():  # the stdlib would draw its own boundaries at random
        if part.is_multipart():
            part.set_boundary(f"=_softbot_{rng.getrandbits(64):016x}")
    return msg.as_bytes(policy=policy.default)
