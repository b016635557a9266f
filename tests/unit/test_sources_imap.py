"""Pure helpers of the IMAP source (the source itself runs against Dovecot: tests/integration/test_imap_*.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import SecretStr

from common.sources.imap import ImapSource, _batches, _internaldate, encode_mailbox


@pytest.mark.parametrize(("name", "encoded"), [
    ("INBOX", '"INBOX"'),
    ("Verwerkt 2021", '"Verwerkt 2021"'),
    ("Afgehandeld/Öztürk", '"Afgehandeld/&ANY-zt&APw-rk"'),   # RFC 3501 5.1.3: modified UTF-7
    ("Zaken & co", '"Zaken &- co"'),                            # a literal & is written &-
    ('Map "x"', r'"Map \"x\""'),                              # quotes escaped in the quoted string
])
def test_mailbox_names_in_modified_utf7_quoted(name: str, encoded: str) -> None:
    assert encode_mailbox(name) == encoded


def test_internaldate_is_read_with_english_month_names_and_its_offset() -> None:
    head = b'12 (UID 7 INTERNALDATE "12-Aug-2021 14:03:27 +0200" BODY[] {512}'
    assert _internaldate(head) == datetime(2021, 8, 12, 14, 3, 27, tzinfo=timezone(timedelta(hours=2)))
    assert _internaldate(head) == datetime(2021, 8, 12, 12, 3, 27, tzinfo=UTC)
    assert _internaldate(b'1 (UID 1 INTERNALDATE " 2-Jan-2021 00:00:00 -0130")') == \
        datetime(2021, 1, 2, 1, 30, tzinfo=UTC)
    assert _internaldate(b"1 (UID 1 BODY[] {3}") is None
    assert _internaldate(b'1 (INTERNALDATE "31-Foo-2021 00:00:00 +0000")') is None


def test_batches_by_count_and_by_bytes() -> None:
    messages = [(1, 10), (2, 10), (3, 10), (4, 50), (5, 10)]
    assert list(_batches(messages, 2, 1000)) == [[(1, 10), (2, 10)], [(3, 10), (4, 50)], [(5, 10)]]
    assert list(_batches(messages, 10, 40)) == [[(1, 10), (2, 10), (3, 10)], [(4, 50)], [(5, 10)]]  # 30+50 > 40


def test_exactly_one_credential_and_a_known_tls_mode() -> None:
    with pytest.raises(ValueError, match="exactly one of password and oauth2"):
        ImapSource("x", "h", 993, tls="implicit", user="u", password=None, oauth2=None)
    with pytest.raises(ValueError, match="tls must be"):
        ImapSource("x", "h", 143, tls="none", user="u", password=SecretStr("p"), oauth2=None)
