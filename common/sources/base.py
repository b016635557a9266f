"""The source protocol and what a source yields.

A source reads its input without changing it (`read`), and marks one input as
processed (`acknowledge`) only after the producer committed its work item
(DESIGN.md, "Nothing is lost").
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol


@dataclass(frozen=True)
class Attachment:
    """A file that came with an input, as received.

    `filename` is the sender's own name (data only, never used as a path);
    `declared_content_type` is what the sender claimed; `document_type` is set
    where the channel states it (portal API).
    """

    filename: str
    data: bytes
    declared_content_type: str | None = None
    document_type: str | None = None


@dataclass(frozen=True)
class Incoming:
    """One input (an e-mail or a portal submission) as a source yields it.

    Attributes:
        source: the configured source name.
        kind: `"mail"` (raw is an RFC 5322 message) or `"submission"` (raw is JSON).
        key: the source's own handle to acknowledge it (Maildir key, IMAP UID, portal reference).
        raw: the input's bytes exactly as received (stored as the item's raw document).
        delivered_at: the source's own delivery time (Maildir file time, IMAP INTERNALDATE,
            portal `submitted_at`), aware; the fallback for the date received.
        data: for submissions, the decoded JSON; for mail, empty.
        attachments: for submissions, the downloaded files; mail attachments are parsed from `raw`.
    """

    source: str
    kind: str
    key: str
    raw: bytes
    delivered_at: datetime | None = None
    data: dict[str, Any] = field(default_factory=dict)
    attachments: list[Attachment] = field(default_factory=list)


class Source(Protocol):
    """An adapter over one mailbox, portal or folder."""

    name: str

    def read(self) -> Iterator[Incoming]:
        """Yield each unprocessed input with its raw bytes; never changes the source."""
        ...

    def acknowledge(self, incoming: Incoming) -> None:
        """Mark `incoming` processed (move the mail, ack the submission). Called only after commit."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...
