"""Mail as it really comes (issue: "Mail as it really comes"): one small sample per shape, with its outcome.

Each sample is built byte by byte where the shape is in the bytes (encodings, parameters), so the
test shows exactly what a mail program sends. `SHAPES` is also written to a folder and read with
`softbot intake tonk --from FOLDER --dry-run --json` (tests/unit/test_sources_intake_command.py).
"""

from __future__ import annotations

import base64
import quopri
from email.message import EmailMessage
from types import SimpleNamespace

import pytest

from common.config import Settings
from common.sources.base import Incoming
from common.sources.mail import decode_text, html_to_text, parse_mail
from tonk_bot.producer import to_work_item

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PDF2 = b"%PDF-1.4\n% tweede document\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 40
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 40
TNEF = b"\x78\x9f\x3e\x22" + b"\x00" * 40  # winmail.dat signature

HEADERS = ("From: Open Formulieren <noreply@formulieren.gemeente.example>\r\n"
           "To: tonk@gemeente.example\r\n"
           "Subject: [Open Forms] TONK aanvraag - submission OF-7QK2MZ\r\n"
           "Date: Thu, 12 Aug 2021 14:05:00 +0200\r\n"
           "Message-ID: <{mid}@formulieren.gemeente.example>\r\n"
           "MIME-Version: 1.0\r\n")


def body_lines(*extra: str) -> list[str]:
    return ["Submission details for TONK aanvraag (submitted on 12-08-2021 14:03)", "",
            "Our reference: OF-7QK2MZ", "", "BSN: 111222333", "Voornamen: Anna", "Achternaam: Jansen", *extra]


def multipart(mid: str, parts: list[str], boundary: str = "b1") -> bytes:
    text = HEADERS.format(mid=mid) + f'Content-Type: multipart/mixed; boundary="{boundary}"\r\n\r\n'
    for part in parts:
        text += f"--{boundary}\r\n{part}\r\n"
    return (text + f"--{boundary}--\r\n").encode("ascii")


def b64(data: bytes) -> str:
    return base64.encodebytes(data).decode("ascii").replace("\n", "\r\n")


def text_part(lines: list[str], charset: str = "utf-8", cte: str = "quoted-printable") -> str:
    raw = "\r\n".join(lines).encode(charset)
    body = quopri.encodestring(raw).decode("ascii") if cte == "quoted-printable" else b64(raw)
    return f"Content-Type: text/plain; charset={charset}\r\nContent-Transfer-Encoding: {cte}\r\n\r\n{body}"


def file_part(headers: str, data: bytes) -> str:
    return f"{headers}Content-Transfer-Encoding: base64\r\n\r\n{b64(data)}"


def rfc2047_filename() -> bytes:
    # Outlook writes encoded-words inside the quoted filename (RFC 2047 says not to; everyone does)
    name = "=?utf-8?B?" + base64.b64encode("paspoort Özlem.pdf".encode()).decode() + "?="
    return multipart("rfc2047", [
        text_part(body_lines("Bijlage identiteitsbewijs: paspoort Özlem.pdf")),
        file_part(f'Content-Type: application/pdf; name="{name}"\r\n'
                  f'Content-Disposition: attachment; filename="{name}"\r\n', PDF)])


def rfc2231_filename() -> bytes:
    # RFC 2231 with continuations: filename*0*=utf-8''%C3%96zlem%20; filename*1*=bankpas.pdf
    return multipart("rfc2231", [
        text_part(body_lines("Bijlage bankpas: Özlem bankpas.pdf")),
        file_part("Content-Type: application/pdf\r\n"
                  "Content-Disposition: attachment;\r\n filename*0*=utf-8''%C3%96zlem%20;\r\n"
                  " filename*1*=bankpas.pdf\r\n",
                  PDF)])


def latin1_label_cp1252_bytes() -> bytes:
    # labelled iso-8859-1, but byte 0x80 (the euro sign in windows-1252) is in it, as Outlook on Windows sends
    return multipart("latin1", [text_part(body_lines("Tussenvoegsel: ", "Huur per maand: \u20ac 650",
                                                     "Woonplaats: Zo\u00eb-stad"), charset="windows-1252")
                                .replace("charset=windows-1252", "charset=iso-8859-1")])


def windows1252_body() -> bytes:
    return multipart("cp1252", [text_part(body_lines("Toelichting: Ik ben \u2019s avonds thuis \u2013 bel gerust"),
                                          charset="windows-1252")])


def utf8_base64_body() -> bytes:
    return multipart("utf8b64", [text_part(body_lines("Achternaam partner: \u00c7elik", "Woonplaats: \u015eahinbey"),
                                           cte="base64")])


def html_only() -> bytes:
    html = ("<html><head><style>td {color: red}</style></head><body>"
            "<p>Submission details for TONK aanvraag (submitted on 12-08-2021 14:03)</p>"
            "<p>Our reference: OF-7QK2MZ</p><table>"
            "<tr><th>BSN</th><td>111222333</td></tr>"
            "<tr><th>Voornamen</th><td>Anna &amp; Bo</td></tr>"
            "<tr><th>Huur per maand</th><td>&euro;&nbsp;650,00</td></tr>"
            "<tr><th>Bijlage identiteitsbewijs</th><td>paspoort.pdf</td></tr>"
            "</table></body></html>")
    return multipart("html", [
        "Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n" + b64(html.encode()),
        file_part('Content-Type: application/pdf\r\nContent-Disposition: attachment; filename="paspoort.pdf"\r\n',
                  PDF)])


def nested_multiparts() -> bytes:
    inner = ('Content-Type: multipart/alternative; boundary="alt"\r\n\r\n'
             "--alt\r\n" + text_part(body_lines("Bijlage identiteitsbewijs: id.pdf")) + "\r\n"
             '--alt\r\nContent-Type: multipart/related; boundary="rel"\r\n\r\n'
             "--rel\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>zie tekst</p><img src=\"cid:logo\">\r\n"
             "--rel\r\n" + file_part("Content-Type: image/png\r\nContent-ID: <logo>\r\n", PNG) + "\r\n"
             "--rel--\r\n--alt--")
    return multipart("nested", [inner, file_part(
        'Content-Type: application/pdf\r\nContent-Disposition: attachment; filename="id.pdf"\r\n', PDF)])


def forwarded_submission() -> bytes:
    portal = rfc2047_filename()
    return (b"From: Balie <balie@gemeente.example>\r\nTo: tonk@gemeente.example\r\n"
            b"Subject: Fwd: [Open Forms] TONK aanvraag - submission OF-7QK2MZ\r\n"
            b"Date: Fri, 13 Aug 2021 09:00:00 +0200\r\nMessage-ID: <fwd-1@gemeente.example>\r\nMIME-Version: 1.0\r\n"
            b'Content-Type: multipart/mixed; boundary="fw"\r\n\r\n'
            b"--fw\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
            b"Kwam binnen op de algemene postbus.\r\n--fw\r\nContent-Type: message/rfc822\r\n"
            b'Content-Disposition: attachment; filename="aanvraag.eml"\r\n\r\n' + portal + b"\r\n--fw--\r\n")


def no_content_disposition() -> bytes:
    return multipart("nodisp", [
        text_part(body_lines("Bijlage bankpas: bankpas.pdf")),
        file_part('Content-Type: application/pdf; name="bankpas.pdf"\r\n', PDF),
        file_part("Content-Type: application/pdf\r\n", PDF2)])


def inline_photo_pdf_form_mail() -> bytes:
    """Channel 3 from a phone: the form PDF attached, the ID photo inline (Content-Disposition inline)."""
    from sandbox.samples.pdfform import fillable_form

    form = fillable_form({"bsn": "111222333", "voornamen": "Anna", "achternaam": "Jansen"})
    return (b"From: Anna Jansen <anna@example.nl>\r\nTo: tonk@gemeente.example\r\nSubject: Aanvraag TONK\r\n"
            b"Date: Thu, 12 Aug 2021 20:15:00 +0200\r\nMessage-ID: <iphone-1@example.nl>\r\nMIME-Version: 1.0\r\n"
            b'Content-Type: multipart/mixed; boundary="ip"\r\n\r\n'
            b"--ip\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
            b"Hierbij mijn aanvraag.\r\n--ip\r\n"
            + file_part('Content-Type: image/jpeg; name="paspoort Anna.jpg"\r\n'
                        'Content-Disposition: inline; filename="paspoort Anna.jpg"\r\n', JPEG).encode()
            + b"\r\n--ip\r\n"
            + file_part('Content-Type: application/pdf\r\nContent-Disposition: attachment; '
                        'filename="Aanvraagformulier TONK.pdf"\r\n', form).encode()
            + b"\r\n--ip--\r\n")


def duplicate_filenames() -> bytes:
    return multipart("dupnames", [
        text_part(body_lines("Bijlage identiteitsbewijs: scan.pdf", "Bijlage bankpas: scan.pdf")),
        file_part('Content-Type: application/pdf\r\nContent-Disposition: attachment; filename="scan.pdf"\r\n', PDF),
        file_part('Content-Type: application/pdf\r\nContent-Disposition: attachment; filename="scan.pdf"\r\n', PDF2)])


def winmail_dat() -> bytes:
    return multipart("tnef", [
        text_part(body_lines("Bijlage identiteitsbewijs: paspoort.pdf")),
        file_part('Content-Type: application/ms-tnef; name="winmail.dat"\r\n'
                  'Content-Disposition: attachment; filename="winmail.dat"\r\n', TNEF)])


#: name -> (builder, expected outcome, expected failure codes)
SHAPES = {
    "rfc2047-filename": (rfc2047_filename, "application", []),
    "rfc2231-filename": (rfc2231_filename, "application", []),
    "latin1-label-cp1252": (latin1_label_cp1252_bytes, "application", []),
    "windows-1252": (windows1252_body, "application", []),
    "utf8-base64": (utf8_base64_body, "application", []),
    "html-only": (html_only, "application", []),
    "nested-multiparts": (nested_multiparts, "application", []),
    "forwarded-submission": (forwarded_submission, "application", []),
    "no-content-disposition": (no_content_disposition, "application", []),
    "inline-photo": (inline_photo_pdf_form_mail, "application", []),
    "duplicate-filenames": (duplicate_filenames, "application", []),
    "winmail-dat": (winmail_dat, "human", ["attachment_refused"]),
}


def item_of(raw: bytes):
    return to_work_item(Incoming(source="postbus", kind="mail", key="k", raw=raw),
                        SimpleNamespace(settings=Settings()))  # type: ignore[arg-type]


def attachments_of(item) -> list[tuple[str, str | None, str, str]]:
    return [(d.role, d.document_type, d.filename, d.content_type) for d in item.documents if d.role != "raw"]


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_every_shape_has_its_defined_outcome(shape: str) -> None:
    build, outcome, codes = SHAPES[shape]
    item = item_of(build())
    assert ("human" if item.failure else "application") == outcome
    assert (item.failure.codes if item.failure else []) == codes
    assert item.documents[0].role == "raw" and item.documents[0].data == build()  # the original, byte for byte


def test_rfc2047_encoded_filename_is_decoded_and_typed() -> None:
    item = item_of(rfc2047_filename())
    assert attachments_of(item) == [("attachment", "identiteitsbewijs", "paspoort Özlem.pdf", "application/pdf")]


def test_rfc2231_filename_with_continuations_is_joined_and_decoded() -> None:
    item = item_of(rfc2231_filename())
    assert attachments_of(item) == [("attachment", "bankpas", "Özlem bankpas.pdf", "application/pdf")]


def test_latin1_label_is_read_as_windows_1252_so_the_euro_sign_survives() -> None:
    item = item_of(latin1_label_cp1252_bytes())
    assert item.payload["fields"]["huur"] == "€ 650"          # byte 0x80 in cp1252, not the control U+0080
    assert item.payload["fields"]["woonplaats"] == "Zoë-stad"   # 0xEB
    assert "tussenvoegsel" not in item.payload["fields"]        # an empty value is left out


def test_windows_1252_quotes_and_dashes() -> None:
    assert item_of(windows1252_body()).payload["fields"]["toelichting"] == "Ik ben ’s avonds thuis – bel gerust"


def test_utf8_base64_body() -> None:
    fields = item_of(utf8_base64_body()).payload["fields"]
    assert (fields["partner_achternaam"], fields["woonplaats"]) == ("Çelik", "Şahinbey")


def test_html_only_body_reads_the_table_rows_as_labels_and_values() -> None:
    item = item_of(html_only())
    assert item.payload["fields"] == {"bsn": "111222333", "voornamen": "Anna & Bo", "huur": "€ 650,00"}
    assert attachments_of(item) == [("attachment", "identiteitsbewijs", "paspoort.pdf", "application/pdf")]


def test_html_to_text_drops_style_and_keeps_rows() -> None:
    assert html_to_text("<style>p{}</style><p>Een</p><table><tr><td>A </td><td> 1</td></tr></table>") == "Een\nA\t1"


def test_nested_multiparts_take_the_plain_text_and_keep_the_logo_as_a_body_image() -> None:
    item = item_of(nested_multiparts())
    assert item.payload["fields"]["voornamen"] == "Anna"
    assert attachments_of(item) == [("inline", None, "naamloos-1.png", "image/png"),
                                    ("attachment", "identiteitsbewijs", "id.pdf", "application/pdf")]


def test_a_forwarded_portal_mail_becomes_its_application_with_the_outer_mail_as_the_original() -> None:
    raw = forwarded_submission()
    item = item_of(raw)
    assert (item.reference, item.channel) == ("OF-7QK2MZ", "e-formulier")
    assert item.payload["forwarded_by"] == "Balie <balie@gemeente.example>"
    assert item.documents[0].data == raw
    assert attachments_of(item) == [("attachment", "identiteitsbewijs", "paspoort Özlem.pdf", "application/pdf")]
    parsed = parse_mail(raw)
    assert [a.filename for a in parsed.attachments] == ["aanvraag.eml"]   # and kept as a file of the outer mail
    assert parsed.forwarded[0].subject == "[Open Forms] TONK aanvraag - submission OF-7QK2MZ"


def test_attachments_without_content_disposition_are_kept_named_or_not() -> None:
    item = item_of(no_content_disposition())
    assert attachments_of(item) == [("attachment", "bankpas", "bankpas.pdf", "application/pdf"),
                                    ("attachment", None, "naamloos-1.pdf", "application/pdf")]


def test_a_phones_inline_photo_is_a_document_of_a_pdf_form_mail() -> None:
    item = item_of(inline_photo_pdf_form_mail())
    assert (item.reference[:5], item.channel, item.failure) == ("MAIL-", "e-mail", None)
    assert item.payload["fields"] == {"bsn": "111222333", "voornamen": "Anna", "achternaam": "Jansen"}
    assert attachments_of(item) == [("attachment", "identiteitsbewijs", "paspoort Anna.jpg", "image/jpeg"),
                                    ("attachment", None, "Aanvraagformulier TONK.pdf", "application/pdf")]


def test_duplicate_filenames_take_their_types_in_order() -> None:
    item = item_of(duplicate_filenames())
    docs = [(d.document_type, d.data) for d in item.documents if d.role == "attachment"]
    assert docs == [("identiteitsbewijs", PDF), ("bankpas", PDF2)]


def test_winmail_dat_is_refused_by_its_content_and_kept() -> None:
    item = item_of(winmail_dat())
    assert item.failure is not None
    assert [f["value"] for f in item.failure.findings] == ["winmail.dat"]
    assert "application/ms-tnef" in item.failure.findings[0]["message"]
    assert attachments_of(item) == [("attachment", None, "winmail.dat", "application/ms-tnef")]


@pytest.mark.parametrize(("payload", "charset", "text"), [
    (b"\x80 950", "iso-8859-1", "€ 950"),        # cp1252 euro under a Latin-1 label
    (b"caf\xc3\xa9", "us-ascii", "café"),       # UTF-8 under an ASCII label
    (b"caf\xe9", None, "café"),                 # no label, not UTF-8: windows-1252
    (b"caf\xc3\xa9", "x-unknown-8bit", "café"),  # an unknown label: UTF-8
    (b"\x81", "windows-1252", "\x81"),          # a byte cp1252 leaves undefined: kept as Latin-1
])
def test_decode_text_never_raises(payload: bytes, charset: str | None, text: str) -> None:
    assert decode_text(payload, charset) == text


def test_an_undecodable_8bit_subject_and_a_missing_message_id() -> None:
    raw = b"From: x@example.nl\r\nSubject: caf\xc3\xa9 aanvraag\r\n\r\nhallo\r\n"
    mail = parse_mail(raw)
    assert (mail.subject, mail.message_id, mail.date) == ("café aanvraag", None, None)
    item = item_of(raw)
    import hashlib
    assert item.reference == "MAIL-" + hashlib.sha256(raw).hexdigest()[:12]   # no Message-ID: hash of the raw
    assert item.failure is not None and item.failure.codes == ["not_an_application"]


def test_an_out_of_office_reply_is_not_an_application() -> None:
    msg = EmailMessage()
    msg["From"], msg["Subject"], msg["Message-ID"] = "a@example.nl", "Afwezig: TONK aanvraag", "<ooo@x>"
    msg["Auto-Submitted"] = "auto-replied"
    msg.set_content("Ik ben afwezig.")
    msg.add_attachment(PNG, maintype="image", subtype="png", filename="handtekening.png")
    item = item_of(msg.as_bytes())
    assert item.failure is not None and item.failure.codes == ["not_an_application"]
    assert "automatisch" in item.failure.message
