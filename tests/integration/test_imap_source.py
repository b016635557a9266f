"""The IMAP source against a real Dovecot on loopback (tests/fixtures/dovecot.py): a mixed mailbox in, one work
item per message out; unread mail stays unread until processed; processed mail is moved; TLS is verified.

Outcomes are compared with what the sample generator recorded (from what it made, never from the robot).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from common import app as service
from common.config import BotSettings, ImapSourceSettings, Settings
from common.db import Database
from common.errors import SystemException
from common.runs import dry_run_context
from common.sources.factory import build_source
from common.sources.imap import ImapSource, encode_mailbox
from common.workqueue import State
from common.workqueue.listing import list_items
from sandbox.samples.generator import iter_samples
from tests.fixtures.dovecot import DovecotServer, append

pytestmark = pytest.mark.imap

ROOT = Path(__file__).resolve().parents[2]
PASSWORD_ENV = "SOFTBOT_TEST_IMAP_PASSWORD"


def imap_settings(server: DovecotServer, user: str, **overrides: object) -> ImapSourceSettings:
    values: dict[str, object] = {"kind": "imap", "name": "tonk-imap", "host": server.host, "port": server.tls_port,
                                 "tls": "implicit", "ca_file": server.ca_file, "user": user,
                                 "password_env": PASSWORD_ENV, "folder": "INBOX", "processed_folder": "Verwerkt",
                                 "timeout_seconds": 10, "fetch_batch": 3}
    values.update(overrides)
    return ImapSourceSettings(**values)  # type: ignore[arg-type]


@pytest.fixture
def password(dovecot_server: DovecotServer, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv(PASSWORD_ENV, dovecot_server.password)
    return dovecot_server.password


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 'softbot.db'}")
    yield database
    database.dispose()


def settings_for(tmp_path: Path, source: ImapSourceSettings) -> Settings:
    return Settings(data_dir=tmp_path / "data", runs_dir=tmp_path / "runs",
                    bots={"tonk": BotSettings(sources=[source], options={
                        "municipality": "dronten", "policies_dir": str(ROOT / "config" / "policies")})})


def folder_flags(server: DovecotServer, user: str, folder: str) -> list[tuple[str, bool]]:
    """(Message-ID, seen) of each message in `folder`, in UID order."""
    conn = server.connect(user)
    status, count = conn.select(encode_mailbox(folder), readonly=True)
    if status != "OK" or count[0] == b"0":
        conn.logout()
        return []
    _, data = conn.fetch("1:*", "(FLAGS BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
    conn.logout()
    found = []
    for row in data:
        if isinstance(row, tuple):
            message_id = row[1].decode().split(":", 1)[1].strip()
            found.append((message_id, b"\\Seen" in row[0]))
    return found


def test_a_mixed_mailbox_becomes_one_item_per_message(dovecot_server: DovecotServer, imap_account: str,
                                                      password: str, tmp_path: Path, db: Database) -> None:
    samples = list(iter_samples(6, 11, faulty_share=0.34, pdf_forms=2, scans=1, others=3))
    conn = dovecot_server.connect(imap_account)
    seen: dict[str, bool] = {}
    for n, sample in enumerate(samples):
        assert sample.message is not None and sample.message_id is not None
        seen[sample.message_id] = n % 3 == 0    # a person opened some of them already
        append(conn, "INBOX", sample.message, seen=seen[sample.message_id],
               when=datetime(2021, 8, 20, 9, n, tzinfo=UTC))
    conn.logout()
    source_conf = imap_settings(dovecot_server, imap_account)
    settings = settings_for(tmp_path, source_conf)
    inbox_before = folder_flags(dovecot_server, imap_account, "INBOX")

    # a dry run reads everything and changes nothing: unread mail stays unread
    with dry_run_context(settings, "tonk") as ctx:
        from common.runner import produce
        records = produce(ctx, service.bot_for(settings, "tonk"), [build_source(source_conf)], dry_run=True)
    assert len(records) == len(samples)
    assert folder_flags(dovecot_server, imap_account, "INBOX") == inbox_before

    summary = service.run_once(settings, db, "tonk", consume_items=False)
    assert summary["exit_code"] == 0
    items = {i.reference: i for i in list_items(db, queue="tonk")}
    assert len(items) == len(samples) == summary["counts"]["read"]
    for sample in samples:
        expected = sample.expectation
        item = items[str(expected["reference"])]
        if expected["expected"] == "human":
            assert (item.state, item.reason_codes) == (State.FAILED, [c["code"] for c in expected["codes"]])
            continue
        assert item.state is State.PENDING, (expected["index"], item.reason_codes)
        assert item.payload["fields"] == {k: v for k, v in expected["raw"].items() if v}
        assert item.payload["received"] == expected["received_date"]
        from common.workqueue.listing import find_item
        docs = {(d.document_type, d.sha256, d.size) for d in find_item(db, item.id).documents
                if d.role == "attachment" and d.document_type}
        assert docs == {(d["type"], d["sha256"], d["size"]) for d in expected["documents"] if d["type"]}
        raw = [d for d in find_item(db, item.id).documents if d.role == "raw"][0]
        held = re.sub(rb"\r?\n", b"\r\n", sample.message or b"")  # APPEND stores CRLF line ends (imaplib converts)
        assert raw.sha256 == hashlib.sha256(held).hexdigest()     # the bytes exactly as the server holds them

    # processed: INBOX empty, every message in Verwerkt, flags as they were (unread stays unread)
    assert folder_flags(dovecot_server, imap_account, "INBOX") == []
    assert sorted(folder_flags(dovecot_server, imap_account, "Verwerkt")) == sorted(seen.items())

    # a second intake finds nothing
    again = service.run_once(settings, db, "tonk", consume_items=False)
    assert again["counts"].get("read", 0) == 0


def test_starttls_on_the_plain_port(dovecot_server: DovecotServer, imap_account: str, password: str) -> None:
    conn = dovecot_server.connect(imap_account)
    append(conn, "INBOX", b"Subject: hallo\r\nMessage-ID: <st@x>\r\n\r\nhallo\r\n")
    conn.logout()
    source = build_source(imap_settings(dovecot_server, imap_account, port=dovecot_server.plain_port, tls="starttls"))
    try:
        assert source.check().endswith("INBOX: 1 message(s) waiting")
        [message] = list(source.read())
        assert message.raw == b"Subject: hallo\r\nMessage-ID: <st@x>\r\n\r\nhallo\r\n"
        source.acknowledge(message)
    finally:
        source.close()
    assert folder_flags(dovecot_server, imap_account, "Verwerkt") == [("<st@x>", False)]


@pytest.mark.parametrize(("port_kind", "tls"), [("tls", "implicit"), ("plain", "starttls")])
def test_a_wrong_certificate_is_refused(dovecot_server: DovecotServer, imap_account: str, password: str,
                                        port_kind: str, tls: str) -> None:
    port = dovecot_server.tls_port if port_kind == "tls" else dovecot_server.plain_port
    for ca_file in (dovecot_server.wrong_ca_file, None):  # another CA; the system's CAs
        source = build_source(imap_settings(dovecot_server, imap_account, port=port, tls=tls, ca_file=ca_file))
        with pytest.raises(SystemException) as caught:
            source.check()
        assert caught.value.code == "imap.tls"
        assert "certificate is not trusted" in caught.value.message


def test_an_address_the_certificate_does_not_name_is_refused(dovecot_server: DovecotServer, imap_account: str,
                                                            password: str) -> None:
    # the same server at 127.0.0.2: the CA is right, but the certificate names 127.0.0.1 and localhost only
    source = build_source(imap_settings(dovecot_server, imap_account, host="127.0.0.2"))
    with pytest.raises(SystemException) as caught:
        source.check()
    assert caught.value.code == "imap.tls" and "mismatch" in caught.value.message
    assert build_source(imap_settings(dovecot_server, imap_account, host="localhost")).check().endswith(
        "INBOX: 0 message(s) waiting")


def test_a_wrong_password_and_an_unknown_folder(dovecot_server: DovecotServer, imap_account: str,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PASSWORD_ENV, "fout")
    with pytest.raises(SystemException) as caught:
        build_source(imap_settings(dovecot_server, imap_account)).check()
    assert caught.value.code == "imap.auth" and "fout" not in caught.value.message
    monkeypatch.setenv(PASSWORD_ENV, dovecot_server.password)
    with pytest.raises(SystemException) as caught:
        build_source(imap_settings(dovecot_server, imap_account, folder="Bestaat niet")).check()
    assert caught.value.code == "imap.folder"


def test_a_dropped_connection_is_reopened_and_nothing_is_lost(dovecot_server: DovecotServer, imap_account: str,
                                                              password: str) -> None:
    conn = dovecot_server.connect(imap_account)
    for n in range(5):
        append(conn, "INBOX", f"Subject: {n}\r\nMessage-ID: <drop-{n}@x>\r\n\r\n{n}\r\n".encode())
    conn.logout()
    source = build_source(imap_settings(dovecot_server, imap_account, fetch_batch=2))
    assert isinstance(source, ImapSource)
    got = []
    for message in source.read():
        got.append(message.raw.split(b"\r\n")[0])
        source.acknowledge(message)
        assert source._conn is not None
        source._conn.shutdown()  # the server (or a NAT box) drops the connection after each message
    source.close()
    assert got == [f"Subject: {n}".encode() for n in range(5)]
    assert len(folder_flags(dovecot_server, imap_account, "Verwerkt")) == 5


def test_a_folder_name_with_non_ascii_and_spaces(dovecot_server: DovecotServer, imap_account: str,
                                                 password: str) -> None:
    conn = dovecot_server.connect(imap_account)
    append(conn, "INBOX", b"Subject: x\r\nMessage-ID: <utf7@x>\r\n\r\nx\r\n")
    conn.logout()
    source = build_source(imap_settings(dovecot_server, imap_account, processed_folder="Afgehandeld Öztürk"))
    [message] = list(source.read())
    source.acknowledge(message)
    source.close()
    assert folder_flags(dovecot_server, imap_account, "Afgehandeld Öztürk") == [("<utf7@x>", False)]
    assert encode_mailbox("Afgehandeld/Öztürk") == '"Afgehandeld/&ANY-zt&APw-rk"'
