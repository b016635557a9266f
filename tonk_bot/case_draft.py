"""From a checked application to the case system's registration (`CaseDraft`).

specs/tonk-form.md, "What the case system needs": the applicant as initiator, the
partner as second person (same address), omschrijving `TONK aanvraag <reference>`,
startdatum = the date received, kanaal, extern kenmerk = the reference, the amounts
and requested months, each document with its type, and the pre-assessment as a note.
"""

from __future__ import annotations

import re
from datetime import date

from common.citizen_text import MONTH_NAMES
from common.storage import BlobStore
from common.workqueue import WorkItem
from tonk_bot.casesystem.draft import CaseDraft, DocumentDraft, PersonDraft
from tonk_bot.form import DOCUMENT_TYPE_BY_NAME
from tonk_bot.model import Address, Application, Person

_UNSAFE_NAME = re.compile(r"[/\\\x00-\x1f\x7f]")


def upload_name(filename: str) -> str:
    """The citizen's filename made safe to type into an upload: path separators and control
    characters become `_`, at most 255 characters (the original stays in the work item)."""
    cleaned = _UNSAFE_NAME.sub("_", filename).strip() or "bijlage"
    return cleaned[-255:]


def person_draft(person: Person, address: Address, email: str | None, telefoon: str | None) -> PersonDraft:
    return PersonDraft(bsn=person.bsn, voornamen=person.voornamen, tussenvoegsel=person.tussenvoegsel,
                       achternaam=person.achternaam, geboortedatum=person.geboortedatum, straat=address.straat,
                       huisnummer=str(address.huisnummer), toevoeging=address.toevoeging,
                       postcode=address.postcode, woonplaats=address.woonplaats, email=email, telefoon=telefoon)


def documents_of(item: WorkItem, blobs: BlobStore) -> list[DocumentDraft]:
    """Every attachment of the item, typed by its `Bijlage` line (`overig` when none named it).

    Raises:
        FileNotFoundError: a stored document is gone (purged): the caller treats it as a system problem.
    """
    drafts = []
    for doc in item.documents:
        if doc.role != "attachment":
            continue
        if doc.storage_key is None:
            raise FileNotFoundError(f"document {doc.id} of item {item.id} was purged")
        document_type = doc.document_type if doc.document_type in DOCUMENT_TYPE_BY_NAME else "overig"
        drafts.append(DocumentDraft(path=blobs.path(doc.storage_key), filename=upload_name(doc.filename),
                                    document_type=document_type, sha256=doc.sha256))
    return drafts


def case_draft(item: WorkItem, application: Application, received: date, channel: str, note: str,
               documents: list[DocumentDraft]) -> CaseDraft:
    """The registration for `item`. Amounts in euros (`Decimal`), months as Dutch names in form order."""
    costs = application.housing_costs
    return CaseDraft(
        reference=item.reference, startdatum=received, kanaal=channel,
        initiator=person_draft(application.applicant, application.address, application.email, application.telefoon),
        partner=person_draft(application.partner, application.address, None, None) if application.partner else None,
        inkomen_oud=application.income_old, inkomen_nieuw=application.income_new, huur=costs.huur,
        huurtoeslag=costs.huurtoeslag, hypotheekrente=costs.hypotheekrente,
        hypotheekaflossing=costs.hypotheekaflossing, energie=costs.energie, water=costs.water,
        vermogen=application.vermogen, maanden=tuple(MONTH_NAMES[m] for m in application.months),
        iban=application.iban, rekeninghouder=application.rekeninghouder, toelichting=application.toelichting,
        note=note, documents=tuple(documents))
