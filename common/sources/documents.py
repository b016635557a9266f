"""What a file really is: content type sniffed from its first bytes, never from its name.

Only the signatures below are recognised; anything else is `application/octet-stream`. The
robot never unpacks an archive (a zip bomb stays a small zip: its type alone refuses it).
"""

from __future__ import annotations

_SIGNATURES: list[tuple[bytes, str]] = [
    (b"%PDF-", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"BM", "image/bmp"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
    (b"PK\x03\x04", "application/zip"),
    (b"PK\x05\x06", "application/zip"),  # an empty zip
    (b"Rar!\x1a\x07", "application/vnd.rar"),
    (b"7z\xbc\xaf\x27\x1c", "application/x-7z-compressed"),
    (b"\x1f\x8b", "application/gzip"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "application/x-ole-storage"),  # .doc, .xls, .msg
    (b"MZ", "application/x-msdownload"),
    (b"\x7fELF", "application/x-executable"),
    (b"\x78\x9f\x3e\x22", "application/ms-tnef"),  # winmail.dat
    (b"{\\rtf", "application/rtf"),
]
_HEIF_BRANDS = (b"ftypheic", b"ftypheix", b"ftypmif1", b"ftyphevc", b"ftypmsf1")
_PDF_TAIL = 4096


def sniff(data: bytes) -> str:
    """The content type of `data` by its signature; `application/octet-stream` when unknown.

    A PDF may have a few junk bytes before `%PDF-` (readers accept up to 1024). HEIC/HEIF photos
    (iPhones) and WebP are recognised so a caseworker's message can name them.
    """
    for signature, content_type in _SIGNATURES:
        if data.startswith(signature):
            if content_type == "application/zip" and b"[Content_Types].xml" in data[:2048]:
                return "application/vnd.openxmlformats-officedocument"  # .docx, .xlsx: a zip inside
            return content_type
    if b"%PDF-" in data[:1024]:
        return "application/pdf"
    if data[4:12] in _HEIF_BRANDS:
        return "image/heic"
    if data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return "image/webp"
    return "application/octet-stream"


def pdf_intact(data: bytes) -> bool:
    """True when a PDF ends as a PDF does (`%%EOF` within its last 4 KB).

    A download cut short, or a file that only starts like a PDF, fails this; the bytes are kept
    for a caseworker, but such a file is never registered as a document.
    """
    return b"%%EOF" in data[-_PDF_TAIL:]
