"""The sandbox portal's own store: submissions and their attachments in one SQLite file.

Loaded from the sample generator's portal folder (`sandbox.samples.writers.write_portal_dir`):
`submissions/<reference>.json` plus `attachments/<id>`. A submission is `new` until
acknowledged, then `received` (portal-api.md, "Acknowledge"); acknowledging again changes
nothing. The stdlib `sqlite3` suffices: one small file, one connection per operation,
so the API's worker threads never share a connection.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

NEW = "new"
RECEIVED = "received"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS submissions (
    reference TEXT PRIMARY KEY,
    form TEXT NOT NULL,
    submitted_at TEXT NOT NULL,          -- ISO 8601 with offset, as the portal shows it
    submitted_utc TEXT NOT NULL,         -- the same instant in UTC, for ordering
    data TEXT NOT NULL,                  -- JSON object: key -> the citizen's string
    status TEXT NOT NULL DEFAULT 'new',
    acknowledged_at TEXT,
    acknowledged_by TEXT,
    external_reference TEXT,
    ack_count INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS attachments (
    id TEXT PRIMARY KEY,
    reference TEXT NOT NULL REFERENCES submissions(reference),
    position INTEGER NOT NULL,
    document_type TEXT,
    filename TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    data BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS submissions_by_status ON submissions(status, form, submitted_utc, reference);
"""


class NotFound(LookupError):
    """No such submission or attachment."""


@dataclass(frozen=True)
class Attachment:
    """One stored attachment (bytes in `data`)."""

    id: str
    reference: str
    document_type: str | None
    filename: str
    content_type: str
    size: int
    sha256: str
    data: bytes


@dataclass(frozen=True)
class Submission:
    """One stored submission; `attachments` without their bytes (`data` is b"")."""

    reference: str
    form: str
    submitted_at: str
    data: dict[str, str]
    status: str
    acknowledged_at: str | None
    acknowledged_by: str | None
    external_reference: str | None
    ack_count: int
    attachments: tuple[Attachment, ...]


class PortalStore:
    """Submissions in the SQLite file `path` (created with its tables when missing).

    `clock` gives the acknowledgement time (aware datetime); injectable for tests.
    """

    def __init__(self, path: Path, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.path = Path(path)
        self._clock = clock
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.executescript(_SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=30)
        db.row_factory = sqlite3.Row
        try:
            with db:  # commit on success, roll back on error
                yield db
        finally:
            db.close()

    # --- loading -------------------------------------------------------------------------------

    def add_submission(self, reference: str, form: str, submitted_at: str, data: dict[str, str],
                       attachments: list[dict[str, Any]] | None = None) -> bool:
        """Add one submission with status `new`; False (nothing changed) when the reference exists.

        `submitted_at`: ISO 8601 with offset. `attachments`: dicts with `id`, `document_type`,
        `filename`, `content_type` and `data` (bytes). Raises ValueError for a naive timestamp.
        """
        moment = datetime.fromisoformat(submitted_at)
        if moment.tzinfo is None:
            raise ValueError(f"{reference}: submitted_at must carry an offset, got {submitted_at!r}")
        with self._connect() as db:
            cursor = db.execute(
                "INSERT OR IGNORE INTO submissions (reference, form, submitted_at, submitted_utc, data) "
                "VALUES (?, ?, ?, ?, ?)",
                (reference, form, submitted_at, moment.astimezone(UTC).isoformat(),
                 json.dumps(data, ensure_ascii=False)))
            if cursor.rowcount == 0:
                return False
            for position, att in enumerate(attachments or []):
                blob = att["data"]
                db.execute(
                    "INSERT INTO attachments (id, reference, position, document_type, filename, content_type, "
                    "size, sha256, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (att["id"], reference, position, att.get("document_type"), att["filename"],
                     att["content_type"], len(blob), hashlib.sha256(blob).hexdigest(), blob))
        return True

    def load_dir(self, portal_dir: Path) -> tuple[int, int]:
        """Load every `submissions/*.json` of a generator portal folder; returns (added, already there).

        Submissions already in the store keep their status, so reloading is harmless.
        Raises FileNotFoundError when the folder has no `submissions/`, ValueError when a
        file's bytes do not match the sha256 its JSON records (file named).
        """
        folder = Path(portal_dir) / "submissions"
        if not folder.is_dir():
            raise FileNotFoundError(f"no submissions/ folder in {portal_dir}")
        added = kept = 0
        for path in sorted(folder.glob("*.json")):
            record = json.loads(path.read_text(encoding="utf-8"))
            attachments = []
            for att in record.get("attachments", []):
                file = Path(portal_dir) / att["file"]
                blob = file.read_bytes()
                if "sha256" in att and hashlib.sha256(blob).hexdigest() != att["sha256"]:
                    raise ValueError(f"{file}: sha256 differs from the one recorded in {path.name}")
                attachments.append({**att, "data": blob})
            if self.add_submission(record["reference"], record["form"], record["submitted_at"], record["data"],
                                   attachments):
                added += 1
            else:
                kept += 1
        return added, kept

    # --- reading -------------------------------------------------------------------------------

    def _attachments(self, db: sqlite3.Connection, reference: str, with_data: bool) -> tuple[Attachment, ...]:
        rows = db.execute("SELECT * FROM attachments WHERE reference = ? ORDER BY position", (reference,))
        return tuple(Attachment(id=r["id"], reference=r["reference"], document_type=r["document_type"],
                                filename=r["filename"], content_type=r["content_type"], size=r["size"],
                                sha256=r["sha256"], data=r["data"] if with_data else b"") for r in rows)

    def _submission(self, db: sqlite3.Connection, row: sqlite3.Row) -> Submission:
        return Submission(reference=row["reference"], form=row["form"], submitted_at=row["submitted_at"],
                          data=json.loads(row["data"]), status=row["status"],
                          acknowledged_at=row["acknowledged_at"], acknowledged_by=row["acknowledged_by"],
                          external_reference=row["external_reference"], ack_count=row["ack_count"],
                          attachments=self._attachments(db, row["reference"], with_data=False))

    def page(self, status: str | None, form: str | None, offset: int, limit: int) -> tuple[int, list[Submission]]:
        """(count of all matching, the `limit` submissions from `offset`), oldest first."""
        where, args = [], []
        if status is not None:
            where.append("status = ?")
            args.append(status)
        if form is not None:
            where.append("form = ?")
            args.append(form)
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        with self._connect() as db:
            count = db.execute(f"SELECT COUNT(*) FROM submissions {clause}", args).fetchone()[0]
            rows = db.execute(f"SELECT * FROM submissions {clause} ORDER BY submitted_utc, reference "
                              "LIMIT ? OFFSET ?", [*args, limit, offset]).fetchall()
            return count, [self._submission(db, row) for row in rows]

    def all(self) -> list[Submission]:
        """Every submission, oldest first."""
        return self.page(None, None, 0, 2**62)[1]

    def get(self, reference: str) -> Submission:
        """One submission. Raises NotFound."""
        with self._connect() as db:
            row = db.execute("SELECT * FROM submissions WHERE reference = ?", (reference,)).fetchone()
            if row is None:
                raise NotFound(reference)
            return self._submission(db, row)

    def attachment(self, reference: str, attachment_id: str) -> Attachment:
        """One attachment with its bytes. Raises NotFound."""
        with self._connect() as db:
            for att in self._attachments(db, reference, with_data=True):
                if att.id == attachment_id:
                    return att
        raise NotFound(f"{reference}/{attachment_id}")

    # --- acknowledging -------------------------------------------------------------------------

    def acknowledge(self, reference: str, external_reference: str | None, actor: str) -> Submission:
        """Mark `reference` received. The first acknowledgement records time, actor and external
        reference; later ones only count (`ack_count`). Raises NotFound."""
        now = self._clock().isoformat()
        with self._connect() as db:
            cursor = db.execute(
                "UPDATE submissions SET status = ?, acknowledged_at = ?, acknowledged_by = ?, "
                "external_reference = ?, ack_count = ack_count + 1 WHERE reference = ? AND status = ?",
                (RECEIVED, now, actor, external_reference, reference, NEW))
            if cursor.rowcount == 0:
                cursor = db.execute("UPDATE submissions SET ack_count = ack_count + 1 WHERE reference = ?",
                                    (reference,))
                if cursor.rowcount == 0:
                    raise NotFound(reference)
        return self.get(reference)

    def reset(self) -> int:
        """Put every submission back to `new` (tests, repeated demos); returns how many changed."""
        with self._connect() as db:
            return db.execute("UPDATE submissions SET status = ?, acknowledged_at = NULL, acknowledged_by = NULL, "
                              "external_reference = NULL, ack_count = 0 WHERE status != ?", (NEW, NEW)).rowcount
