"""The documents citizens upload: small valid PDFs (reportlab) and phone photos (JPEG/PNG, Pillow).

Bytes are deterministic for the same inputs (reportlab `invariant=1` fixes the PDF's
dates and /ID), so the same seed gives byte-identical messages. A document is a few KB.
Document types and their meaning: tonk-form.md, "Document types".
"""

from __future__ import annotations

import hashlib
import io
import random
from dataclasses import dataclass
from functools import cached_property

from PIL import Image, ImageDraw
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from sandbox.samples.people import ascii_fold

PDF = "application/pdf"
JPEG = "image/jpeg"
PNG = "image/png"

#: document types of tonk-form.md
IDENTITY = "identiteitsbewijs"
IDENTITY_PARTNER = "identiteitsbewijs partner"
BANK_CARD = "bankpas"
INCOME_OLD = "inkomen oud"
INCOME_NEW = "inkomen nieuw"
HOUSING = "woonkosten"
DOCUMENT_TYPES = (IDENTITY, IDENTITY_PARTNER, BANK_CARD, INCOME_OLD, INCOME_NEW, HOUSING)


@dataclass(frozen=True)
class Document:
    """One uploaded file: `type` (a document type above, or None when nobody said), the
    citizen's `filename`, `content_type` and the bytes."""

    type: str | None
    filename: str
    content_type: str
    data: bytes

    @cached_property
    def sha256(self) -> str:
        """Hex sha256 of the bytes."""
        return hashlib.sha256(self.data).hexdigest()

    @property
    def size(self) -> int:
        """Size in bytes."""
        return len(self.data)

    def expectation(self) -> dict[str, object]:
        """`{"type", "filename", "sha256", "size"}` for the expectation file."""
        return {"type": self.type, "filename": self.filename, "sha256": self.sha256, "size": self.size}


def make_pdf(title: str, lines: list[str]) -> bytes:
    """A one-page A4 PDF with a heading and text lines (Helvetica; characters outside
    WinAnsi print as a box, the file stays valid). About 1.5-2 KB."""
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, invariant=1, pageCompression=1)
    pdf.setTitle(title)
    pdf.setFont("Helvetica-Bold", 16)
    pdf.drawString(56, 780, title)
    pdf.setFont("Helvetica", 11)
    for row, line in enumerate(lines):
        pdf.drawString(56, 750 - 16 * row, line)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def make_photo(caption: list[str], content_type: str, rng: random.Random) -> bytes:
    """A small "phone photo" of a card or letter: a coloured card with text, JPEG or PNG."""
    background = (rng.randint(150, 230), rng.randint(150, 230), rng.randint(150, 230))
    image = Image.new("RGB", (360, 228), background)
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((12, 12, 348, 216), radius=14, outline=(40, 40, 90), width=3)
    for row, line in enumerate(caption[:8]):
        draw.text((28, 28 + 22 * row), ascii_fold(line), fill=(20, 20, 20))
    buffer = io.BytesIO()
    if content_type == JPEG:
        image.save(buffer, format="JPEG", quality=60, optimize=False)
    elif content_type == PNG:
        image.save(buffer, format="PNG", optimize=False)
    else:
        raise ValueError(f"not an image content type: {content_type}")
    return buffer.getvalue()


def extension(content_type: str) -> str:
    """`application/pdf` -> `.pdf`, `image/jpeg` -> `.jpg`, `image/png` -> `.png`."""
    return {PDF: ".pdf", JPEG: ".jpg", PNG: ".png"}[content_type]


def make_document(doc_type: str, stem: str, title: str, lines: list[str], rng: random.Random,
                  photo_share: float = 0.2) -> Document:
    """A document of `doc_type` named `stem` + extension; a photo (JPEG/PNG) with `photo_share` chance."""
    if rng.random() < photo_share:
        content_type = rng.choice((JPEG, JPEG, PNG))
        data = make_photo([title, *lines], content_type, rng)
    else:
        content_type = PDF
        data = make_pdf(title, lines)
    return Document(type=doc_type, filename=stem + extension(content_type), content_type=content_type,
                    data=data)


def unique_filenames(documents: list[Document]) -> list[Document]:
    """Rename later duplicates the way a phone would (`bankpas (1).jpg`), keeping order."""
    seen: set[str] = set()
    result = []
    for doc in documents:
        name = doc.filename
        counter = 1
        while name.casefold() in seen:
            stem, dot, ext = doc.filename.rpartition(".")
            name = f"{stem} ({counter}).{ext}" if dot else f"{doc.filename} ({counter})"
            counter += 1
        seen.add(name.casefold())
        result.append(doc if name == doc.filename else Document(doc.type, name, doc.content_type, doc.data))
    return result
