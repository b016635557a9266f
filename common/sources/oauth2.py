"""OAuth2 client credentials (RFC 6749 section 4.4) for unattended mailbox access (Microsoft 365).

An app registration's client id and secret buy an access token from the tenant's token
endpoint (`POST {token_url}` with `grant_type=client_credentials`); the token is good for
`expires_in` seconds (about an hour at Microsoft). The client-credentials grant issues no
refresh token: refreshing means asking again. `ClientCredentials.token()` does so when the
cached token is within `margin` of its expiry, and `invalidate()` forces it after a server
refused the token, so a run that outlives a token does not fail. Why not rpaframework's
OAuth keywords or MSAL: docs/decisions/0008-imap-and-oauth2.md.

Secrets (the client secret, tokens) are never logged or put in exception messages.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from pydantic import SecretStr

from common.errors import SystemException
from common.logging import get_logger

log = get_logger(__name__)

Clock = Callable[[], datetime]


def xoauth2(user: str, access_token: str) -> bytes:
    """The SASL XOAUTH2 initial response for IMAP `AUTHENTICATE XOAUTH2` (before base64, which imaplib adds)."""
    return f"user={user}\x01auth=Bearer {access_token}\x01\x01".encode()


class ClientCredentials:
    """Access tokens for one app registration, fetched and renewed as needed; thread-safe.

    Args:
        token_url: the token endpoint, e.g. `https://login.microsoftonline.com/<tenant>/oauth2/v2.0/token`.
        client_id: the application (client) id.
        client_secret: the client secret.
        scope: e.g. `https://outlook.office365.com/.default` (IMAP and SMTP of Exchange Online).
        margin: renew a token this long before it expires (default 5 minutes).
        timeout_seconds: per request to the token endpoint.
        ca_file: CA bundle for the endpoint (None: the system's CAs).
        clock: aware UTC now; tests inject their own.
        transport: an httpx transport for tests (default: the network).
    """

    def __init__(self, token_url: str, client_id: str, client_secret: SecretStr, scope: str, *,
                 margin: timedelta = timedelta(minutes=5), timeout_seconds: float = 30.0,
                 ca_file: Path | None = None, clock: Clock = lambda: datetime.now(UTC),
                 transport: httpx.BaseTransport | None = None) -> None:
        self.token_url = token_url
        self.client_id = client_id
        self._secret = client_secret
        self.scope = scope
        self.margin = margin
        self._clock = clock
        self._client = httpx.Client(timeout=timeout_seconds, verify=str(ca_file) if ca_file else True,
                                    transport=transport)
        self._token: str | None = None
        self._expires_at: datetime | None = None
        self._lock = threading.Lock()
        self.fetched = 0  # how many tokens were fetched (for tests and logs)

    def token(self) -> str:
        """A valid access token: the cached one, or a new one when it expires within `margin`.

        Raises:
            SystemException("oauth2.denied"): the endpoint refused the credentials (wrong id/secret,
                consent missing); the message names the endpoint's error code, never the secret.
            SystemException("oauth2.unreachable"): network error or an answer that is not a token.
        """
        with self._lock:
            now = self._clock()
            if self._token is None or self._expires_at is None or now >= self._expires_at - self.margin:
                self._fetch(now)
            assert self._token is not None
            return self._token

    def invalidate(self) -> None:
        """Forget the cached token (the server refused it): the next `token()` fetches a new one."""
        with self._lock:
            self._token = None
            self._expires_at = None

    @property
    def expires_at(self) -> datetime | None:
        """When the cached token expires (aware UTC), or None when there is none."""
        return self._expires_at

    def _fetch(self, now: datetime) -> None:
        form = {"grant_type": "client_credentials", "client_id": self.client_id,
                "client_secret": self._secret.get_secret_value(), "scope": self.scope}
        try:
            response = self._client.post(self.token_url, data=form, headers={"Accept": "application/json"})
        except httpx.HTTPError as exc:
            raise SystemException("oauth2.unreachable",
                                  f"token endpoint {self.token_url}: {type(exc).__name__}") from None
        try:
            body = response.json()
        except ValueError:
            body = {}
        if response.status_code in (400, 401, 403):
            error = body.get("error", f"HTTP {response.status_code}") if isinstance(body, dict) else "?"
            raise SystemException("oauth2.denied", f"token endpoint {self.token_url} refused client "
                                                   f"{self.client_id}: {error}")
        if response.status_code != 200 or not isinstance(body, dict) or not body.get("access_token"):
            raise SystemException("oauth2.unreachable",
                                  f"token endpoint {self.token_url}: HTTP {response.status_code}, no access token")
        try:
            lifetime = int(body.get("expires_in", 3600))
        except (TypeError, ValueError):
            lifetime = 3600
        self._token = str(body["access_token"])
        self._expires_at = now + timedelta(seconds=lifetime)
        self.fetched += 1
        log.info("oauth2_token_fetched", client_id=self.client_id, expires_at=self._expires_at.isoformat())

    def close(self) -> None:
        """Close the HTTP client."""
        self._client.close()
