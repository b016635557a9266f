"""Why the IMAP source does not use rpaframework's `RPA.Email.ImapSmtp` (docs/decisions/0008-imap-and-oauth2.md).

Each test shows one defect against the real Dovecot of tests/fixtures/dovecot.py, with rpaframework 33 as
pinned in constraints.txt. If a new rpaframework fixes one, its test fails: then look again whether the
library can carry the IMAP source.
"""

from __future__ import annotations

import imaplib
import ssl

import pytest

from tests.fixtures.dovecot import DovecotServer, append
from tests.unit.test_mail_shapes import forwarded_submission, latin1_label_cp1252_bytes, rfc2231_filename

pytestmark = pytest.mark.imap

ImapSmtp = pytest.importorskip("RPA.Email.ImapSmtp").ImapSmtp


def flags(server: DovecotServer, user: str) -> list[bytes]:
    conn = server.connect(user)
    conn.select("INBOX", readonly=True)
    _, data = conn.fetch("1:*", "(FLAGS)")
    conn.logout()
    return [row for row in data if isinstance(row, bytes)]


def test_it_logs_in_to_a_server_whose_certificate_nobody_trusts(dovecot_server: DovecotServer,
                                                                  imap_account: str) -> None:
    # The test CA is not among the system's CAs: a verifying client must refuse (as ours does,
    # test_imap_source.py::test_a_wrong_certificate_is_refused). ImapSmtp builds IMAP4_SSL without an SSL
    # context, and the stdlib then uses ssl._create_unverified_context().
    with pytest.raises(ssl.SSLCertVerificationError):
        imaplib.IMAP4_SSL(dovecot_server.host, dovecot_server.tls_port, ssl_context=ssl.create_default_context())
    lib = ImapSmtp()
    lib.authorize_imap(imap_account, dovecot_server.password, dovecot_server.host, dovecot_server.tls_port)
    assert lib.imap_conn.state == "SELECTED"  # logged in, certificate unchecked
    lib.imap_conn.logout()


def test_it_cannot_use_starttls(dovecot_server: DovecotServer, imap_account: str) -> None:
    lib = ImapSmtp()
    with pytest.raises(ssl.SSLError, match="WRONG_VERSION_NUMBER"):  # it speaks TLS at a plain IMAP port
        lib.authorize_imap(imap_account, dovecot_server.password, dovecot_server.host, dovecot_server.plain_port)


def test_listing_without_a_folder_skips_unread_mail_and_marks_it_read(dovecot_server: DovecotServer,
                                                                     imap_account: str) -> None:
    conn = dovecot_server.connect(imap_account)
    append(conn, "INBOX", rfc2231_filename(), seen=True)
    append(conn, "INBOX", latin1_label_cp1252_bytes())
    append(conn, "INBOX", forwarded_submission())
    conn.logout()
    lib = ImapSmtp()
    lib.authorize_imap(imap_account, dovecot_server.password, dovecot_server.host, dovecot_server.tls_port)
    listed = lib.list_messages("ALL")
    assert len(listed) == 1  # three messages in INBOX; the two unread ones are not listed ...
    assert flags(dovecot_server, imap_account) == [b"1 (FLAGS (\\Seen))", b"2 (FLAGS (\\Seen))",
                                                   b"3 (FLAGS (\\Seen))"]  # ... but now marked read
    lib.imap_conn.logout()


def test_listed_messages_are_reparsed_not_the_bytes_received(dovecot_server: DovecotServer,
                                                            imap_account: str) -> None:
    raw = rfc2231_filename()
    conn = dovecot_server.connect(imap_account)
    append(conn, "INBOX", raw)
    conn.logout()
    lib = ImapSmtp()
    lib.authorize_imap(imap_account, dovecot_server.password, dovecot_server.host, dovecot_server.tls_port)
    [message] = lib.list_messages("ALL", source_folder="INBOX")
    assert "bytes" not in message                   # no raw bytes to store as the original ...
    assert message["Message"].as_bytes() != raw     # ... and re-serialising the parsed message changes them
    lib.imap_conn.logout()
