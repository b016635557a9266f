"""What a file really is: content type sniffed from its first bytes, never from its name."""

from __future__ import annotations

_SIGNATURES: list[tuple[bytes, str]] = [
    (b"%PDF-", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"PK\x03\x04", "application/zip"),
    (b"\xd0\xcf\x11\xe0", "application/x-ole-storage"),
    (b"MZ", "application/x-msdownload"),
    (b"\x78\x9f\x3e\x22", "application/ms-tnef"),
]


def sniff(data: bytes) -> str:
    """The content type of `data` by its signature; `application/octet-stream` when unknown.

    A PDF may have a few junk bytes before `%PDF-` (readers accept up to 1024).
    """
    for signature, content_type in _SIGNATURES:
        if data.startswith(signature):
            return content_type
    if b"%PDF-" in data[:1024]:
        return "application/pdf"
    if data[4:12] in (b"ftypheic", b"ftypheix", b"ftypmif1"):
        return "image/heic"
    return "application/octet-stream"
