"""Reading the e-forms portal's notification e-mail (specs/tonk-form.md, channel 1).

The body holds a header line `Submission details for TONK aanvraag (submitted on
12-08-2021 14:03)`, `Our reference: OF-XXXXXX`, one `Label: value` line per filled
field (labels of tonk_bot.form), and `Bijlage <type>: <filename>` lines that give each
attachment's document type. Only TONK forms are ours: another form's e-mail is not
an application.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from common.sources.mail import ParsedMail
from tonk_bot.form import KEY_BY_LABEL, normalise_document_type

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
REFERENCE = re.compile(r"\bOF-[ABCDEFGHJKLMNPQRSTUVWXYZ23456789]{6}\b")
_SUBJECT = re.compile(r"\[Open Forms\]\s*(?P<form>.+?)\s+-\s+submission\s+(?P<ref>OF-\w{6})", re.IGNORECASE)
_HEADER = re.compile(r"^\s*Submission details for (?P<form>.+?) \(submitted on (?P<when>[0-9:\- /.]+)\)",
                     re.MULTILINE)
_OUR_REFERENCE = re.compile(r"^\s*Our reference:\s*(?P<ref>OF-\w{6})\s*$", re.MULTILINE)
_BIJLAGE = re.compile(r"^\s*Bijlage (?P<type>[^:\t]+?)\s*(?::|\t)\s*(?P<filename>.+?)\s*$", re.IGNORECASE)
# `Label: value`, or `Label<TAB>value` (a table row of an HTML-only mail, common.sources.mail.html_to_text)
_LABEL_LINE = re.compile(r"^\s*(?P<label>[^:\t]+?)\s*(?::[ \t\u00a0]?|\t[ \t]*)(?P<value>.*?)\s*$")
TONK_FORM = "tonk aanvraag"


@dataclass(frozen=True)
class PortalMail:
    """What a portal e-mail says.

    Attributes:
        reference: the portal reference `OF-XXXXXX`.
        form: the form's name as the mail gives it (e.g. `TONK aanvraag`).
        submitted_at: the `submitted on` time, Europe/Amsterdam (aware), or None when absent/unreadable.
        fields: form key -> the citizen's raw string (only labels of the TONK form).
        documents: (document type, filename) per `Bijlage` line, in order.
        unknown_labels: labels that are not on the form (kept for the caseworker, not guessed).
    """

    reference: str
    form: str
    submitted_at: datetime | None
    fields: dict[str, str] = field(default_factory=dict)
    documents: list[tuple[str, str]] = field(default_factory=list)
    unknown_labels: list[str] = field(default_factory=list)

    @property
    def is_tonk(self) -> bool:
        return self.form.strip().lower() == TONK_FORM


def _submitted(when: str) -> datetime | None:
    for fmt in ("%d-%m-%Y %H:%M", "%d-%m-%Y %H:%M:%S", "%d/%m/%Y %H:%M"):
        try:
            return datetime.strptime(when.strip(), fmt).replace(tzinfo=AMSTERDAM)
        except ValueError:
            continue
    return None


def read_portal_mail(mail: ParsedMail) -> PortalMail | None:
    """The portal e-mail's content, or None when `mail` is not a portal notification at all.

    The body must hold the header line or the `Our reference:` line at the start of a line: a reply or
    forward that only quotes them (`> Our reference: ...`) or repeats the subject is not the portal's mail.
    """
    subject = _SUBJECT.search(mail.subject)
    header = _HEADER.search(mail.text)
    our_ref = _OUR_REFERENCE.search(mail.text)
    reference = (our_ref and our_ref["ref"]) or (subject and subject["ref"])
    if not reference or not (header or our_ref):
        return None  # the subject alone (a reply "Re: [Open Forms] ...", a forward) is not the portal's mail
    form = (header and header["form"]) or (subject and subject["form"]) or ""
    fields: dict[str, str] = {}
    documents: list[tuple[str, str]] = []
    unknown: list[str] = []
    for line in mail.text.splitlines():
        if _HEADER.search(line) or _OUR_REFERENCE.match(line):
            continue
        bijlage = _BIJLAGE.match(line)
        if bijlage:
            documents.append((normalise_document_type(bijlage["type"]), bijlage["filename"]))
            continue
        labelled = _LABEL_LINE.match(line)
        if not labelled:
            continue
        key = KEY_BY_LABEL.get(labelled["label"])
        if key is None:
            unknown.append(labelled["label"])
        elif labelled["value"]:
            fields[key] = labelled["value"]
    return PortalMail(reference=reference, form=form, submitted_at=_submitted(header["when"]) if header else None,
                      fields=fields, documents=documents, unknown_labels=unknown)
