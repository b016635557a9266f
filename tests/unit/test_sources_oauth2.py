"""OAuth2 client credentials against a local fake token endpoint (a real HTTP server on a free loopback port).

No real tenant: the fake answers as Microsoft's v2.0 token endpoint does (`access_token`, `expires_in`,
`token_type`; `{"error": "invalid_client"}` with 401 for a wrong secret). The clock is injected, so
"an hour later" costs nothing.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest
from pydantic import SecretStr

from common.config import ImapSourceSettings, OAuth2Settings
from common.errors import ConfigError, SystemException
from common.sources.factory import build_source
from common.sources.imap import ImapSource
from common.sources.oauth2 import ClientCredentials, xoauth2

SECRET = "geheim-client-secret"


class FakeTokenEndpoint:
    """Issues `token-1`, `token-2`, ... valid `lifetime` seconds; records each request's form."""

    def __init__(self, lifetime: int = 3599) -> None:
        self.lifetime = lifetime
        self.requests: list[dict[str, str]] = []
        self.fail_with: int | None = None
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers["Content-Length"])
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                endpoint.requests.append(form)
                if endpoint.fail_with:
                    self._answer(endpoint.fail_with, {"error": "temporarily_unavailable"})
                elif form.get("client_secret") != SECRET or form.get("grant_type") != "client_credentials":
                    self._answer(401, {"error": "invalid_client", "error_description": "AADSTS7000215"})
                else:
                    self._answer(200, {"token_type": "Bearer", "expires_in": endpoint.lifetime,
                                       "ext_expires_in": endpoint.lifetime,
                                       "access_token": f"token-{len(endpoint.requests)}"})

            def _answer(self, status: int, body: dict[str, object]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/tenant-1/oauth2/v2.0/token"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeTokenEndpoint:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def endpoint() -> Iterator[FakeTokenEndpoint]:
    with FakeTokenEndpoint() as fake:
        yield fake


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2021, 8, 12, 8, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def credentials(endpoint: FakeTokenEndpoint, clock: Clock, secret: str = SECRET) -> ClientCredentials:
    return ClientCredentials(endpoint.url, "app-123", SecretStr(secret), "https://outlook.office365.com/.default",
                             clock=clock)


def test_a_token_is_fetched_once_and_renewed_five_minutes_before_it_expires(endpoint: FakeTokenEndpoint) -> None:
    clock = Clock()
    creds = credentials(endpoint, clock)
    assert creds.token() == "token-1"
    assert endpoint.requests == [{"grant_type": "client_credentials", "client_id": "app-123",
                                  "client_secret": SECRET, "scope": "https://outlook.office365.com/.default"}]
    # issued 08:00:00 for 3599 s: expires 08:59:59; renewed from 08:54:59 (5 minutes margin)
    assert creds.expires_at == datetime(2021, 8, 12, 8, 59, 59, tzinfo=UTC)
    clock.now += timedelta(minutes=54, seconds=58)
    assert creds.token() == "token-1"          # 08:54:58: still the cached one
    clock.now += timedelta(seconds=1)
    assert creds.token() == "token-2"          # 08:54:59: renewed
    assert len(endpoint.requests) == 2
    clock.now += timedelta(hours=3)            # a long run: a new token each time one runs out
    assert creds.token() == "token-3"


def test_invalidate_forces_a_new_token(endpoint: FakeTokenEndpoint) -> None:
    creds = credentials(endpoint, Clock())
    assert creds.token() == "token-1"
    creds.invalidate()
    assert creds.token() == "token-2"


def test_a_wrong_secret_is_denied_and_the_secret_is_never_in_the_message(endpoint: FakeTokenEndpoint) -> None:
    creds = credentials(endpoint, Clock(), secret="fout-geheim")
    with pytest.raises(SystemException) as caught:
        creds.token()
    assert caught.value.code == "oauth2.denied"
    assert "invalid_client" in caught.value.message
    assert "fout-geheim" not in str(caught.value)


def test_an_endpoint_that_fails_or_cannot_be_reached(endpoint: FakeTokenEndpoint) -> None:
    endpoint.fail_with = 503
    with pytest.raises(SystemException) as caught:
        credentials(endpoint, Clock()).token()
    assert caught.value.code == "oauth2.unreachable"
    unreachable = ClientCredentials("http://127.0.0.1:9/token", "app", SecretStr(SECRET), "s", timeout_seconds=2)
    with pytest.raises(SystemException) as caught:
        unreachable.token()
    assert caught.value.code == "oauth2.unreachable"


def test_xoauth2_initial_response() -> None:
    assert xoauth2("tonk@gemeente.example", "abc") == b"user=tonk@gemeente.example\x01auth=Bearer abc\x01\x01"


def test_config_builds_an_imap_source_with_client_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    conf = ImapSourceSettings(kind="imap", name="m365", host="outlook.office365.com", user="tonk@gemeente.example",
                              oauth2=OAuth2Settings(tenant_id="gemeente.onmicrosoft.com", client_id="app-123",
                                                    client_secret_env="TONK_IMAP_SECRET"))
    assert conf.oauth2 is not None
    assert conf.oauth2.endpoint() == "https://login.microsoftonline.com/gemeente.onmicrosoft.com/oauth2/v2.0/token"
    monkeypatch.delenv("TONK_IMAP_SECRET", raising=False)
    with pytest.raises(ConfigError, match="TONK_IMAP_SECRET is not set"):
        build_source(conf)
    monkeypatch.setenv("TONK_IMAP_SECRET", SECRET)
    source = build_source(conf)
    assert isinstance(source, ImapSource) and (source.port, source.tls) == (993, "implicit")


def test_config_wants_exactly_one_credential() -> None:
    with pytest.raises(ValueError, match="exactly one of password_env and oauth2"):
        ImapSourceSettings(kind="imap", name="x", host="h", user="u")
