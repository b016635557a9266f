"""Reading an e-mail as it really comes: body text and attachments (stdlib `email`, policy default).

Generic: no form knowledge. A bot maps `ParsedMail` to its own fields. What this module
promises for the shapes real mail takes (each has a sample in tests/unit/test_mail_shapes.py):

- RFC 2047 encoded-words in filenames (also inside quoted parameters, as Outlook writes them)
  and RFC 2231 parameters (with continuations) are decoded to the sender's filename;
- text bodies are decoded from their declared charset, where `iso-8859-1` and `latin-1` are
  read as windows-1252 (as browsers do: Windows mail programs label cp1252 text so, and the
  euro sign is byte 0x80 there); `us-ascii`, an unknown or a wrong charset fall back to UTF-8,
  then windows-1252, never raising;
- quoted-printable and base64 transfer encodings (stdlib);
- an HTML-only body becomes text: block elements become line breaks, table cells in a row
  are joined by a tab (`Label<TAB>value`), script/style dropped, entities decoded;
- nested multiparts are walked depth first, in order;
- a forwarded message (`message/rfc822` part) is parsed on its own (`ParsedMail.forwarded`)
  and also kept as an attachment (`.eml`) so nothing in it is lost;
- every other leaf part is an attachment: with or without Content-Disposition, a phone's
  inline photo included; parts without a filename get `naamloos-<n>.<ext>`; an image the HTML
  body shows (a `cid:` part of a multipart/related, e.g. a logo) is marked `inline=True`;
- duplicate filenames stay as they are, in order (a bot matches them by position);
- `winmail.dat` (application/ms-tnef) is an attachment like any other; the sniffed type
  tells a bot it is not a document.
"""

from __future__ import annotations

import email
import email.generator
import email.header
import email.policy
import email.utils
import io
import mimetypes
import re
from dataclasses import dataclass, field
from datetime import datetime
from email.message import Message
from html.parser import HTMLParser

from common.sources.base import Attachment

#: charsets that senders use for windows-1252 text (WHATWG Encoding Standard, "Legacy single-byte encodings")
_READ_AS_CP1252 = {"iso-8859-1", "iso8859-1", "iso_8859-1", "latin-1", "latin1", "l1", "windows-1252", "cp1252"}
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SPACES = re.compile(r"[ \t\r\n\f\u00a0]+")
_AROUND_TAB = re.compile(r" *\t *")
_BLOCKS = {"br", "p", "div", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol", "blockquote",
           "section", "article", "header", "footer", "hr", "dt", "dd"}
_HIDDEN = {"script", "style", "head", "title"}
_AUTO_PRECEDENCE = {"auto_reply", "bulk", "junk", "list"}


@dataclass(frozen=True)
class ParsedMail:
    """The parts of a message a bot needs.

    Attributes:
        subject: decoded subject ('' when absent).
        message_id: the Message-ID header without angle brackets, or None.
        date: the Date header as an aware datetime, or None when absent or unreadable.
        sender: the From header, decoded.
        text: the text/plain body, else the text of the text/html body ('' when neither).
        attachments: every part that is not body text, in order (see the module docstring).
        forwarded: each attached message (`message/rfc822`), parsed.
        auto_reply: an automatic message (Auto-Submitted other than `no`, X-Autoreply, or
            Precedence auto_reply/bulk/junk/list): out-of-office replies and mailing lists.
    """

    subject: str
    message_id: str | None
    date: datetime | None
    sender: str
    text: str
    attachments: list[Attachment] = field(default_factory=list)
    forwarded: list[ParsedMail] = field(default_factory=list)
    auto_reply: bool = False


class _TextOfHtml(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self._hidden = 0
        self._cell_in_row = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN:
            self._hidden += 1
        elif tag in ("td", "th"):
            if self._cell_in_row:
                self.out.append("\t")
            self._cell_in_row += 1
        elif tag in _BLOCKS:
            self.out.append("\n")
            if tag == "tr":
                self._cell_in_row = 0

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCKS:
            self.out.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN:
            self._hidden = max(0, self._hidden - 1)
        elif tag in _BLOCKS:
            self.out.append("\n")
            if tag == "tr":
                self._cell_in_row = 0

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.out.append(_SPACES.sub(" ", data))


def html_to_text(markup: str) -> str:
    """Plain text of an HTML body: block elements become line breaks, the cells of a table row are joined
    by a tab, script/style/head dropped, entities decoded, blank lines and spaces at line ends removed."""
    parser = _TextOfHtml()
    parser.feed(markup)
    parser.close()
    lines = [_AROUND_TAB.sub("\t", line).strip(" ") for line in "".join(parser.out).split("\n")]
    return "\n".join(line for line in lines if line.strip())


def decode_text(payload: bytes, charset: str | None) -> str:
    """Bytes of a text part -> str (module docstring: cp1252 for Latin-1 labels; UTF-8, then cp1252 fallback)."""
    label = (charset or "").strip().lower()
    if label in _READ_AS_CP1252:
        return _cp1252(payload)
    if label and label not in ("us-ascii", "ascii"):  # an ASCII label says nothing about 8-bit bytes
        try:
            return payload.decode(label)
        except (LookupError, ValueError):  # unknown, malformed (a NUL in the label) or wrong for these bytes
            pass
    try:
        return payload.decode("utf-8")
    except UnicodeDecodeError:
        return _cp1252(payload)


def _cp1252(payload: bytes) -> str:
    # the five bytes cp1252 leaves undefined (0x81, 0x8d, 0x8f, 0x90, 0x9d) are read as Latin-1 control codes
    return "".join(chunk.decode("cp1252", errors="strict") if ok else chunk.decode("latin-1")
                   for ok, chunk in _cp1252_chunks(payload))


def _cp1252_chunks(payload: bytes) -> list[tuple[bool, bytes]]:
    undefined = {0x81, 0x8D, 0x8F, 0x90, 0x9D}
    if not any(b in undefined for b in payload):
        return [(True, payload)]
    return [(b not in undefined, bytes([b])) for b in payload]


def clean_filename(name: str) -> str:
    """The sender's filename as data: control characters (CR, LF, NUL, ...) removed, spaces trimmed.
    It is never used as a path; stored files get generated names (common.storage)."""
    return _CONTROL.sub("", name).strip()


#: what the stdlib's header parser raises on some malformed headers (CPython bugs, e.g. a `Group` without
#: `local_part`): we never let them out, we read the header raw instead
_PARSER_ERRORS = (ValueError, IndexError, AttributeError, TypeError, LookupError, AssertionError)


def _raw_header(message: Message, name: str) -> str:
    """The header as it stands in the message (encoded-words decoded where possible), without the policy's
    structured parsing."""
    for key, value in message.raw_items():
        if key.lower() != name.lower():
            continue
        text = str(value)
        try:
            return str(email.header.make_header(email.header.decode_header(text)))
        except _PARSER_ERRORS:
            return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return ""


def _header(message: Message, name: str) -> str:
    """The decoded header, whitespace folded; '' when absent. Never raises (falls back to the raw value)."""
    try:
        value = message.get(name)
    except _PARSER_ERRORS:
        value = _raw_header(message, name)
    return " ".join(str(value or "").split())


def _header_date(message: Message) -> datetime | None:
    raw = _header(message, "Date")
    if not raw:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(raw)
    except _PARSER_ERRORS:
        return None
    return parsed if parsed.tzinfo else None


def _is_auto_reply(message: Message) -> bool:
    auto = _header(message, "Auto-Submitted").lower()
    precedence = _header(message, "Precedence").lower()
    return (bool(auto) and auto != "no") or bool(_header(message, "X-Autoreply")) or precedence in _AUTO_PRECEDENCE


def _content_type(part: Message) -> str:
    try:
        return part.get_content_type()
    except _PARSER_ERRORS:
        return "application/octet-stream"


def _disposition(part: Message) -> str | None:
    try:
        return part.get_content_disposition()
    except _PARSER_ERRORS:
        return None


def _charset(part: Message) -> str | None:
    try:
        return part.get_content_charset()
    except _PARSER_ERRORS:
        return None


def _leaves(part: Message, related: bool = False) -> list[tuple[str, Message, bool]]:
    """Depth first: ("message", part, _) for an attached message, ("leaf", part, in_related) for any other
    single part; `in_related` tells that its parent is a multipart/related (parts the HTML body shows)."""
    content_type = _content_type(part)
    if content_type == "message/rfc822":
        return [("message", part, related)]
    if part.is_multipart():
        found: list[tuple[str, Message, bool]] = []
        inner_related = content_type == "multipart/related"
        for sub in part.get_payload():
            if isinstance(sub, Message):
                found += _leaves(sub, inner_related)
        return found
    return [("leaf", part, related)]


def _shown_in_body(part: Message, in_related: bool) -> bool:
    """A part the HTML body shows (`cid:` image of a multipart/related, e.g. a logo), not a file the sender
    attached. A phone's inline photo (Content-Disposition inline, outside multipart/related) is a file."""
    return in_related and bool(_header(part, "Content-ID")) and _disposition(part) != "attachment"


def _is_body(part: Message) -> bool:
    return (_content_type(part) in ("text/plain", "text/html") and _disposition(part) != "attachment"
            and not _filename(part))


def _payload(part: Message) -> bytes:
    try:
        payload = part.get_payload(decode=True)
    except _PARSER_ERRORS:
        payload = None
    if isinstance(payload, bytes):
        return payload
    raw = part.get_payload()
    return raw.encode("utf-8", "surrogateescape") if isinstance(raw, str) else b""


def _filename(part: Message) -> str | None:
    try:
        name = part.get_filename()
    except _PARSER_ERRORS:
        return None
    return clean_filename(str(name)) if name else None


def _message_bytes(message: Message) -> bytes:
    buffer = io.BytesIO()
    generator = email.generator.BytesGenerator(buffer, policy=email.policy.default.clone(refold_source="none"))
    generator.flatten(message)
    return buffer.getvalue()


def _unnamed(number: int, content_type: str) -> str:
    extension = {"message/rfc822": ".eml", "text/plain": ".txt", "image/jpeg": ".jpg"}.get(content_type) or \
        mimetypes.guess_extension(content_type) or ".bin"
    return f"naamloos-{number}{extension}"


def parse_mail(raw: bytes) -> ParsedMail:
    """Parse RFC 5322 bytes (see the module docstring). Never raises on odd mail: what cannot be decoded
    is kept as bytes (attachments) or decoded leniently (text)."""
    message = email.message_from_bytes(raw, policy=email.policy.default)
    return _parse(message)


def _parse(message: Message) -> ParsedMail:
    plain: list[str] = []
    markup: list[str] = []
    attachments: list[Attachment] = []
    forwarded: list[ParsedMail] = []
    unnamed = 0
    for kind, part, in_related in _leaves(message) if message.is_multipart() else [("leaf", message, False)]:
        content_type = _content_type(part)
        if kind == "message":
            inner = part.get_payload()
            inner_message = inner[0] if isinstance(inner, list) and inner else None
            data = _payload(part)
            if isinstance(inner_message, Message):
                forwarded.append(_parse(inner_message))
                try:
                    data = _message_bytes(inner_message)
                except _PARSER_ERRORS:
                    pass  # the raw part then: the original mail holds it anyway
            name = _filename(part)
            if not name:
                unnamed += 1
                name = _unnamed(unnamed, content_type)
            attachments.append(Attachment(filename=name, data=data, declared_content_type=content_type))
            continue
        if _is_body(part):
            text = decode_text(_payload(part), _charset(part))
            (plain if content_type == "text/plain" else markup).append(text)
            continue
        name = _filename(part)
        if not name:
            unnamed += 1
            name = _unnamed(unnamed, content_type)
        attachments.append(Attachment(filename=name, data=_payload(part), declared_content_type=content_type,
                                      inline=_shown_in_body(part, in_related)))
    text = "\n".join(plain) if plain else "\n".join(html_to_text(m) for m in markup)
    message_id = _header(message, "Message-ID").strip().strip("<>").strip() or None
    return ParsedMail(subject=_header(message, "Subject"), message_id=message_id, date=_header_date(message),
                      sender=_header(message, "From"), text=text, attachments=attachments, forwarded=forwarded,
                      auto_reply=_is_auto_reply(message))

