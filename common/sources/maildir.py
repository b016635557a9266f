"""A Maildir mailbox as a source (the embedded default; stdlib `mailbox`).

Unprocessed mail is whatever sits in the Maildir's `new/` and `cur/`; acknowledging
moves the message file into the Maildir++ sub-folder `processed_folder` with one
`rename` (atomic on one file system), so a crash leaves the message in exactly one
place and the robot never deletes mail. A message in `new/` (unread) stays unread in
the processed folder; flags of a message in `cur/` are kept.
"""

from __future__ import annotations

import mailbox
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from common.errors import SystemException
from common.logging import get_logger
from common.sources.base import Incoming

log = get_logger(__name__)


class MaildirSource:
    """Reads `path` (created if missing); acknowledged messages move to folder `processed_folder`.

    Args:
        name: the configured source name.
        path: the Maildir's folder.
        processed_folder: the Maildir++ sub-folder for processed mail (e.g. `processed`; on disk `.processed`).
        read_only: never move anything (`softbot intake --from PATH`: the folder is the administrator's);
            the Maildir must exist then.
    """

    def __init__(self, name: str, path: Path, processed_folder: str = "processed", *, read_only: bool = False) -> None:
        self.name = name
        self.path = path
        self.processed_folder = processed_folder
        self.read_only = read_only
        if not read_only:
            path.parent.mkdir(parents=True, exist_ok=True)
        self._box = mailbox.Maildir(path, factory=None, create=not read_only)
        self._where: dict[str, str] = {}  # key -> "new/<file>" or "cur/<file>" as last seen

    def _listing(self) -> list[tuple[float, str, str]]:
        listed = []
        for sub in ("new", "cur"):
            with os.scandir(self.path / sub) as entries:
                for entry in entries:
                    if entry.name.startswith("."):
                        continue
                    try:
                        mtime = entry.stat().st_mtime
                    except FileNotFoundError:
                        continue  # moved by a concurrent producer since listing
                    listed.append((mtime, entry.name.split(":")[0], f"{sub}/{entry.name}"))
        return sorted(listed)

    def read(self) -> Iterator[Incoming]:
        """Yield each message in the inbox (new and cur), oldest delivery first; changes nothing."""
        listed = self._listing()
        for mtime, key, where in listed:
            try:
                raw = (self.path / where).read_bytes()
            except FileNotFoundError:
                try:
                    raw = self._box.get_bytes(key)  # flags changed by a mail program since listing
                except KeyError:
                    continue  # moved by a concurrent producer since listing: it is that one's now
            self._where[key] = where
            yield Incoming(source=self.name, kind="mail", key=key, raw=raw,
                           delivered_at=datetime.fromtimestamp(mtime, UTC), total=len(listed))

    def _current(self, key: str) -> str | None:
        """Where message `key` is now ("new/<file>" / "cur/<file>"), or None when it is not in the inbox."""
        remembered = self._where.get(key)
        if remembered and (self.path / remembered).exists():
            return remembered
        for sub in ("new", "cur"):
            for name in os.listdir(self.path / sub):
                if name == key or name.startswith(key + ":"):
                    return f"{sub}/{name}"
        return None

    def acknowledge(self, incoming: Incoming) -> None:
        """Move the message to the processed folder (one rename). A message already moved is fine (idempotent).

        Raises SystemException("maildir.move") when the file system refuses the move.
        """
        if self.read_only:
            return
        where = self._current(incoming.key)
        if where is None:
            log.info("maildir_already_moved", source=self.name, key=incoming.key)
            return
        folder = self._processed_path()
        try:
            os.rename(self.path / where, folder / where)
        except FileNotFoundError:
            return  # moved since we looked
        except OSError as exc:
            raise SystemException("maildir.move", f"{self.name}: cannot move {where} to {folder}: {exc}") from exc
        self._where.pop(incoming.key, None)

    def _processed_path(self) -> Path:
        try:
            self._box.get_folder(self.processed_folder)
        except mailbox.NoSuchMailboxError:
            self._box.add_folder(self.processed_folder)
        return self.path / f".{self.processed_folder}"

    def check(self) -> str:
        """`"Maildir <path>: <n> message(s) waiting"`. Raises SystemException("maildir.unusable")."""
        missing = [sub for sub in ("cur", "new", "tmp") if not (self.path / sub).is_dir()]
        if missing:
            raise SystemException("maildir.unusable", f"{self.path} is not a Maildir (no {', '.join(missing)}/)")
        if not all(os.access(self.path / sub, os.R_OK | os.W_OK | os.X_OK) for sub in ("cur", "new", "tmp")):
            raise SystemException("maildir.unusable", f"Maildir {self.path}: no permission to read and move mail")
        return f"Maildir {self.path}: {len(self._listing())} message(s) waiting"

    def close(self) -> None:
        self._box.close()
