"""An IMAP mailbox as a source (Dovecot, Exchange Online, ...), on the stdlib's `imaplib`.

Why not rpaframework's `RPA.Email.ImapSmtp`: docs/decisions/0008-imap-and-oauth2.md (it does not
verify the server's certificate, has no STARTTLS, marks listed mail read and hands out re-parsed
messages instead of the bytes received; tests/integration/test_imap_rpaframework.py shows each).

What this source promises:

- TLS always, certificate and host name verified (`implicit` IMAPS, or `starttls` before login);
  `ca_file` for a private or self-signed server. No cleartext login.
- Password login, or OAuth2 client credentials (`AUTHENTICATE XOAUTH2`, Microsoft 365) with a
  fresh token on every (re)connect and one retry with a new token when the server refuses one.
- `read` never changes the mailbox: the folder is opened read-only (EXAMINE), every message not
  flagged \\Deleted is fetched with `BODY.PEEK[]` (unread mail stays unread), oldest UID first, in
  batches of `fetch_batch`, as the exact bytes the server holds, with its INTERNALDATE.
- `acknowledge` moves the message to `processed_folder` (created when missing) with `UID MOVE`
  (RFC 6851, one atomic step); a server without MOVE gets `UID COPY` + `\\Deleted` + `UID EXPUNGE`
  (UIDPLUS) of that one message only, never an EXPUNGE of the whole folder.
- The key of a message is `<UIDVALIDITY>:<UID>`. If the folder's UIDVALIDITY changed since reading,
  acknowledging refuses (SystemException): the message is read again next time, found to be a
  duplicate of its committed item, and moved then.
- A dropped connection is re-opened once per operation (a long run outlives an idle timeout or a token).
"""

from __future__ import annotations

import base64
import imaplib
import re
import ssl
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TypeVar

from pydantic import SecretStr

from common.errors import SystemException
from common.logging import get_logger
from common.sources.base import Incoming
from common.sources.oauth2 import ClientCredentials, xoauth2

log = get_logger(__name__)

T = TypeVar("T")
_FETCH_HEAD = re.compile(rb"UID (\d+)")
_INTERNALDATE = re.compile(rb'INTERNALDATE "([^"]+)"')
_SIZE = re.compile(rb"RFC822\.SIZE (\d+)")
_BATCH_BYTES = 32 * 1024 * 1024
_CONNECTION_ERRORS = (imaplib.IMAP4.abort, OSError, EOFError)


def encode_mailbox(name: str) -> str:
    """A folder name as IMAP wants it: modified UTF-7 (RFC 3501 5.1.3), quoted.

    `Verwerkt` -> `"Verwerkt"`; `Behandeld/Dossiers 2021` -> `"Behandeld/Dossiers 2021"`;
    `Afgehandeld/Öztürk` -> `"Afgehandeld/&ANY-zt&APw-rk"`.
    """
    out: list[str] = []
    pending: list[str] = []

    def flush() -> None:
        if pending:
            utf16 = "".join(pending).encode("utf-16-be")
            out.append("&" + base64.b64encode(utf16).decode("ascii").rstrip("=").replace("/", ",") + "-")
            pending.clear()

    for char in name:
        if 0x20 <= ord(char) <= 0x7E:
            flush()
            out.append("&-" if char == "&" else char)
        else:
            pending.append(char)
    flush()
    encoded = "".join(out)
    return '"' + encoded.replace("\\", "\\\\").replace('"', '\\"') + '"'


class ImapSource:
    """One IMAP folder as a source.

    Args:
        name: the configured source name.
        host, port: the server.
        tls: `"implicit"` (IMAPS) or `"starttls"`.
        user: the login name (for Microsoft 365: the mailbox address).
        password: the password, or None with `oauth2`.
        oauth2: token provider for XOAUTH2, or None with `password`.
        folder: the folder read (e.g. `INBOX`).
        processed_folder: where acknowledged mail goes (created if missing).
        ca_file: CA bundle to verify the server with (None: the system's CAs).
        timeout_seconds: per network operation.
        fetch_batch: messages per FETCH.
    """

    def __init__(self, name: str, host: str, port: int, *, tls: str, user: str, password: SecretStr | None,
                 oauth2: ClientCredentials | None, folder: str = "INBOX", processed_folder: str = "Verwerkt",
                 ca_file: Path | None = None, timeout_seconds: float = 30.0, fetch_batch: int = 25) -> None:
        if (password is None) == (oauth2 is None):
            raise ValueError("give exactly one of password and oauth2")
        if tls not in ("implicit", "starttls"):
            raise ValueError(f"tls must be 'implicit' or 'starttls', not {tls!r}")
        self.name = name
        self.host, self.port, self.tls, self.user = host, port, tls, user
        self._password = password
        self._oauth2 = oauth2
        self.folder, self.processed_folder = folder, processed_folder
        self.ca_file = ca_file
        self.timeout = timeout_seconds
        self.fetch_batch = fetch_batch
        self._conn: imaplib.IMAP4 | None = None
        self._uidvalidity: str | None = None  # of the open folder; None: no folder open
        self._writable = False
        self._processed_exists = False

    # -- connection ---------------------------------------------------------------------------------

    def _tls_context(self) -> ssl.SSLContext:
        try:
            context = ssl.create_default_context(cafile=str(self.ca_file) if self.ca_file else None)
        except (OSError, ssl.SSLError) as exc:
            raise SystemException("imap.tls", f"{self.name}: cannot read CA file {self.ca_file}: {exc}") from None
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        return context

    def _where(self) -> str:
        return f"{self.name} ({self.host}:{self.port}, {self.tls})"

    def _open(self) -> imaplib.IMAP4:
        context = self._tls_context()
        try:
            if self.tls == "implicit":
                conn: imaplib.IMAP4 = imaplib.IMAP4_SSL(self.host, self.port, ssl_context=context,
                                                        timeout=self.timeout)
            else:
                conn = imaplib.IMAP4(self.host, self.port, timeout=self.timeout)
                if "STARTTLS" not in conn.capabilities:
                    conn.shutdown()
                    raise SystemException("imap.tls", f"{self._where()}: the server offers no STARTTLS; "
                                                      "refusing to log in without TLS")
                conn.starttls(ssl_context=context)
        except ssl.SSLCertVerificationError as exc:
            raise SystemException("imap.tls", f"{self._where()}: the server's certificate is not trusted "
                                              f"({exc.verify_message}); set ca_file for a private CA") from None
        except ssl.SSLError as exc:
            raise SystemException("imap.tls", f"{self._where()}: TLS failed: {exc.reason}") from None
        except (OSError, imaplib.IMAP4.error) as exc:
            raise SystemException("imap.unreachable", f"{self._where()}: {type(exc).__name__}: {exc}") from None
        self._login(conn)
        return conn

    def _login(self, conn: imaplib.IMAP4) -> None:
        try:
            if self._password is not None:
                conn.login(self.user, self._password.get_secret_value())
                return
            assert self._oauth2 is not None
            try:
                token = self._oauth2.token()
                conn.authenticate("XOAUTH2", lambda _challenge: xoauth2(self.user, token))
            except imaplib.IMAP4.error:
                self._oauth2.invalidate()  # refused: perhaps revoked or expired early; one more try, fresh
                token = self._oauth2.token()
                conn.authenticate("XOAUTH2", lambda _challenge: xoauth2(self.user, token))
        except imaplib.IMAP4.error as exc:
            _close_quietly(conn)
            raise SystemException("imap.auth", f"{self._where()}: login refused for {self.user}: "
                                               f"{_text(exc)}") from None
        finally:
            if conn.state == "AUTH":
                _refresh_capabilities(conn)

    def _connection(self) -> imaplib.IMAP4:
        if self._conn is None:
            self._conn = self._open()
        return self._conn

    def _select(self, conn: imaplib.IMAP4, *, writable: bool = False) -> str:
        """Open `folder`: EXAMINE (read-only) for reading, SELECT when a move needs it; returns UIDVALIDITY.

        An open folder is kept: a read-write one serves reading too (BODY.PEEK leaves \\Seen alone).
        """
        if self._uidvalidity is not None and (self._writable or not writable):
            return self._uidvalidity
        status, data = conn.select(encode_mailbox(self.folder), readonly=not writable)
        if status != "OK":
            raise SystemException("imap.folder", f"{self._where()}: cannot open folder {self.folder!r}: "
                                                 f"{_text(data)}")
        _, validity = conn.response("UIDVALIDITY")
        value = validity[0].decode() if validity and validity[0] else ""
        self._uidvalidity = value
        self._writable = writable
        return value

    def _retrying(self, operation: Callable[[imaplib.IMAP4], T]) -> T:
        """Run `operation` on the connection; after a dropped connection, reconnect and run it once more.

        Raises SystemException: `imap.unreachable` (lost twice), `imap.protocol` (the server answered
        BAD/NO to a command), or what opening the connection raises.
        """
        for attempt in (1, 2):
            try:
                return operation(self._connection())
            except _CONNECTION_ERRORS as exc:
                self._drop()
                if attempt == 2:
                    raise SystemException("imap.unreachable", f"{self._where()}: connection lost: "
                                                              f"{type(exc).__name__}: {exc}") from None
                log.warning("imap_reconnect", source=self.name, error=type(exc).__name__)
            except imaplib.IMAP4.error as exc:
                raise SystemException("imap.protocol", f"{self._where()}: the server refused a command: "
                                                       f"{_text(exc.args)}") from None
        raise AssertionError("unreachable")

    def _drop(self) -> None:
        if self._conn is not None:
            _close_quietly(self._conn)
        self._conn = None
        self._uidvalidity = None  # a new connection selects again

    # -- reading ------------------------------------------------------------------------------------

    def read(self) -> Iterator[Incoming]:
        """Yield every message of `folder` not flagged \\Deleted, oldest UID first; changes nothing.

        Raises SystemException (imap.unreachable, imap.tls, imap.auth, imap.folder).
        """
        def listing(conn: imaplib.IMAP4) -> tuple[str, list[tuple[int, int]]]:
            validity = self._select(conn)
            status, data = conn.uid("SEARCH", None, "UNDELETED")
            if status != "OK":
                raise SystemException("imap.search", f"{self._where()}: SEARCH failed: {_text(data)}")
            uids = [int(u) for u in (data[0] or b"").split()]
            sizes: list[tuple[int, int]] = []
            for start in range(0, len(uids), 500):
                chunk = ",".join(str(u) for u in uids[start:start + 500])
                status, rows = conn.uid("FETCH", chunk, "(UID RFC822.SIZE)")
                for row in rows or []:
                    line = row[0] if isinstance(row, tuple) else row
                    if isinstance(line, bytes) and (uid := _FETCH_HEAD.search(line)) and (size := _SIZE.search(line)):
                        sizes.append((int(uid[1]), int(size[1])))
            return validity, sorted(sizes)

        validity, messages = self._retrying(listing)
        total = len(messages)
        for batch in _batches(messages, self.fetch_batch, _BATCH_BYTES):
            uids = [uid for uid, _ in batch]
            fetched = self._retrying(lambda conn, u=uids: self._fetch(conn, validity, u))
            for uid, _size in batch:
                found = fetched.get(uid)
                if found is None:
                    continue  # gone since listing (moved by another runner or a person): not ours to read
                raw, delivered = found
                yield Incoming(source=self.name, kind="mail", key=f"{validity}:{uid}", raw=raw,
                               delivered_at=delivered, total=total)

    def _fetch(self, conn: imaplib.IMAP4, validity: str, uids: list[int]) -> dict[int, tuple[bytes, datetime | None]]:
        current = self._select(conn)  # opens the folder again after a reconnect
        if current != validity:
            raise SystemException("imap.uidvalidity", f"{self._where()}: folder {self.folder!r} was renumbered "
                                                      "while reading; the rest is read at the next intake")
        status, rows = conn.uid("FETCH", ",".join(str(u) for u in uids), "(UID INTERNALDATE BODY.PEEK[])")
        if status != "OK":
            raise SystemException("imap.fetch", f"{self._where()}: FETCH failed: {_text(rows)}")
        found: dict[int, tuple[bytes, datetime | None]] = {}
        for row in rows or []:
            if not isinstance(row, tuple) or len(row) < 2:
                continue
            head, body = row[0], row[1]
            uid = _FETCH_HEAD.search(head)
            if uid is None or not isinstance(body, bytes):
                continue
            found[int(uid[1])] = (body, _internaldate(head))
        return found

    # -- acknowledging ------------------------------------------------------------------------------

    def acknowledge(self, incoming: Incoming) -> None:
        """Move the message to `processed_folder`. Idempotent: a message already moved is not found, and
        that is fine. Raises SystemException("imap.uidvalidity") when the folder was renumbered since
        reading, or another imap.* code when the server cannot be reached."""
        validity, _, uid = incoming.key.partition(":")

        def move(conn: imaplib.IMAP4) -> None:
            current = self._select(conn, writable=True)
            if current != validity:
                raise SystemException("imap.uidvalidity", f"{self._where()}: folder {self.folder!r} was renumbered "
                                                          "since reading; the message is moved at the next intake")
            self._ensure_processed(conn)
            target = encode_mailbox(self.processed_folder)
            if "MOVE" in conn.capabilities:
                status, data = conn.uid("MOVE", uid, target)
            else:
                status, data = conn.uid("COPY", uid, target)
                if status == "OK":
                    status, data = conn.uid("STORE", uid, "+FLAGS.SILENT", "(\\Deleted)")
                if status == "OK" and "UIDPLUS" in conn.capabilities:
                    status, data = conn.uid("EXPUNGE", uid)
            if status != "OK":
                raise SystemException("imap.move", f"{self._where()}: moving UID {uid} to "
                                                   f"{self.processed_folder!r} failed: {_text(data)}")

        self._retrying(move)

    def _ensure_processed(self, conn: imaplib.IMAP4) -> None:
        if self._processed_exists:
            return
        target = encode_mailbox(self.processed_folder)
        status, data = conn.list('""', target)
        if status == "OK" and any(item for item in data if item):
            self._processed_exists = True
            return
        status, data = conn.create(target)
        if status != "OK" and b"exist" not in b" ".join(d for d in data if isinstance(d, bytes)).lower():
            raise SystemException("imap.folder", f"{self._where()}: cannot create folder "
                                                 f"{self.processed_folder!r}: {_text(data)}")
        conn.subscribe(target)
        self._processed_exists = True

    # -- health and closing -------------------------------------------------------------------------

    def check(self) -> str:
        """`"<folder>: <n> message(s) waiting"` after a verified TLS login. Raises SystemException."""
        def count(conn: imaplib.IMAP4) -> int:
            self._select(conn)
            status, data = conn.uid("SEARCH", None, "UNDELETED")
            return len((data[0] or b"").split()) if status == "OK" else 0

        waiting = self._retrying(count)
        return f"{self.host}:{self.port} {self.folder}: {waiting} message(s) waiting"

    def close(self) -> None:
        """Log out. The source can read again afterwards (it connects anew)."""
        self._drop()


def _batches(messages: list[tuple[int, int]], count: int, max_bytes: int) -> Iterator[list[tuple[int, int]]]:
    batch: list[tuple[int, int]] = []
    size = 0
    for uid, length in messages:
        if batch and (len(batch) >= count or size + length > max_bytes):
            yield batch
            batch, size = [], 0
        batch.append((uid, length))
        size += length
    if batch:
        yield batch


_MONTHS = {m: n for n, m in enumerate(("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
                                         "Dec"), start=1)}
_DATE_PARTS = re.compile(r"\s*(\d{1,2})-(\w{3})-(\d{4}) (\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})")


def _internaldate(head: bytes) -> datetime | None:
    """INTERNALDATE `"12-Aug-2021 14:03:27 +0200"` as an aware datetime (month names are English, whatever
    the machine's locale), or None when absent or malformed."""
    match = _INTERNALDATE.search(head)
    parts = _DATE_PARTS.fullmatch(match[1].decode("ascii", "replace")) if match else None
    if parts is None or parts[2] not in _MONTHS:
        return None
    day, _, year, hour, minute, second, sign, off_h, off_m = parts.groups()
    offset = timedelta(hours=int(off_h), minutes=int(off_m)) * (1 if sign == "+" else -1)
    try:
        return datetime(int(year), _MONTHS[parts[2]], int(day), int(hour), int(minute), int(second),
                        tzinfo=timezone(offset))
    except ValueError:
        return None


def _refresh_capabilities(conn: imaplib.IMAP4) -> None:
    """imaplib keeps the capabilities of the greeting; after login a server offers more (MOVE, UIDPLUS)."""
    try:
        status, data = conn.capability()
    except imaplib.IMAP4.error:
        return
    if status == "OK" and data and isinstance(data[-1], bytes):
        conn.capabilities = tuple(data[-1].decode("ascii", "replace").upper().split())


def _text(data: object) -> str:
    if isinstance(data, list | tuple):
        return " ".join(_text(d) for d in data if d)
    if isinstance(data, bytes):
        return data.decode("utf-8", "replace")
    return str(data)


def _close_quietly(conn: imaplib.IMAP4) -> None:
    try:
        conn.logout()
    except (imaplib.IMAP4.error, OSError, EOFError):
        try:
            conn.shutdown()
        except OSError:
            return
