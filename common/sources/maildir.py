"""A Maildir mailbox as a source (the embedded default; stdlib `mailbox`).

Unprocessed mail is whatever sits in the Maildir's `new/` and `cur/`; acknowledging
moves the message into the sub-folder `processed_folder` (a Maildir++ folder), so a
message is never deleted by the robot.
"""

from __future__ import annotations

import mailbox
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from common.sources.base import Incoming


class MaildirSource:
    """Reads `path` (created if missing); acknowledged messages move to folder `processed_folder`.

    Args:
        name: the configured source name.
        path: the Maildir's folder.
        processed_folder: the Maildir++ sub-folder for processed mail (e.g. `processed`).
    """

    def __init__(self, name: str, path: Path, processed_folder: str = "processed") -> None:
        self.name = name
        self.path = path
        self.processed_folder = processed_folder
        path.parent.mkdir(parents=True, exist_ok=True)
        self._box = mailbox.Maildir(path, factory=None, create=True)

    def read(self) -> Iterator[Incoming]:
        """Yield each message in the inbox (new and cur), oldest delivery first; changes nothing."""
        listed = []
        for sub in ("new", "cur"):
            for file in (self.path / sub).iterdir():
                if file.name.startswith("."):
                    continue
                try:
                    listed.append((file.stat().st_mtime, file.name.split(":")[0]))
                except FileNotFoundError:
                    continue  # moved by a concurrent producer since listing
        for mtime, key in sorted(listed):
            try:
                raw = self._box.get_bytes(key)
            except KeyError:
                continue  # moved by a concurrent producer since listing: it is that one's now
            yield Incoming(source=self.name, kind="mail", key=key, raw=raw,
                           delivered_at=datetime.fromtimestamp(mtime, UTC))

    def acknowledge(self, incoming: Incoming) -> None:
        """Move the message to the processed folder. A message already moved is fine (idempotent)."""
        try:
            message = self._box.get_message(incoming.key)
        except KeyError:
            return
        folder = self._processed()
        folder.add(message)
        self._box.discard(incoming.key)

    def _processed(self) -> mailbox.Maildir:
        try:
            return self._box.get_folder(self.processed_folder)
        except mailbox.NoSuchMailboxError:
            return self._box.add_folder(self.processed_folder)

    def close(self) -> None:
        self._box.close()
