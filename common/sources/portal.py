"""An e-forms portal's submissions API as a source (specs/portal-api.md), over httpx.

- `read` lists `status=new` submissions of one form page by page and downloads each one's
  attachments; it acknowledges nothing. Because acknowledged submissions leave the `new` list
  (ours after each commit, or another runner's), later pages shift while we read: so after the
  last page the list is walked again from page 1, until a walk finds nothing it has not yet
  yielded. A page past the end (404, as Django REST framework answers) ends a walk.
- 502/503/504, timeouts and dropped connections are retried with exponential backoff
  (`retries`, `retry_wait_seconds`, doubling); a 401 is not (the token is wrong).
- An attachment that answers 404 is yielded with `problem="missing"`; one whose bytes differ from
  the listed `size` is downloaded once more and, still differing, yielded with
  `problem="size_mismatch"` and the bytes received. The bot decides (TONK: to a caseworker).
- A submission whose attachment cannot be fetched even after the retries is skipped (it stays
  `new`, so the next intake reads it); after the walk, `read` raises
  SystemException("portal.incomplete") naming how many, so the run is marked as failing.
- `acknowledge` posts `{"status": "received", "external_reference": "<work item id>"}`; the portal
  treats a second ack as harmless, and so do we.

The token comes from the environment (config `token_env`); it is sent only in the Authorization
header and never logged.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
from pydantic import SecretStr

from common.errors import SystemException
from common.logging import get_logger
from common.sources.base import Attachment, Incoming

log = get_logger(__name__)

API = "/api/v1/submissions"
_RETRY_STATUSES = {500, 502, 503, 504}


class _Retryable(Exception):
    """A failure worth another try (5xx, timeout, connection)."""


class PortalSource:
    """The `new` submissions of form `form` at `base_url`.

    Args:
        name: the configured source name.
        base_url: the portal, e.g. `https://formulieren.gemeente.example` (the API is under /api/v1/).
        token: the API token.
        form: the form's slug, e.g. `tonk`.
        timeout_seconds: per request.
        retries: extra attempts after a retryable failure.
        retry_wait_seconds: first wait between attempts (doubles each time).
        ca_file: CA bundle for a private server (None: the system's CAs).
        sleep: how to wait between attempts (tests pass a no-op).
        transport: an httpx transport for tests.
    """

    def __init__(self, name: str, base_url: str, token: SecretStr, form: str, *, timeout_seconds: float = 30.0,
                 retries: int = 4, retry_wait_seconds: float = 1.0, ca_file: Path | None = None,
                 sleep: Callable[[float], None] = time.sleep, transport: httpx.BaseTransport | None = None) -> None:
        self.name = name
        self.base_url = base_url.rstrip("/")
        self.form = form
        self.retries = retries
        self.retry_wait = retry_wait_seconds
        self._sleep = sleep
        self._token = token
        self._timeout = timeout_seconds
        self._verify: str | bool = str(ca_file) if ca_file else True
        self._transport = transport
        self._client: httpx.Client | None = None
        self.skipped: list[str] = []  # references left `new` by the last read (attachments unreachable)

    # -- HTTP with retries --------------------------------------------------------------------------

    def _http(self) -> httpx.Client:
        if self._client is None:
            self._client = httpx.Client(base_url=self.base_url, timeout=self._timeout, verify=self._verify,
                                        transport=self._transport,
                                        headers={"Authorization": f"Token {self._token.get_secret_value()}",
                                                 "Accept": "application/json"})
        return self._client

    def _request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """One request with retries; returns the response (any status but 401/5xx). Raises SystemException."""
        wait = self.retry_wait
        for attempt in range(self.retries + 1):
            try:
                response = self._http().request(method, url, **kwargs)
                if response.status_code in _RETRY_STATUSES:
                    raise _Retryable(f"HTTP {response.status_code}")
                if response.status_code == 401:
                    raise SystemException("portal.auth", f"{self.name}: the portal refused the token (HTTP 401)")
                return response
            except (httpx.TimeoutException, httpx.TransportError, _Retryable) as exc:
                reason = str(exc) if isinstance(exc, _Retryable) else type(exc).__name__
                if attempt == self.retries:
                    raise SystemException("portal.unreachable", f"{self.name}: {method} {url}: {reason} "
                                                                f"(after {self.retries + 1} attempts)") from None
                log.warning("portal_retry", source=self.name, method=method, url=url, reason=reason,
                            attempt=attempt + 1, wait_seconds=wait)
                self._sleep(wait)
                wait *= 2
        raise AssertionError("unreachable")

    def _page(self, url: str, *, first: bool) -> dict[str, Any] | None:
        response = self._request("GET", url)
        if response.status_code == 404 and not first:
            return None  # the list shrank while we walked it: a page past the end
        if response.status_code != 200:
            raise SystemException("portal.unexpected", f"{self.name}: GET {url}: HTTP {response.status_code}")
        try:
            page = response.json()
        except ValueError:
            raise SystemException("portal.unexpected", f"{self.name}: GET {url}: not JSON") from None
        if not isinstance(page, dict) or not isinstance(page.get("results"), list):
            raise SystemException("portal.unexpected", f"{self.name}: GET {url}: no results list")
        return page

    def _first_page_url(self) -> str:
        return f"{API}?status=new&form={quote(self.form)}&page=1"

    # -- reading ------------------------------------------------------------------------------------

    def read(self) -> Iterator[Incoming]:
        """Yield every `new` submission of the form once, with its attachments; changes nothing.

        Raises SystemException (portal.auth, portal.unreachable, portal.unexpected, portal.incomplete).
        """
        seen: set[str] = set()
        self.skipped = []
        total: int | None = None
        while True:
            found_new = False
            url: str | None = self._first_page_url()
            visited: set[str] = set()
            while url and url not in visited:  # a `next` that points back would loop forever
                visited.add(url)
                page = self._page(url, first=len(visited) == 1)
                if page is None:
                    break
                if total is None and isinstance(page.get("count"), int):
                    total = page["count"]
                for result in page["results"]:
                    reference = str(result.get("reference", "")) if isinstance(result, dict) else ""
                    if not reference:  # nothing to acknowledge it by: the portal's problem, said in the log
                        log.error("portal_result_without_reference", source=self.name, url=url)
                        continue
                    if reference in seen:
                        continue
                    seen.add(reference)
                    found_new = True
                    incoming = self._incoming(result, total)
                    if incoming is not None:
                        yield incoming
                following = page.get("next")
                url = following if isinstance(following, str) else None
            if not found_new:
                break
        if self.skipped:
            raise SystemException("portal.incomplete", f"{self.name}: {len(self.skipped)} submission(s) could not "
                                                       "be fetched whole; they stay new and are read next time")

    def _incoming(self, result: dict[str, Any], total: int | None) -> Incoming | None:
        reference = str(result["reference"])
        try:
            listed = result.get("attachments") or []
            attachments = [self._download(reference, a) for a in (listed if isinstance(listed, list) else [listed])]
        except SystemException as exc:
            if exc.code == "portal.auth":
                raise
            log.error("portal_submission_skipped", source=self.name, reference=reference, code=exc.code,
                      error=exc.message)
            self.skipped.append(reference)
            return None
        raw = json.dumps(result, ensure_ascii=False, indent=2).encode("utf-8")
        return Incoming(source=self.name, kind="submission", key=reference, raw=raw,
                        delivered_at=_aware(result.get("submitted_at")), data=result, attachments=attachments,
                        total=total)

    def _download(self, reference: str, listed: object) -> Attachment:
        if not isinstance(listed, dict):  # the portal's JSON is not as portal-api.md says: a caseworker looks
            log.warning("portal_attachment_unreadable", source=self.name, reference=reference)
            return Attachment(filename="naamloos", data=b"", problem="missing")
        filename = str(listed.get("filename") or listed.get("id") or "naamloos")
        expected = listed.get("size") if isinstance(listed.get("size"), int) else None
        url = listed.get("url") or f"{API}/{quote(reference)}/attachments/{quote(str(listed.get('id', '')))}"
        common = {"filename": filename, "declared_content_type": listed.get("content_type"),
                  "document_type": listed.get("document_type"), "expected_size": expected}
        data = b""
        for attempt in range(2):
            response = self._request("GET", str(url))
            if response.status_code == 404:
                log.warning("portal_attachment_missing", source=self.name, reference=reference,
                            attachment=listed.get("id"))
                return Attachment(data=b"", problem="missing", **common)
            if response.status_code != 200:
                raise SystemException("portal.unexpected", f"{self.name}: GET {url}: HTTP {response.status_code}")
            data = response.content
            if expected is None or len(data) == expected:
                return Attachment(data=data, **common)
            log.warning("portal_attachment_size_mismatch", source=self.name, reference=reference,
                        attachment=listed.get("id"), listed=expected, received=len(data), attempt=attempt + 1)
        return Attachment(data=data, problem="size_mismatch", **common)

    # -- acknowledging, health ----------------------------------------------------------------------

    def acknowledge(self, incoming: Incoming) -> None:
        """Mark the submission received, with our work item id as external reference. Idempotent.

        A submission the portal no longer knows (404) is logged and left: there is nothing to mark.
        Raises SystemException (portal.auth, portal.unreachable, portal.unexpected).
        """
        body = {"status": "received",
                "external_reference": str(incoming.item_id) if incoming.item_id is not None else incoming.reference}
        url = f"{API}/{quote(incoming.key)}/ack"
        response = self._request("POST", url, json=body)
        if response.status_code == 404:
            log.warning("portal_ack_unknown", source=self.name, reference=incoming.key)
            return
        if response.status_code not in (200, 201, 204):
            raise SystemException("portal.unexpected", f"{self.name}: POST {url}: HTTP {response.status_code}")

    def check(self) -> str:
        """`"<base_url>: <n> new submission(s) of form <form>"`. Raises SystemException."""
        page = self._page(self._first_page_url(), first=True)
        count = int(page.get("count") or 0) if page else 0
        return f"{self.base_url}: {count} new submission(s) of form {self.form}"

    def close(self) -> None:
        """Close the HTTP connections (a later call opens new ones)."""
        if self._client is not None:
            self._client.close()
            self._client = None


def _aware(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else None
