"""Channel 3: the AcroForm fields of the TONK form PDF (tonk_bot.pdf_form) and document types from filenames
(tonk_bot.document_names)."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader, PdfWriter

from sandbox.samples.pdfform import fillable_form, scanned_form
from tonk_bot.document_names import guess_document_type
from tonk_bot.pdf_form import read_form

RAW = {"bsn": "111 222 333", "voornamen": "Anna Maria", "achternaam": "d'Hondt", "huur": "650,-",  # Latin-1 only
       "verklaring": "ja"}


def with_values(pdf: bytes, values: dict[str, str]) -> bytes:
    """`pdf` with some field values replaced the way a PDF viewer saves them (UTF-16 where Latin-1 cannot)."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    writer.update_page_form_field_values(writer.pages[0], values, auto_regenerate=False)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_a_filled_form_gives_the_citizens_strings_by_key() -> None:
    form = read_form(fillable_form(RAW))
    assert form is not None
    assert form.fields == {"bsn": "111 222 333", "voornamen": "Anna Maria", "achternaam": "d'Hondt", "huur": "650,-",
                           "verklaring": "ja"}
    assert len(form.field_names) == 31 and form.other_fields == []  # every key of the form table is a field


def test_values_a_viewer_saved_as_utf16_come_out_as_typed() -> None:
    pdf = with_values(fillable_form(RAW), {"achternaam": "Şahin-Öztürk", "voornamen": "Zoë"})
    form = read_form(pdf)
    assert form is not None
    assert (form.fields["achternaam"], form.fields["voornamen"]) == ("Şahin-Öztürk", "Zoë")


def test_rpaframework_pdf_garbles_those_values() -> None:
    # why tonk_bot.pdf_form reads with pypdf (docs/decisions/0009-pdf-form-fields.md): RPA.PDF decodes every
    # field as ISO 8859-1, so a UTF-16 string keeps its byte order mark and NUL bytes
    pytest.importorskip("RPA.PDF")
    import tempfile
    from pathlib import Path

    from RPA.PDF import PDF

    pdf = with_values(fillable_form(RAW), {"achternaam": "Şahin"})
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "form.pdf"
        path.write_bytes(pdf)
        value = PDF().get_input_fields(str(path))["achternaam"]["value"]
    assert value.startswith("þÿ") and value != "Şahin"


def test_an_empty_form_is_a_form_without_values() -> None:
    form = read_form(fillable_form({}))
    assert form is not None and form.empty and form.fields == {}


@pytest.mark.parametrize("data", [
    scanned_form(RAW),                        # a scan: text on the page, no fields
    b"%PDF-1.4\n%%EOF\n",                     # a PDF with nothing in it
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/AcroForm 2 0 R>>endobj\n2 0 obj<</Fields[3 0 R]>>endobj\ntrailer<<>>",
    b"not a pdf at all",
])
def test_no_fields_no_form(data: bytes) -> None:
    assert read_form(data) is None


def test_another_fillable_pdf_is_not_our_form() -> None:
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer)
    pdf.acroForm.textfield(name="kenteken", value="12-XKL-3", x=50, y=700)
    pdf.acroForm.textfield(name="bsn", value="111222333", x=50, y=650)  # one TONK name is not enough
    pdf.showPage()
    pdf.save()
    assert read_form(buffer.getvalue()) is None


FIELDS = {"voornamen": "Anna Maria", "partner_voornamen": "Bram"}


@pytest.mark.parametrize(("filename", "document_type"), [
    ("paspoort Anna.pdf", "identiteitsbewijs"),
    ("ID-kaart voor- en achterkant.jpg", "identiteitsbewijs"),
    ("ID van den Berg.png", "identiteitsbewijs"),
    ("verblijfsdocument.pdf", "identiteitsbewijs"),
    ("paspoort Bram.pdf", "identiteitsbewijs partner"),          # the partner's first name, not the applicant's
    ("ID partner.jpg", "identiteitsbewijs partner"),
    ("id-kaart Bram de Vries.pdf", "identiteitsbewijs partner"),
    ("bankafschrift 0417 juli 2021.pdf", "bankpas"),              # names July 2021, but a bank statement first
    ("pinpas.jpg", "bankpas"),
    ("loonstrook januari 2020.pdf", "inkomen oud"),
    ("inkomen jan '20.pdf", "inkomen oud"),
    ("WW-uitkering juli '21.pdf", "inkomen nieuw"),
    ("uitkeringsspecificatie juli 2021.pdf", "inkomen nieuw"),
    ("huurverhoging 1 juli 2021.pdf", "woonkosten"),              # housing costs before income
    ("jaaroverzicht hypotheek 2020.pdf", "woonkosten"),
    ("jaarnota energie 2021.pdf", "woonkosten"),
    ("loonstroken 2020 en 2021.pdf", None),                       # both years: a caseworker decides
    ("IMG_20210812_201500.jpg", None),
    ("scan0001.pdf", None),
])
def test_document_type_from_the_filename(filename: str, document_type: str | None) -> None:
    assert guess_document_type(filename, FIELDS) == document_type
