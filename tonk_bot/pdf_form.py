"""Reading the downloadable TONK application form (specs/tonk-form.md, channel 3): AcroForm fields.

The fillable PDF's field names are the form's keys (`tonk_bot.form`); the values are the
citizen's typed strings. Read with pypdf rather than rpaframework's `RPA.PDF` (why:
docs/decisions/0009-pdf-form-fields.md): pypdf decodes PDF text strings by the PDF's own
rules (PDFDocEncoding or UTF-16 with a byte order mark), so `Çelik` and `d'Hondt` come out
as typed, and it reads bytes in memory without a file path or library state.

A scan or a photo of a filled-in form has no fields: `read_form` returns None for it, and the
producer sends the mail to a caseworker with the file.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass, field

import structlog
from pypdf import PdfReader
from pypdf.generic import NameObject

from tonk_bot.form import BY_KEY

#: fewer TONK field names than this and a PDF is not our form (some other fillable PDF)
MIN_FORM_FIELDS = 3
_YES = {"/yes", "/on", "/ja", "/1", "/true"}

logging.getLogger("pypdf").setLevel(logging.ERROR)  # pypdf warns about every odd PDF on the root logger
log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class PdfForm:
    """The TONK fields of a filled AcroForm PDF.

    Attributes:
        fields: key -> the citizen's raw string, only keys of the TONK form, only filled ones.
        field_names: every TONK key the PDF has as a field (filled or not).
        other_fields: field names the PDF has that are not on the TONK form (kept for the caseworker).
    """

    fields: dict[str, str]
    field_names: list[str] = field(default_factory=list)
    other_fields: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        """True when the form has the TONK fields but none is filled in."""
        return not self.fields


def _value(key: str, raw: object) -> str | None:
    if raw is None:
        return None
    if isinstance(raw, NameObject):  # a checkbox or radio button: /Yes, /Off, or the export value
        state = str(raw).lower()
        if key == "verklaring":
            return "ja" if state in _YES else "nee" if state == "/off" else str(raw).lstrip("/")
        return None if state == "/off" else str(raw).lstrip("/")
    if isinstance(raw, list):
        return ", ".join(str(v) for v in raw)
    return str(raw)


def read_form(data: bytes) -> PdfForm | None:
    """The TONK form in `data`, or None when it is not a fillable TONK form (no AcroForm, fewer than
    `MIN_FORM_FIELDS` TONK field names, encrypted, or not a readable PDF at all).

    Never raises on a hostile or broken PDF: pypdf's own limits guard against decompression bombs,
    and any error while reading means "not a form we can read" (None).
    """
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            return None
        found = reader.get_fields() or {}
    except Exception as exc:  # noqa: BLE001 - a PDF that pypdf cannot read is, for us, a PDF without fields
        log.info("pdf_form.unreadable", error=type(exc).__name__)  # the file itself goes to a human
        return None
    fields: dict[str, str] = {}
    names: list[str] = []
    others: list[str] = []
    for full_name, pdf_field in found.items():
        key = full_name if full_name in BY_KEY else full_name.rsplit(".", 1)[-1]
        if key not in BY_KEY:
            others.append(full_name)
            continue
        names.append(key)
        value = _value(key, pdf_field.get("/V"))
        if value is not None and value.strip():
            fields[key] = value
    if len(names) < MIN_FORM_FIELDS:
        return None
    return PdfForm(fields=fields, field_names=names, other_fields=others)
