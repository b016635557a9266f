"""`generate(count, seed, ...)`: a reproducible set of sample TONK inputs with their expected outcomes.

What one call makes (in this order, indices counting on):

- `count` portal applications (channel 1 e-mail and/or channel 2 portal submission);
  `round(count * faulty_share)` of them carry exactly one injected fault (`faults`),
  the fault kinds taking turns so every kind appears once there are four or more;
- `pdf_forms` channel-3 e-mails with a filled AcroForm PDF (always complete and valid);
- `scans` channel-3 e-mails with a scanned form (no fields): for a human;
- `others` mails that are not TONK applications at all: for a human.

Each sample draws from its own generator seeded with `(seed, kind, index)`, so the same
seed gives byte-identical messages, and a larger `count` keeps the first samples as
they were (only which ones are faulty changes with `count`).

The expectation of each sample (`Sample.expectation`) comes from what the generator
did, never from a check of the robot:

```
{"index": 3, "kind": "application" | "pdf_form" | "scan" | "other",
 "channels": ["email"] | ["portal"] | ["portal", "email"],
 "reference": "OF-7QK2MZ" | "MAIL-<12 hex>", "message_id": "<...>" | null,
 "subject": "..." | null, "received": "2021-08-12T14:03:27+02:00", "received_date": "2021-08-12",
 "expected": "registered" | "business" | "human",
 "codes": [{"code": "bsn_invalid", "field": "bsn"}],
 "fields": {parsed values: "bsn": "111222333", "geboortedatum": "1980-02-01", "huur": "1234.56",
            "maanden": ["juli", "augustus"], "iban": "NL91ABNA0417164300", ...},
 "raw": {the citizen's strings, as in the e-mail and the portal JSON},
 "documents": [{"type": "identiteitsbewijs", "filename": "...", "sha256": "...", "size": 1843}],
 "assessment": {expected Dronten advice, see assessment.assess} | null,
 "form": {"filename", "sha256", "size"} (pdf_form and scan only),
 "portal_reference": "OF-..." (an other form's portal mail only)}
```

Human samples: `not_an_application` for others, `unreadable` for scans (field null).
Their `reference` is the `MAIL-` reference of tonk-form.md; match them by `message_id`.
`received` is the portal's `submitted_at` to the second; the portal e-mail shows it to the
minute, so compare `received_date`. A channel-3 mail has no `Bijlage` lines: the document
types recorded for it are the ones the citizen meant (their filenames say so, e.g.
`paspoort ...`, `loonstrook januari 2020`); a reader that cannot tell must leave it to a human.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import formataddr
from itertools import cycle

from sandbox.samples import mail
from sandbox.samples.application import Application, Registry, build_application
from sandbox.samples.documents import JPEG, PDF, Document, make_photo
from sandbox.samples.faults import FAULTS, inject
from sandbox.samples.form import PORTAL_FORM_SLUG
from sandbox.samples.identifiers import mail_reference, make_portal_reference
from sandbox.samples.pdfform import fillable_form, scanned_form

APPLICATION = "application"
PDF_FORM = "pdf_form"
SCAN = "scan"
OTHER = "other"

EMAIL = "email"
PORTAL = "portal"

REGISTERED = "registered"
BUSINESS = "business"
HUMAN = "human"

NOT_AN_APPLICATION = "not_an_application"
UNREADABLE = "unreadable"

PORTAL_MAIL_DOMAIN = "formulieren.gemeente.example"


@dataclass(frozen=True)
class Sample:
    """One generated input.

    - `message`: the e-mail as bytes when `"email"` is in `channels`, else None.
    - `submission`: the portal's JSON for it (portal-api.md, one `results` entry, plus
      each attachment's `sha256`) when `"portal"` is in `channels`, else None.
    - `documents`: every attached file with its bytes (documents of the application, the
      form PDF of a channel-3 mail included, its `type` None).
    - `expectation`: see the module docstring.
    """

    index: int
    kind: str
    channels: tuple[str, ...]
    reference: str
    message_id: str | None
    received: datetime
    documents: tuple[Document, ...]
    expectation: dict[str, object]
    message: bytes | None = None
    submission: dict[str, object] | None = field(default=None)


def _rng(seed: int, kind: str, index: int) -> random.Random:
    return random.Random(f"sandbox.samples:{seed}:{kind}:{index}")


def _message_id(rng: random.Random, at: datetime, domain: str) -> str:
    return f"<{at:%Y%m%d%H%M%S}.{rng.getrandbits(48):012x}@{domain}>"


def _attachment_id(reference: str, position: int) -> str:
    return hashlib.sha256(f"{reference}/{position}".encode()).hexdigest()[:12]


def portal_submission(reference: str, app: Application) -> dict[str, object]:
    """The portal's JSON for `app` (portal-api.md, one entry of `results`); `url`s are relative.
    Each attachment also carries its `sha256` (the sandbox portal's store uses it; the API
    does not show it)."""
    attachments = []
    for position, doc in enumerate(app.documents):
        attachment_id = _attachment_id(reference, position)
        attachments.append({
            "id": attachment_id,
            "document_type": doc.type,
            "filename": doc.filename,
            "content_type": doc.content_type,
            "size": doc.size,
            "sha256": doc.sha256,
            "url": f"/api/v1/submissions/{reference}/attachments/{attachment_id}",
        })
    return {"reference": reference, "form": PORTAL_FORM_SLUG, "submitted_at": app.submitted_at.isoformat(),
            "data": dict(app.raw), "attachments": attachments}


def _expectation(index: int, kind: str, channels: tuple[str, ...], reference: str, message_id: str | None,
                 subject: str | None, received: datetime, expected: str, codes: list[dict[str, object]],
                 app: Application | None, documents: list[Document]) -> dict[str, object]:
    return {
        "index": index,
        "kind": kind,
        "channels": list(channels),
        "reference": reference,
        "message_id": message_id,
        "subject": subject,
        "received": received.isoformat(),
        "received_date": received.date().isoformat(),
        "expected": expected,
        "codes": codes,
        "fields": dict(app.parsed) if app else {},
        "raw": dict(app.raw) if app else {},
        "documents": [doc.expectation() for doc in documents],
        "assessment": app.assessment if app else None,
    }


def _application_sample(index: int, rng: random.Random, registry: Registry, fault: str | None,
                        channels: tuple[str, ...]) -> Sample:
    app = build_application(rng, registry)
    while True:
        reference = make_portal_reference(rng)
        if reference not in registry.references:
            registry.references.add(reference)
            break
    codes: list[dict[str, object]] = inject(app, fault, rng) if fault else []
    sent_at = app.submitted_at + timedelta(seconds=rng.randint(4, 240))
    message_id = _message_id(rng, sent_at, PORTAL_MAIL_DOMAIN) if EMAIL in channels else None
    message = None
    if EMAIL in channels:
        message = mail.portal_email(reference=reference, submitted_at=app.submitted_at, sent_at=sent_at,
                                    message_id=message_id, raw=app.raw, documents=app.documents, rng=rng)
    expectation = _expectation(index, APPLICATION, channels, reference, message_id,
                               mail.portal_subject(reference) if message else None, app.submitted_at,
                               BUSINESS if codes else REGISTERED, codes, app, app.documents)
    return Sample(index=index, kind=APPLICATION, channels=channels, reference=reference, message_id=message_id,
                  received=app.submitted_at, documents=tuple(app.documents), expectation=expectation,
                  message=message, submission=portal_submission(reference, app) if PORTAL in channels else None)


PDF_FORM_SUBJECTS = ("Aanvraag TONK", "aanvraagformulier tonk", "TONK aanvraag {name}",
                     "Aanvraag tegemoetkoming woonkosten", "formulier TONK + bijlagen")


def _citizen_sender(app: Application) -> str:
    return formataddr((app.applicant.full_name, app.raw.get("email") or app.parsed["email"]))


def _pdf_form_sample(index: int, rng: random.Random, registry: Registry, scan: bool) -> Sample:
    """A channel-3 mail: the filled AcroForm PDF (or a scan of the form) plus the documents."""
    app = build_application(rng, registry, latin1_only=True, euro_sign=False)
    name = app.applicant.full_name
    if scan:
        if rng.random() < 0.5:
            form = Document(None, f"scan aanvraag {name}.pdf", PDF, scanned_form(app.raw))
        else:
            caption = [f"{mail_label}: {value}" for mail_label, value in list(app.raw.items())[:8]]
            form = Document(None, f"IMG_{app.submitted_at:%Y%m%d_%H%M%S}.jpg", JPEG,
                            make_photo(["Aanvraagformulier TONK", *caption], JPEG, rng))
    else:
        form = Document(None, f"Aanvraagformulier TONK {name}.pdf", PDF, fillable_form(app.raw))
    sent_at = app.submitted_at
    message_id = _message_id(rng, sent_at, app.parsed["email"].split("@", 1)[1])
    subject = rng.choice(PDF_FORM_SUBJECTS).format(name=name)
    listing = "\n".join(f"- {doc.filename}" for doc in app.documents)
    text = (f"Beste medewerker,\n\nHierbij stuur ik mijn aanvraagformulier voor de TONK, met als bijlagen:\n"
            f"{listing}\n\nMet vriendelijke groet,\n{name}\n")
    attachments = [form, *app.documents]
    message = mail.citizen_email(sender=_citizen_sender(app), subject=subject, sent_at=sent_at,
                                 message_id=message_id, text=text, documents=attachments, rng=rng)
    reference = mail_reference(message_id)
    if scan:
        kind, expected, codes, parsed_app = SCAN, HUMAN, [{"code": UNREADABLE, "field": None}], None
    else:
        kind, expected, codes, parsed_app = PDF_FORM, REGISTERED, [], app
    expectation = _expectation(index, kind, (EMAIL,), reference, message_id, subject, sent_at, expected, codes,
                               parsed_app, app.documents)
    expectation["form"] = {"filename": form.filename, "sha256": form.sha256, "size": form.size}
    return Sample(index=index, kind=kind, channels=(EMAIL,), reference=reference, message_id=message_id,
                  received=sent_at, documents=tuple(attachments), expectation=expectation, message=message)


def _other_sample(index: int, number: int, rng: random.Random, registry: Registry) -> Sample:
    """Mail `number` that is not a TONK application: in turn a question, another form, an auto-reply, spam."""
    app = build_application(rng, registry)  # a citizen to write it; not an application itself
    sent_at = app.submitted_at
    name = app.applicant.full_name
    sender = _citizen_sender(app)
    variant = number % 4
    extra: dict[str, str] = {}
    portal_reference = None
    if variant == 0:
        subject = "Vraag over mijn TONK aanvraag"
        text = (f"Goedemiddag,\n\nIk heb vorige week een aanvraag voor de TONK gedaan maar nog niets gehoord. "
                f"Kunt u mij laten weten wanneer ik bericht krijg? Ik ben 's middags bereikbaar.\n\n"
                f"Met vriendelijke groet,\n{name}\n")
        message_id = _message_id(rng, sent_at, app.parsed["email"].split("@", 1)[1])
        message = mail.citizen_email(sender=sender, subject=subject, sent_at=sent_at, message_id=message_id,
                                     text=text, documents=[], rng=rng)
    elif variant == 1:
        portal_reference = make_portal_reference(rng)
        registry.references.add(portal_reference)
        form_name = "Aanvraag parkeervergunning"
        labels = {"naam": "Naam", "kenteken": "Kenteken", "straat": "Straat", "huisnummer": "Huisnummer"}
        raw = {"naam": name, "kenteken": f"{rng.randint(10, 99)}-XKL-{rng.randint(1, 9)}",
               "straat": app.raw.get("straat", "De Rede"), "huisnummer": app.raw.get("huisnummer", "1")}
        subject = mail.portal_subject(portal_reference, form_name)
        message_id = _message_id(rng, sent_at, PORTAL_MAIL_DOMAIN)
        message = mail.portal_email(reference=portal_reference, submitted_at=sent_at, sent_at=sent_at,
                                    message_id=message_id, raw=raw, documents=[], rng=rng, form_name=form_name,
                                    labels=labels)
    elif variant == 2:
        subject = "Automatisch antwoord: Ontvangstbevestiging TONK aanvraag"
        text = (f"Ik ben afwezig tot en met {sent_at + timedelta(days=10):%d-%m-%Y}. "
                "Uw e-mail wordt niet doorgestuurd.\n")
        extra = {"Auto-Submitted": "auto-replied", "X-Autoreply": "yes"}
        message_id = _message_id(rng, sent_at, app.parsed["email"].split("@", 1)[1])
        message = mail.citizen_email(sender=sender, subject=subject, sent_at=sent_at, message_id=message_id,
                                     text=text, documents=[], rng=rng, extra_headers=extra)
    else:
        subject = "Uw pakket kon niet worden bezorgd"
        text = "Beste klant,\n\nUw pakket ligt klaar. Betaal € 1,99 verzendkosten via de link om het te ontvangen.\n"
        message_id = _message_id(rng, sent_at, "bezorging-track.example")
        message = mail.citizen_email(sender="Pakketdienst <info@bezorging-track.example>", subject=subject,
                                     sent_at=sent_at, message_id=message_id, text=text, documents=[], rng=rng)
    reference = mail_reference(message_id)
    expectation = _expectation(index, OTHER, (EMAIL,), reference, message_id, subject, sent_at, HUMAN,
                               [{"code": NOT_AN_APPLICATION, "field": None}], None, [])
    if portal_reference:
        expectation["portal_reference"] = portal_reference
    return Sample(index=index, kind=OTHER, channels=(EMAIL,), reference=reference, message_id=message_id,
                  received=sent_at, documents=(), expectation=expectation, message=message)


def iter_samples(count: int, seed: int, *, faulty_share: float = 0.2, others: int = 1, pdf_forms: int = 0,
                 scans: int = 0, portal_share: float = 0.0, duplicates: int = 0) -> Iterator[Sample]:
    """Yield the samples one by one, in index order (what `generate` returns as a list).

    For large sets (10,000 samples hold some 350 MB of messages and documents) write them
    as they come instead of keeping the list. Arguments and errors as `generate`.
    """
    if min(count, others, pdf_forms, scans, duplicates) < 0:
        raise ValueError("count, others, pdf_forms, scans and duplicates must be >= 0")
    if not (0 <= faulty_share <= 1 and 0 <= portal_share <= 1):
        raise ValueError("faulty_share and portal_share must lie between 0 and 1")
    n_faulty = round(count * faulty_share)
    planner = random.Random(f"sandbox.samples:{seed}:plan")
    faulty = planner.sample(range(count), n_faulty)
    kinds = list(FAULTS)
    planner.shuffle(kinds)
    fault_of = dict(zip(faulty, cycle(kinds), strict=False))
    portal = set(planner.sample(range(count), round(count * portal_share)))
    if duplicates > len(portal):
        raise ValueError(f"duplicates ({duplicates}) exceed the portal submissions ({len(portal)})")
    both = set(planner.sample(sorted(portal), duplicates))
    return _iterate(seed, count, fault_of, portal, both, others, pdf_forms, scans)


def _iterate(seed: int, count: int, fault_of: dict[int, str], portal: set[int], both: set[int], others: int,
             pdf_forms: int, scans: int) -> Iterator[Sample]:
    registry = Registry()
    for i in range(count):
        channels = (PORTAL, EMAIL) if i in both else (PORTAL,) if i in portal else (EMAIL,)
        yield _application_sample(i, _rng(seed, APPLICATION, i), registry, fault_of.get(i), channels)
    index = count
    for j in range(pdf_forms):
        yield _pdf_form_sample(index, _rng(seed, PDF_FORM, j), registry, scan=False)
        index += 1
    for j in range(scans):
        yield _pdf_form_sample(index, _rng(seed, SCAN, j), registry, scan=True)
        index += 1
    for j in range(others):
        yield _other_sample(index, j, _rng(seed, OTHER, j), registry)
        index += 1


def generate(count: int, seed: int, *, faulty_share: float = 0.2, others: int = 1, pdf_forms: int = 0,
             scans: int = 0, portal_share: float = 0.0, duplicates: int = 0) -> list[Sample]:
    """Generate the samples (see the module docstring), in index order.

    - `count`: portal applications; `faulty_share` (0..1) of them faulty, rounded.
    - `portal_share` (0..1): share of the applications delivered through the portal API
      instead of by e-mail; `duplicates` of those also arrive by e-mail (one reference,
      two copies: the robot must make one item).
    - `pdf_forms`, `scans`, `others`: extra channel-3 and non-application mails.

    Raises ValueError for negative counts, shares outside 0..1 or more duplicates than
    portal submissions. Costs about 9 ms of CPU per portal application (2-core build machine).
    """
    return list(iter_samples(count, seed, faulty_share=faulty_share, others=others, pdf_forms=pdf_forms,
                             scans=scans, portal_share=portal_share, duplicates=duplicates))
