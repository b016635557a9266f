"""The TONK producer mapping: portal e-mails to work items (specs/tonk-form.md, channel 1)."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage
from types import SimpleNamespace

from common.config import Settings
from common.sources.base import Incoming
from tonk_bot.producer import mail_reference, to_work_item

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def portal_mail(body_lines: list[str], attachments: list[tuple[str, bytes, str]],
                subject: str = "[Open Forms] TONK aanvraag - submission OF-7QK2MZ") -> bytes:
    msg = EmailMessage()
    msg["From"] = "noreply@formulieren.gemeente.example"
    msg["To"] = "tonk@gemeente.example"
    msg["Subject"] = subject
    msg["Date"] = "Thu, 12 Aug 2021 14:05:00 +0200"
    msg["Message-ID"] = "<sub-OF-7QK2MZ@formulieren.gemeente.example>"
    msg.set_content("\n".join(body_lines))
    for filename, data, ctype in attachments:
        maintype, subtype = ctype.split("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return msg.as_bytes()


BODY = [
    "Submission details for TONK aanvraag (submitted on 12-08-2021 14:03)",
    "Our reference: OF-7QK2MZ",
    "",
    "BSN: 111222333",
    "Voornamen: Özlem",
    "Tussenvoegsel: ",
    "Achternaam: d'Hondt",
    "Netto inkomen huishouden januari 2020: € 2.000,00",
    "Huur per maand: 650",
    "Bijlage identiteitsbewijs: paspoort Özlem.pdf",
    "Bijlage bankpas: bankpas.pdf",
]


def ctx() -> SimpleNamespace:
    return SimpleNamespace(settings=Settings())


def test_a_portal_mail_becomes_an_application_with_fields_documents_and_date_received() -> None:
    raw = portal_mail(BODY, [("paspoort Özlem.pdf", PDF, "application/pdf"), ("bankpas.pdf", PDF, "application/pdf")])
    item = to_work_item(Incoming(source="postbus", kind="mail", key="k1", raw=raw), ctx())  # type: ignore[arg-type]
    assert item.failure is None
    assert (item.reference, item.channel, item.source) == ("OF-7QK2MZ", "e-formulier", "postbus")
    assert item.payload["fields"] == {"bsn": "111222333", "voornamen": "Özlem", "achternaam": "d'Hondt",
                                      "inkomen_peilmaand_oud": "€ 2.000,00", "huur": "650"}
    # submitted on 12-08-2021 14:03 Amsterdam (CEST, +02:00) = 12:03 UTC
    assert item.received_at == datetime(2021, 8, 12, 12, 3, tzinfo=UTC)
    assert item.payload["received"] == "2021-08-12"
    assert [(d.role, d.document_type, d.filename, d.content_type) for d in item.documents] == [
        ("raw", None, "origineel.eml", "message/rfc822"),
        ("attachment", "identiteitsbewijs", "paspoort Özlem.pdf", "application/pdf"),
        ("attachment", "bankpas", "bankpas.pdf", "application/pdf")]
    assert item.documents[0].data == raw


def test_another_form_is_not_an_application_and_keeps_the_original() -> None:
    raw = portal_mail(["Submission details for Melding openbare ruimte (submitted on 12-08-2021 14:03)",
                       "Our reference: OF-ABCDEF"], [],
                      subject="[Open Forms] Melding openbare ruimte - submission OF-ABCDEF")
    item = to_work_item(Incoming(source="postbus", kind="mail", key="k", raw=raw), ctx())  # type: ignore[arg-type]
    assert item.failure is not None and item.failure.codes == ["not_an_application"]
    assert "Melding openbare ruimte" in item.failure.message
    assert item.reference == mail_reference("sub-OF-7QK2MZ@formulieren.gemeente.example", raw)
    assert [d.role for d in item.documents] == ["raw"]


def test_a_citizens_question_is_for_a_human_and_its_reference_hashes_the_message_id() -> None:
    msg = EmailMessage()
    msg["Subject"] = "Vraag over mijn aanvraag"
    msg["Message-ID"] = "<vraag-1@example.org>"
    msg.set_content("Goedemiddag, wanneer hoor ik iets?")
    item = to_work_item(Incoming(source="p", kind="mail", key="k", raw=msg.as_bytes()), ctx())  # type: ignore[arg-type]
    # sha256("vraag-1@example.org")[:12]
    import hashlib
    assert item.reference == "MAIL-" + hashlib.sha256(b"vraag-1@example.org").hexdigest()[:12]
    assert item.failure is not None and item.failure.codes == ["not_an_application"]


def test_a_refused_attachment_sends_the_application_to_a_human_with_the_reason() -> None:
    raw = portal_mail(BODY, [("paspoort Özlem.pdf", PDF, "application/pdf"),
                             ("bankpas.pdf", b"PK\x03\x04zip", "application/pdf"),  # claims PDF, is a zip
                             ("leeg.pdf", b"", "application/pdf")])
    item = to_work_item(Incoming(source="p", kind="mail", key="k", raw=raw), ctx())  # type: ignore[arg-type]
    assert item.failure is not None and item.failure.codes == ["attachment_refused"]
    assert [(f["value"], f["code"]) for f in item.failure.findings] == [("bankpas.pdf", "attachment_refused"),
                                                                        ("leeg.pdf", "attachment_refused")]
    assert "application/zip" in item.failure.findings[0]["message"]
    # the refused files are still kept with the item, for the caseworker
    assert [d.filename for d in item.documents] == ["origineel.eml", "paspoort Özlem.pdf", "bankpas.pdf", "leeg.pdf"]
