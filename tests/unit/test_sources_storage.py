"""Safe storage: every input and file stored once, by sha256, under a generated name; refused files go to a human.

Through the real path: the TONK producer maps a portal e-mail, a WorkQueue on SQLite stores it with a
BlobStore in tmp_path. Each hostile file of the issue has its own test: a zip bomb, a path-traversal
filename, a zero-byte file, a file that claims to be a PDF but is not.
"""

from __future__ import annotations

import base64
import hashlib
import io
import urllib.parse
import zipfile
from email.message import EmailMessage
from pathlib import Path
from types import SimpleNamespace

import pytest

from common.config import LimitSettings, Settings
from common.db import Database
from common.sources.base import Incoming
from common.sources.documents import pdf_intact, sniff
from common.storage import BlobStore
from common.workqueue import State, WorkQueue
from tonk_bot.producer import to_work_item

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def portal_mail(files: list[tuple[str, bytes, str]], bijlagen: list[str] | None = None) -> bytes:
    msg = EmailMessage()
    msg["Subject"] = "[Open Forms] TONK aanvraag - submission OF-7QK2MZ"
    msg["Message-ID"] = "<storage@formulieren.gemeente.example>"
    msg["Date"] = "Thu, 12 Aug 2021 14:05:00 +0200"
    lines = ["Submission details for TONK aanvraag (submitted on 12-08-2021 14:03)", "Our reference: OF-7QK2MZ",
             "BSN: 111222333", *(bijlagen or [])]
    msg.set_content("\n".join(lines))
    for filename, data, ctype in files:
        maintype, subtype = ctype.split("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return msg.as_bytes()


@pytest.fixture
def queue(tmp_path: Path):
    db = Database(f"sqlite:///{tmp_path / 'q.db'}")
    yield WorkQueue(db, "tonk", BlobStore(tmp_path / "blobs"))
    db.dispose()


def take_in(queue: WorkQueue, raw: bytes, limits: LimitSettings | None = None):
    settings = Settings(limits=limits or LimitSettings())
    new = to_work_item(Incoming(source="postbus", kind="mail", key="k", raw=raw),
                       SimpleNamespace(settings=settings))  # type: ignore[arg-type]
    added = queue.add(new, actor="test")
    return queue.get(added.item_id)


def zip_bomb(expanded: int = 50 * 1024 * 1024) -> bytes:
    """A zip whose one member expands to `expanded` bytes of zeros (about 1000:1)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        with archive.open("documenten.pdf", "w", force_zip64=True) as member:
            chunk = b"\0" * (1024 * 1024)
            for _ in range(expanded // len(chunk)):
                member.write(chunk)
    return buffer.getvalue()


def store_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def test_every_file_is_stored_once_by_sha256_with_size_and_sniffed_type(queue: WorkQueue, tmp_path: Path) -> None:
    jpeg = b"\xff\xd8\xff\xe0" + b"\x01" * 60
    raw = portal_mail([("paspoort.pdf", PDF, "application/pdf"), ("bankpas.png", jpeg, "image/png")],
                      ["Bijlage identiteitsbewijs: paspoort.pdf", "Bijlage bankpas: bankpas.png"])
    item = take_in(queue, raw)
    assert item.state is State.PENDING
    rows = [(d.role, d.filename, d.size, d.sha256, d.content_type) for d in item.documents]
    assert rows == [("raw", "origineel.eml", len(raw), hashlib.sha256(raw).hexdigest(), "message/rfc822"),
                    ("attachment", "paspoort.pdf", len(PDF), hashlib.sha256(PDF).hexdigest(), "application/pdf"),
                    # the name says PNG, the bytes say JPEG: the content wins
                    ("attachment", "bankpas.png", 64, hashlib.sha256(jpeg).hexdigest(), "image/jpeg")]
    for doc in item.documents:  # a generated name: <first two hex digits>/<sha256>
        assert doc.storage_key == f"{doc.sha256[:2]}/{doc.sha256}"
        assert queue.blobs.read(doc.storage_key) == (raw if doc.role == "raw" else PDF if doc.size == len(PDF)
                                                     else jpeg)
    take_in(queue, raw)  # the same mail again: a duplicate, and no file stored twice
    assert len(store_files(tmp_path / "blobs")) == 3


def test_a_zip_bomb_is_refused_by_its_type_and_never_unpacked(queue: WorkQueue, tmp_path: Path) -> None:
    bomb = zip_bomb()
    assert len(bomb) < 200_000  # 50 MB of zeros in well under 200 KB
    raw = portal_mail([("paspoort.pdf", bomb, "application/pdf")], ["Bijlage identiteitsbewijs: paspoort.pdf"])
    item = take_in(queue, raw)
    assert (item.state, item.reason_codes) == (State.FAILED, ["attachment_refused"])
    assert "application/zip" in item.findings[0]["message"]
    stored = [d for d in item.documents if d.role == "attachment"]
    assert [(d.size, d.content_type) for d in stored] == [(len(bomb), "application/zip")]
    # nothing was expanded: the store holds the mail and the zip as they came, nothing more
    assert sum(p.stat().st_size for p in store_files(tmp_path / "blobs")) == len(raw) + len(bomb)


@pytest.mark.parametrize(("filename", "kept"), [
    ("../../../etc/cron.d/evil.pdf", "../../../etc/cron.d/evil.pdf"),
    ("..\\..\\windows\\evil.pdf", "..\\..\\windows\\evil.pdf"),
    ("/etc/passwd.pdf", "/etc/passwd.pdf"),
    ("evil\r\nX-Injected: ja.pdf", "evilX-Injected: ja.pdf"),  # CR/LF dropped, the rest kept as data
    ("CON.pdf", "CON.pdf"),
])
def test_a_path_traversal_filename_is_data_only(queue: WorkQueue, tmp_path: Path, filename: str, kept: str) -> None:
    # RFC 2231 lets a sender put any character into a filename, CR LF included
    encoded = urllib.parse.quote(filename, safe="")
    raw = (b"Subject: [Open Forms] TONK aanvraag - submission OF-7QK2MZ\r\nMessage-ID: <trav@x>\r\n"
           b'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n'
           b"Content-Type: text/plain\r\n\r\nSubmission details for TONK aanvraag (submitted on 12-08-2021 14:03)\r\n"
           b"Our reference: OF-7QK2MZ\r\n--b\r\nContent-Type: application/pdf\r\n"
           + f"Content-Disposition: attachment; filename*=utf-8''{encoded}\r\n".encode()
           + b"Content-Transfer-Encoding: base64\r\n\r\n" + base64.encodebytes(PDF) + b"--b--\r\n")
    item = take_in(queue, raw)
    [doc] = [d for d in item.documents if d.role == "attachment"]
    assert doc.filename == kept
    assert doc.storage_key == f"{doc.sha256[:2]}/{doc.sha256}"
    outside = [p for p in tmp_path.rglob("*") if p.is_file() and not p.name.startswith("q.db")
               and p.parent.parent != tmp_path / "blobs"]
    assert outside == []  # every file written is <blobs>/<aa>/<sha256>
    assert not list(tmp_path.parent.rglob("evil.pdf")) and not Path("/etc/cron.d/evil.pdf").exists()


def test_a_zero_byte_file_is_refused_and_kept(queue: WorkQueue) -> None:
    raw = portal_mail([("paspoort.pdf", PDF, "application/pdf"), ("bankpas.pdf", b"", "application/pdf")])
    item = take_in(queue, raw)
    assert item.reason_codes == ["attachment_refused"]
    assert [(f["value"], f["message"]) for f in item.findings] == [
        ("bankpas.pdf", "Bijlage 'bankpas.pdf': het bestand is leeg (0 bytes).")]
    assert [(d.filename, d.size) for d in item.documents if d.role == "attachment"] == [("paspoort.pdf", len(PDF)),
                                                                                          ("bankpas.pdf", 0)]


@pytest.mark.parametrize(("data", "sniffed", "problem"), [
    (b"<html><body>Uw paspoort</body></html>", "application/octet-stream", "wordt niet geaccepteerd"),
    (b"MZ\x90\x00\x03" + b"\x00" * 40, "application/x-msdownload", "wordt niet geaccepteerd"),
    (PDF[:20], "application/pdf", "beschadigd of onvolledig"),  # starts like a PDF, cut short
])
def test_a_file_that_claims_to_be_a_pdf_but_is_not_is_refused(queue: WorkQueue, data: bytes, sniffed: str,
                                                               problem: str) -> None:
    raw = portal_mail([("paspoort.pdf", data, "application/pdf")], ["Bijlage identiteitsbewijs: paspoort.pdf"])
    item = take_in(queue, raw)
    assert item.reason_codes == ["attachment_refused"]
    assert problem in item.findings[0]["message"]
    [doc] = [d for d in item.documents if d.role == "attachment"]
    assert (doc.content_type, doc.document_type) == (sniffed, "identiteitsbewijs")


def test_size_limits_per_attachment_and_per_message_come_from_config(queue: WorkQueue) -> None:
    big = PDF[:-6] + b"x" * 2000 + b"\n%%EOF\n"
    limits = LimitSettings(max_attachment_bytes=1000, max_message_bytes=100_000)
    item = take_in(queue, portal_mail([("groot.pdf", big, "application/pdf")]), limits)
    assert item.findings[0]["message"] == (f"Bijlage 'groot.pdf': het bestand is te groot ({len(big)} bytes, "
                                           "maximaal 1000).")
    raw = portal_mail([("a.pdf", PDF, "application/pdf")])
    limits = LimitSettings(max_message_bytes=len(raw) - 1)
    small_queue_item = to_work_item(Incoming(source="p", kind="mail", key="k", raw=raw),
                                    SimpleNamespace(settings=Settings(limits=limits)))  # type: ignore[arg-type]
    assert small_queue_item.failure is not None
    assert small_queue_item.failure.findings[0]["field"] == "bericht"


@pytest.mark.parametrize(("data", "content_type"), [
    (b"%PDF-1.7\n", "application/pdf"), (b"\r\n\r\n%PDF-1.4", "application/pdf"),
    (b"\xff\xd8\xff\xdb", "image/jpeg"), (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"PK\x03\x04" + b"\0" * 26 + b"[Content_Types].xml", "application/vnd.openxmlformats-officedocument"),
    (b"PK\x03\x04", "application/zip"), (b"\0\0\0\x18ftypheic", "image/heic"),
    (b"RIFF\0\0\0\0WEBPVP8 ", "image/webp"), (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "application/x-ole-storage"),
    (b"", "application/octet-stream"),
])
def test_sniff_by_content(data: bytes, content_type: str) -> None:
    assert sniff(data) == content_type


def test_pdf_intact_looks_for_the_end_marker() -> None:
    assert pdf_intact(PDF) and not pdf_intact(PDF[:-7])
