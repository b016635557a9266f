"""The downloadable TONK application form (channel 3, tonk-form.md): a fillable AcroForm PDF.

Field names are the form's keys; values are the citizen's typed strings. reportlab's
AcroForm appearance streams hold ISO 8859-1 only, so callers pass Latin-1 values (the
generator draws Latin-1 names and amounts without `€` for these samples); anything
else raises ValueError naming the field. A "scan" is the same form printed, filled and
scanned: text on the page, no fields to read.
"""

from __future__ import annotations

import io

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from sandbox.samples.form import FIELDS

TITLE = "Aanvraagformulier TONK 2021 - gemeente Dronten"
_TOP = 770
_ROW = 21.5


def _header(pdf: canvas.Canvas) -> None:
    pdf.setTitle(TITLE)
    pdf.setFont("Helvetica-Bold", 14)
    pdf.drawString(40, 805, TITLE)
    pdf.setFont("Helvetica", 8)
    pdf.drawString(40, 792, "Tijdelijke ondersteuning noodzakelijke kosten. Vul alle verplichte velden (*) in.")


def _label(pdf: canvas.Canvas, row: int, text: str) -> float:
    y = _TOP - _ROW * row
    pdf.setFont("Helvetica", 8)
    pdf.drawString(40, y + 4, text)
    return y


def fillable_form(values: dict[str, str]) -> bytes:
    """An AcroForm PDF with one text field per form key (name = key), filled with `values`.

    Keys absent from `values` get an empty field. Raises ValueError when a value is not
    ISO 8859-1 (field named).
    """
    for key, value in values.items():
        try:
            value.encode("latin-1")
        except UnicodeEncodeError as exc:
            raise ValueError(f"{key}: AcroForm value must be ISO 8859-1, got {value!r}") from exc
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, invariant=1, pageCompression=1)
    _header(pdf)
    for row, field in enumerate(FIELDS):
        y = _label(pdf, row, field.label + (" *" if field.required == "yes" else ""))
        pdf.acroForm.textfield(name=field.key, tooltip=field.label, value=values.get(field.key, ""),
                               x=250, y=y, width=300, height=16, fontName="Helvetica", fontSize=8,
                               borderWidth=0.5, forceBorder=True)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def scanned_form(values: dict[str, str]) -> bytes:
    """The same form as a flat scan: the values are drawn as text, there are no form fields."""
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, invariant=1, pageCompression=1)
    _header(pdf)
    for row, field in enumerate(FIELDS):
        y = _label(pdf, row, field.label)
        pdf.rect(250, y, 300, 16)
        pdf.setFont("Courier-Oblique", 9)
        pdf.drawString(254, y + 4, values.get(field.key, "")[:60])
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()
