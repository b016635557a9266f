"""The case system's own data: persons, zaken, their persons and documents (SQLite, sqlite3).

One short-lived connection per call, so the store is safe from uvicorn's worker
threads. Zaak numbers are `ZAAK-<year>-NNNNNNNNNN`, 10 digits, sequential per
database (the row id, given out inside the inserting transaction). Uploaded files
are kept by sha256 in their own folder; the name a user gave is only a column.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sandbox.casesystem.forms import AMOUNT_FIELDS

_SCHEMA = """
CREATE TABLE IF NOT EXISTS personen (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    bsn TEXT NOT NULL UNIQUE,
    voornamen TEXT NOT NULL, tussenvoegsel TEXT, achternaam TEXT NOT NULL, geboortedatum TEXT NOT NULL,
    straat TEXT NOT NULL, huisnummer INTEGER NOT NULL, toevoeging TEXT, postcode TEXT NOT NULL,
    woonplaats TEXT NOT NULL, email TEXT, telefoon TEXT,
    aangemaakt_op TEXT NOT NULL, aangemaakt_door TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS zaken (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    zaaknummer TEXT UNIQUE,
    zaaktype TEXT NOT NULL, omschrijving TEXT NOT NULL, startdatum TEXT NOT NULL, kanaal TEXT NOT NULL,
    extern_kenmerk TEXT,
    inkomen_peilmaand_oud TEXT, inkomen_peilmaand_nieuw TEXT, huur TEXT, huurtoeslag TEXT,
    hypotheekrente TEXT, hypotheekaflossing TEXT, energie TEXT, water TEXT, vermogen TEXT,
    maanden TEXT NOT NULL, iban TEXT, tenaamstelling TEXT, toelichting TEXT, beoordeling TEXT,
    status TEXT NOT NULL, aangemaakt_op TEXT NOT NULL, aangemaakt_door TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS zaken_kenmerk ON zaken (extern_kenmerk);
CREATE TABLE IF NOT EXISTS zaak_personen (
    zaak_id INTEGER NOT NULL REFERENCES zaken (id),
    persoon_id INTEGER NOT NULL REFERENCES personen (id),
    rol TEXT NOT NULL,
    PRIMARY KEY (zaak_id, persoon_id, rol)
);
CREATE TABLE IF NOT EXISTS documenten (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    zaak_id INTEGER NOT NULL REFERENCES zaken (id),
    bestandsnaam TEXT NOT NULL, documenttype TEXT NOT NULL, grootte INTEGER NOT NULL, sha256 TEXT NOT NULL,
    geupload_op TEXT NOT NULL, geupload_door TEXT NOT NULL
);
"""

PERSON_COLUMNS = ("bsn", "voornamen", "tussenvoegsel", "achternaam", "geboortedatum", "straat", "huisnummer",
                  "toevoeging", "postcode", "woonplaats", "email", "telefoon")
CASE_COLUMNS = ("zaaktype", "omschrijving", "startdatum", "kanaal", "extern_kenmerk", *AMOUNT_FIELDS,
                "iban", "tenaamstelling", "toelichting", "beoordeling")


class DuplicatePerson(ValueError):
    """A person with this BSN exists already."""


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _db_value(value: object) -> object:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    return value


class CaseStore:
    """The zaaksysteem's database at `db_path` and its file folder `files_dir`."""

    def __init__(self, db_path: Path, files_dir: Path, number_year: int = 2021) -> None:
        self.db_path = db_path
        self.files_dir = files_dir
        self.number_year = number_year
        db_path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as conn:
            conn.executescript(_SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        conn = sqlite3.connect(self.db_path, timeout=30, isolation_level=None)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA journal_mode = WAL")
        try:
            yield conn
        finally:
            conn.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._connect() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    # persons -------------------------------------------------------------------------------

    def find_person(self, bsn: str) -> dict[str, Any] | None:
        """The person with `bsn`, as a dict of PERSON_COLUMNS, or None."""
        with self._connect() as conn:
            row = conn.execute("SELECT * FROM personen WHERE bsn = ?", (bsn,)).fetchone()
        return dict(row) if row else None

    def create_person(self, values: Mapping[str, object], user: str) -> dict[str, Any]:
        """Store a person (values by PERSON_COLUMNS, already validated). Raises DuplicatePerson."""
        cols = ", ".join(PERSON_COLUMNS)
        marks = ", ".join("?" for _ in PERSON_COLUMNS)
        try:
            with self._transaction() as conn:
                conn.execute(
                    f"INSERT INTO personen ({cols}, aangemaakt_op, aangemaakt_door) VALUES ({marks}, ?, ?)",
                    [*(_db_value(values.get(c)) for c in PERSON_COLUMNS), _now(), user],
                )
        except sqlite3.IntegrityError as exc:
            raise DuplicatePerson(str(values.get("bsn"))) from exc
        person = self.find_person(str(values["bsn"]))
        assert person is not None
        return person

    # cases ---------------------------------------------------------------------------------

    def create_case(self, values: Mapping[str, object], user: str) -> str:
        """Store a zaak with its initiator (and partner) and return its new number.

        Args:
            values: CASE_COLUMNS plus `maanden` (list of month names), `initiator_bsn` and
                optionally `partner_bsn` (both persons must exist).

        Raises:
            LookupError: a person named by BSN does not exist (nothing is stored).
        """
        cols = [*CASE_COLUMNS, "maanden", "status", "aangemaakt_op", "aangemaakt_door"]
        row = [*(_db_value(values.get(c)) for c in CASE_COLUMNS),
               ",".join(values.get("maanden") or []), "concept", _now(), user]  # type: ignore[arg-type]
        with self._transaction() as conn:
            persons = []
            for role, key in (("initiator", "initiator_bsn"), ("partner", "partner_bsn")):
                bsn = values.get(key)
                if not bsn:
                    continue
                found = conn.execute("SELECT id FROM personen WHERE bsn = ?", (bsn,)).fetchone()
                if found is None:
                    raise LookupError(key)
                persons.append((found["id"], role))
            cur = conn.execute(
                f"INSERT INTO zaken ({', '.join(cols)}) VALUES ({', '.join('?' for _ in cols)})", row
            )
            zaak_id = cur.lastrowid
            number = f"ZAAK-{self.number_year}-{zaak_id:010d}"
            conn.execute("UPDATE zaken SET zaaknummer = ? WHERE id = ?", (number, zaak_id))
            conn.executemany("INSERT INTO zaak_personen (zaak_id, persoon_id, rol) VALUES (?, ?, ?)",
                             [(zaak_id, pid, role) for pid, role in persons])
        return number

    def case(self, number: str) -> dict[str, Any] | None:
        """The zaak `number` with `maanden` (list), `personen` and `documenten`, or None."""
        with self._connect() as conn:
            row = conn.execute("SELECT * FROM zaken WHERE zaaknummer = ?", (number,)).fetchone()
            if row is None:
                return None
            return self._expand(conn, row)

    def _expand(self, conn: sqlite3.Connection, row: sqlite3.Row) -> dict[str, Any]:
        case = {k: row[k] for k in row.keys() if k != "id"}
        case["maanden"] = [m for m in (row["maanden"] or "").split(",") if m]
        case["personen"] = [
            {"rol": p["rol"], **{c: p[c] for c in PERSON_COLUMNS}}
            for p in conn.execute(
                "SELECT zp.rol, p.* FROM zaak_personen zp JOIN personen p ON p.id = zp.persoon_id "
                "WHERE zp.zaak_id = ? ORDER BY CASE zp.rol WHEN 'initiator' THEN 0 ELSE 1 END", (row["id"],))
        ]
        case["documenten"] = [
            {"bestandsnaam": d["bestandsnaam"], "documenttype": d["documenttype"], "grootte": d["grootte"],
             "sha256": d["sha256"]}
            for d in conn.execute("SELECT * FROM documenten WHERE zaak_id = ? ORDER BY id", (row["id"],))
        ]
        return case

    def search(self, kenmerk: str) -> list[dict[str, Any]]:
        """Zaken whose extern kenmerk contains `kenmerk` (case-insensitive), oldest first; [] for blank."""
        needle = kenmerk.strip()
        if not needle:
            return []
        with self._connect() as conn:
            rows = conn.execute(
                "SELECT zaaknummer, extern_kenmerk, omschrijving, startdatum, status FROM zaken "
                "WHERE instr(lower(extern_kenmerk), lower(?)) > 0 ORDER BY id", (needle,)).fetchall()
        return [dict(r) for r in rows]

    def set_status(self, number: str, status: str) -> None:
        """Set the zaak's status ('concept' after saving, 'geregistreerd' after Afronden)."""
        with self._transaction() as conn:
            conn.execute("UPDATE zaken SET status = ? WHERE zaaknummer = ?", (status, number))

    def all_cases(self) -> list[dict[str, Any]]:
        """Every zaak, expanded like `case`, oldest first."""
        with self._connect() as conn:
            return [self._expand(conn, r) for r in conn.execute("SELECT * FROM zaken ORDER BY id").fetchall()]

    # documents -----------------------------------------------------------------------------

    def add_document(self, number: str, filename: str, document_type: str, data: bytes, user: str) -> dict[str, Any]:
        """Keep `data` by sha256 and list it on zaak `number`. Raises LookupError for an unknown zaak."""
        digest = hashlib.sha256(data).hexdigest()
        self._write_file(digest, data)
        with self._transaction() as conn:
            row = conn.execute("SELECT id FROM zaken WHERE zaaknummer = ?", (number,)).fetchone()
            if row is None:
                raise LookupError(number)
            conn.execute(
                "INSERT INTO documenten (zaak_id, bestandsnaam, documenttype, grootte, sha256, geupload_op, "
                "geupload_door) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (row["id"], filename, document_type, len(data), digest, _now(), user),
            )
        return {"bestandsnaam": filename, "documenttype": document_type, "grootte": len(data), "sha256": digest}

    def file_path(self, sha256: str) -> Path:
        """Where the file with `sha256` is kept."""
        return self.files_dir / sha256[:2] / sha256

    def _write_file(self, digest: str, data: bytes) -> None:
        path = self.file_path(digest)
        if path.exists():
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
