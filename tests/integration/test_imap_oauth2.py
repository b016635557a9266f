"""XOAUTH2 against Dovecot with OAuth2 client credentials: the login Microsoft 365 needs, end to end.

Dovecot's oauth2 passdb checks each token at a fake identity provider (tests/fixtures/dovecot.py,
`FakeIdentityProvider`: a client-credentials token endpoint and RFC 7662 introspection). The robot's
clock and the provider's are one, so "two hours later" is a line of test code.
"""

from __future__ import annotations

import imaplib
import ssl
from datetime import timedelta

import pytest
from pydantic import SecretStr

from common.config import ImapSourceSettings, OAuth2Settings
from common.errors import SystemException
from common.sources.factory import build_source
from common.sources.imap import ImapSource
from common.sources.oauth2 import ClientCredentials, xoauth2
from tests.fixtures.dovecot import DovecotServer, FakeIdentityProvider, append

pytestmark = pytest.mark.imap

_next = iter(f"oauth{n:02d}" for n in range(20))


@pytest.fixture
def mailbox(dovecot_server: DovecotServer) -> str:
    """A fresh XOAUTH2-only user whose tokens the identity provider grants."""
    user = next(_next)
    dovecot_server.idp.mailbox = user
    return user


def credentials(idp: FakeIdentityProvider, secret: str = FakeIdentityProvider.CLIENT_SECRET) -> ClientCredentials:
    return ClientCredentials(idp.token_url, idp.CLIENT_ID, SecretStr(secret), "https://outlook.office365.com/.default",
                             clock=lambda: idp.now)


def seed(server: DovecotServer, user: str, count: int) -> None:
    token = credentials(server.idp).token()
    conn = imaplib.IMAP4_SSL(server.host, server.tls_port,
                             ssl_context=ssl.create_default_context(cafile=str(server.ca_file)))
    conn.authenticate("XOAUTH2", lambda _: xoauth2(user, token))
    for n in range(count):
        append(conn, "INBOX", f"Subject: {n}\r\nMessage-ID: <oauth-{n}@x>\r\n\r\n{n}\r\n".encode())
    conn.logout()


def source(server: DovecotServer, user: str, creds: ClientCredentials) -> ImapSource:
    return ImapSource("m365", server.host, server.tls_port, tls="implicit", user=user, password=None, oauth2=creds,
                      ca_file=server.ca_file, fetch_batch=2, timeout_seconds=10)


def test_a_run_that_outlives_its_token_reconnects_with_a_new_one(dovecot_server: DovecotServer,
                                                                 mailbox: str) -> None:
    idp = dovecot_server.idp
    seed(dovecot_server, mailbox, 5)
    creds = credentials(idp)
    imap = source(dovecot_server, mailbox, creds)
    read = []
    for message in imap.read():
        read.append(message.key)
        imap.acknowledge(message)
        if len(read) == 2:
            idp.now += timedelta(hours=2)   # the token ran out an hour ago ...
            assert imap._conn is not None
            imap._conn.shutdown()           # ... and the server ends the session, as Exchange Online does
    imap.close()
    assert len(read) == 5
    assert creds.fetched == 2               # one token at the start, a new one at the reconnect
    assert [active for _, active in idp.introspected[-2:]] == [True, True]
    check = source(dovecot_server, mailbox, creds)
    assert check.check().endswith("INBOX: 0 message(s) waiting")   # all five moved


def test_a_refused_token_is_replaced_once(dovecot_server: DovecotServer, mailbox: str) -> None:
    idp = dovecot_server.idp
    creds = credentials(idp)
    idp.revoked.add(creds.token())          # cached, still "valid" by its expiry, but revoked at the provider
    assert source(dovecot_server, mailbox, creds).check().endswith("INBOX: 0 message(s) waiting")
    assert creds.fetched == 2


def test_a_wrong_client_secret_is_denied_without_showing_it(dovecot_server: DovecotServer, mailbox: str) -> None:
    with pytest.raises(SystemException) as caught:
        source(dovecot_server, mailbox, credentials(dovecot_server.idp, secret="verkeerd")).check()
    assert caught.value.code == "oauth2.denied" and "verkeerd" not in str(caught.value)


def test_configured_through_softbot_yaml_settings(dovecot_server: DovecotServer, mailbox: str,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    seed(dovecot_server, mailbox, 1)
    monkeypatch.setenv("TEST_IMAP_CLIENT_SECRET", FakeIdentityProvider.CLIENT_SECRET)
    conf = ImapSourceSettings(kind="imap", name="m365", host=dovecot_server.host, port=dovecot_server.tls_port,
                              ca_file=dovecot_server.ca_file, user=mailbox,
                              oauth2=OAuth2Settings(tenant_id="gemeente", client_id=FakeIdentityProvider.CLIENT_ID,
                                                    client_secret_env="TEST_IMAP_CLIENT_SECRET",
                                                    token_url=dovecot_server.idp.url + "/{tenant_id}/token"))
    imap = build_source(conf)
    [message] = list(imap.read())
    assert message.raw == b"Subject: 0\r\nMessage-ID: <oauth-0@x>\r\n\r\n0\r\n"
    imap.close()
