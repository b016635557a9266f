"""The source protocol and what a source yields.

A source reads its input without changing it (`read`), and marks one input as
processed (`acknowledge`) only after the producer committed its work item
(DESIGN.md, "Nothing is lost"). `check` is the health hook (`softbot health`).
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
    where the channel states it (portal API). `inline` marks an image the mail's HTML body
    shows (a `cid:` part, e.g. a logo), not a file the sender attached. `problem` is set
    when the source could not get the file whole (`"missing"`: the portal answered 404;
    `"size_mismatch"`: the bytes differ from the size the portal listed); `expected_size`
    is the size the channel announced, if any.
    """

    filename: str
    data: bytes
    declared_content_type: str | None = None
    document_type: str | None = None
    inline: bool = False
    problem: str | None = None
    expected_size: int | None = None


@dataclass(frozen=True)
class Incoming:
    """One input (an e-mail or a portal submission) as a source yields it.

    Attributes:
        source: the configured source name.
        kind: `"mail"` (raw is an RFC 5322 message) or `"submission"` (raw is JSON).
        key: the source's own handle to acknowledge it (Maildir key, IMAP `uidvalidity:uid`, portal reference).
        raw: the input's bytes exactly as received (stored as the item's raw document).
        delivered_at: the source's own delivery time (Maildir file time, IMAP INTERNALDATE,
            portal `submitted_at`), aware; the fallback for the date received.
        data: for submissions, the decoded JSON; for mail, empty.
        attachments: for submissions, the downloaded files; mail attachments are parsed from `raw`.
        total: how many inputs the source listed when this read began (for a progress bar), if known.
        reference: set by the producer before `acknowledge`: the work item's reference.
        item_id: set by the producer before `acknowledge`: the committed work item's id
            (a portal records it as our external reference).
    """

    source: str
    kind: str
    key: str
    raw: bytes
    delivered_at: datetime | None = None
    data: dict[str, Any] = field(default_factory=dict)
    attachments: list[Attachment] = field(default_factory=list)
    total: int | None = None
    reference: str | None = None
    item_id: int | None = None


class Source(Protocol):
    """An adapter over one mailbox, portal or folder.

    Constructing a source opens no connection: `read` and `check` connect when called.
    """

    name: str

    def read(self) -> Iterator[Incoming]:
        """Yield each unprocessed input with its raw bytes; never changes the source.

        Raises SystemException when the source cannot be reached (inputs already yielded stay valid).
        """
        ...

    def acknowledge(self, incoming: Incoming) -> None:
        """Mark `incoming` processed (move the mail, ack the submission). Called only after commit.

        Idempotent: acknowledging an input that is already processed changes nothing.
        Raises SystemException when the source cannot be reached (the input is then read again
        next time, found as a duplicate of its committed item, and acknowledged then).
        """
        ...

    def check(self) -> str:
        """Can a run read this source now? Returns a short detail (e.g. `"INBOX: 3 message(s) waiting"`).

        Raises SystemException (with a code such as `imap.unreachable`, `portal.auth`) when it cannot.
        """
        ...

    def close(self) -> None:
        """Release connections."""
        ...
