"""Retention: `softbot purge` removes each kind of stored personal data after its period in config.

DESIGN.md ("Embedded default"): every kind of stored personal data has a retention period
(`retention:` in config/softbot.yaml, in days; `common.config.RetentionSettings`) and one purge
command applies them all:

| kind                | what goes                                                  | dated by                    |
|---------------------|------------------------------------------------------------|-----------------------------|
| `raw_inputs`        | bytes of documents with role `raw` (the .eml, the JSON)    | the item's closing (*)      |
| `documents`         | bytes of every other document (attachments)                | the item's closing (*)      |
| `closed_items`      | rows of done/resolved items with their events, documents, keys | the item's closing (*)  |
| `failure_artefacts` | `runs/<run-id>/failures/<item-id>/attempt-<n>/` folders    | newest file in the folder   |
| `run_logs`          | `runs/<run-id>/` folders (log, summary, report, exports)   | newest file, reports aside  |

(*) `updated_at` of a `done` or `resolved` item: both states are final, so it is when the item closed.

Rules that hold whatever the periods are:

- Items that are pending, in_progress or failed are never touched: the exception queue is a
  caseworker's work. Their failure artefacts are kept too, even inside an expired run folder.
- The document store is content-addressed (`common/storage.py`): one file may back several
  document rows. A file is deleted only when no document row that is kept still points at the
  same sha256; the purged rows get `storage_key = None` and their item a `purged` event.
- Only folders whose name is a run id are run folders: `runs/data/`, `runs/sandbox/` or anything
  else under `runs/` is never touched. A run that still holds its bot's lock is skipped.
- A run report embeds screenshots, so after its failure artefacts go the report is rebuilt
  from the database (or removed, when its run is not in the database).
- Rows of closed items go first (their files with them, by the same rule), so no `purged` events
  are written on items about to be deleted; then raw inputs, documents, run folders, artefacts.
- `dry_run` reports the same counts and writes nothing.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from common.config import Settings
from common.db import Database, utcnow
from common.logging import get_logger
from common.reports import REPORT_FILES, ReportError, build_report
from common.storage import BlobStore
from common.workqueue.items import State
from common.workqueue.models import BotLockRow, DocumentRow, EventRow, KeyRow, WorkItemRow

log = get_logger(__name__)

KINDS = ("raw_inputs", "documents", "failure_artefacts", "run_logs", "closed_items")
CLOSED = (State.DONE.value, State.RESOLVED.value)
#: `common.runs.new_run_id`: `20211012T081500Z-tonk-3fa9c1`
RUN_ID = re.compile(r"\d{8}T\d{6}Z-.+-[0-9a-f]{6}")
_ATTEMPT = re.compile(r"attempt-\d+")
_CHUNK = 500
ACTOR = "purge"


@dataclass
class KindResult:
    """What purge removed (or, in a dry run, would remove) of one kind.

    Attributes:
        kind: one of KINDS; days: its retention period; cutoff: data older than this went (aware UTC).
        removed: how many `unit`s (documents, items, attempt folders, run folders).
        files: files deleted (blobs, or files inside folders); bytes: their total size.
        kept: how many were kept although old enough, and `kept_why` says why.
        detail: extra counts (e.g. events and documents of deleted items, reports rebuilt).
    """

    kind: str
    days: int
    cutoff: datetime
    unit: str
    removed: int = 0
    files: int = 0
    bytes: int = 0
    kept: int = 0
    kept_why: str = ""
    detail: dict[str, int] = field(default_factory=dict)


@dataclass
class PurgeResult:
    """All kinds, in the order of KINDS."""

    now: datetime
    dry_run: bool
    kinds: list[KindResult]

    def __getitem__(self, kind: str) -> KindResult:
        return next(k for k in self.kinds if k.kind == kind)


@dataclass
class _Plan:
    """What this purge has removed so far (so a dry run counts each row and file once, like a real one)."""

    purged_documents: set[int] = field(default_factory=set)
    deleted_keys: set[str] = field(default_factory=set)
    removed_folders: set[Path] = field(default_factory=set)


#: wall-clock seconds a blob is left alone after it was written or reused (see BlobStore.put)
BLOB_GRACE_SECONDS = 3600


def purge(db: Database, settings: Settings, *, dry_run: bool = False,
          clock: Callable[[], datetime] = utcnow) -> PurgeResult:
    """Apply every retention period of `settings.retention` to `db`, the blob store and the run folders.

    Args:
        dry_run: count what would go; delete and record nothing.
        clock: aware UTC now (tests inject one; the samples are dated 2021).

    Raises:
        OSError: a file or folder could not be removed (what was already removed stays removed,
            and rows are only changed in the same transaction as the counts that go with them).
    """
    now = clock()
    periods = settings.retention
    blobs = BlobStore(settings.data_dir / "blobs")
    plan = _Plan()
    results: dict[str, KindResult] = {}

    def result(kind: str, unit: str) -> KindResult:
        days = getattr(periods, kind)
        results[kind] = KindResult(kind=kind, days=days, cutoff=now - timedelta(days=days), unit=unit)
        return results[kind]

    # rows first: an item about to be deleted needs no `purged` events on its documents
    _purge_items(db, blobs, result("closed_items", "items"), plan=plan, dry_run=dry_run)
    _purge_documents(db, blobs, result("raw_inputs", "documents"), raw=True, plan=plan, dry_run=dry_run, now=now)
    _purge_documents(db, blobs, result("documents", "documents"), raw=False, plan=plan, dry_run=dry_run, now=now)
    _purge_run_folders(db, settings, result("run_logs", "run folders"), plan=plan, dry_run=dry_run, now=now)
    _purge_failure_artefacts(db, settings, result("failure_artefacts", "attempt folders"), plan=plan,
                             dry_run=dry_run)
    outcome = PurgeResult(now=now, dry_run=dry_run, kinds=[results[k] for k in KINDS])
    for k in outcome.kinds:
        log.debug("purge", kind=k.kind, days=k.days, removed=k.removed, files=k.files, bytes=k.bytes, kept=k.kept,
                 dry_run=dry_run, **k.detail)
    return outcome


# -- documents and item rows ------------------------------------------------------------------------

def _chunks(values: Iterable[Any]) -> list[list[Any]]:
    ordered = sorted(values)
    return [ordered[i : i + _CHUNK] for i in range(0, len(ordered), _CHUNK)]


def _doomed_keys(s: sa.orm.Session, going: Sequence[Any], plan: _Plan) -> set[str]:
    """Storage keys of `going` (rows with id, sha256, storage_key) that no kept document row shares."""
    leaving = {row.id for row in going} | plan.purged_documents
    shared: set[str] = set()
    for chunk in _chunks({row.sha256 for row in going}):
        for doc_id, sha in s.execute(sa.select(DocumentRow.id, DocumentRow.sha256).where(
                DocumentRow.sha256.in_(chunk), DocumentRow.storage_key.is_not(None))).all():
            if doc_id not in leaving:
                shared.add(sha)
    return {row.storage_key for row in going if row.sha256 not in shared} - plan.deleted_keys


def _delete_blobs(blobs: BlobStore, keys: set[str], result: KindResult, plan: _Plan, dry_run: bool) -> None:
    """Delete the files of `keys` (after the rows no longer point at them), counting files and bytes."""
    for key in sorted(keys):
        path = blobs.path(key)
        if not path.exists():
            log.warning("purge_blob_missing", key=key)
            continue
        info = path.stat()
        if time.time() - info.st_mtime < BLOB_GRACE_SECONDS:
            # a producer may be storing the same bytes for a new item right now (BlobStore.put touches it)
            result.kept += 1
            continue
        size = info.st_size
        if not dry_run:
            blobs.delete(key)
        plan.deleted_keys.add(key)
        result.files += 1
        result.bytes += size


def _purge_documents(db: Database, blobs: BlobStore, result: KindResult, *, raw: bool, plan: _Plan,
                     dry_run: bool, now: datetime) -> None:
    """Drop the bytes of raw inputs (`raw`) or of the other documents of items closed before the cutoff."""
    role = DocumentRow.role == "raw" if raw else DocumentRow.role != "raw"
    with db.session() as s:
        going = [row for row in s.execute(
            sa.select(DocumentRow.id, DocumentRow.item_id, DocumentRow.sha256, DocumentRow.storage_key,
                      DocumentRow.size, WorkItemRow.state)
            .join(WorkItemRow, WorkItemRow.id == DocumentRow.item_id)
            .where(WorkItemRow.state.in_(CLOSED), WorkItemRow.updated_at < result.cutoff,
                   DocumentRow.storage_key.is_not(None), role)).all()
                 if row.id not in plan.purged_documents]
        keys = _doomed_keys(s, going, plan)
        shared = len({row.storage_key for row in going} - keys - plan.deleted_keys)
        if not dry_run:
            for chunk in _chunks(row.id for row in going):
                s.execute(sa.update(DocumentRow).where(DocumentRow.id.in_(chunk)).values(storage_key=None))
            per_item: dict[int, list[Any]] = {}
            for row in going:
                per_item.setdefault(row.item_id, []).append(row)
            for item_id, rows in per_item.items():
                s.add(EventRow(item_id=item_id, run_id=None, actor=ACTOR, from_state=rows[0].state,
                               to_state=rows[0].state, reason="purged", at=now,
                               details={"kind": result.kind, "documents": sorted(r.id for r in rows),
                                        "days": result.days}))
    plan.purged_documents |= {row.id for row in going}
    result.removed = len(going)
    result.detail["items"] = len({row.item_id for row in going})
    result.kept, result.kept_why = shared, "files still used by a kept document"
    _delete_blobs(blobs, keys, result, plan, dry_run)


def _purge_items(db: Database, blobs: BlobStore, result: KindResult, *, plan: _Plan, dry_run: bool) -> None:
    """Delete done/resolved items closed before the cutoff, with their events, documents and keys."""
    closed_before = sa.and_(WorkItemRow.state.in_(CLOSED), WorkItemRow.updated_at < result.cutoff)
    with db.session() as s:
        ids = list(s.scalars(sa.select(WorkItemRow.id).where(closed_before)).all())
        docs: list[Any] = []
        events = 0
        for chunk in _chunks(ids):
            docs += s.execute(sa.select(DocumentRow.id, DocumentRow.sha256, DocumentRow.storage_key)
                              .where(DocumentRow.item_id.in_(chunk))).all()
            events += s.scalar(sa.select(sa.func.count()).select_from(EventRow).where(EventRow.item_id.in_(chunk)))
        stored = [d for d in docs if d.storage_key is not None and d.id not in plan.purged_documents]
        keys = _doomed_keys(s, stored, plan)
        if not dry_run:
            for chunk in _chunks(ids):
                for table in (KeyRow, EventRow, DocumentRow):
                    s.execute(sa.delete(table).where(table.item_id.in_(chunk)))
                s.execute(sa.delete(WorkItemRow).where(WorkItemRow.id.in_(chunk), closed_before))
    plan.purged_documents |= {d.id for d in docs}
    result.removed = len(ids)
    result.detail.update(events=events, documents=len(docs))
    _delete_blobs(blobs, keys, result, plan, dry_run)


# -- folders ----------------------------------------------------------------------------------------

def _rmtree(path: Path) -> None:
    """Remove a folder tree; a file that is already gone (another purge got there first) is fine."""
    def ignore_missing(_function: Any, _path: str, error: Any) -> None:
        error = error[1] if isinstance(error, tuple) else error
        if not isinstance(error, FileNotFoundError):
            raise error

    if sys.version_info >= (3, 12):
        shutil.rmtree(path, onexc=ignore_missing)
    else:
        shutil.rmtree(path, onerror=ignore_missing)


def _tree(path: Path, skip: Iterable[Path] = (), top_level_ignore: Iterable[str] = ()
          ) -> tuple[int, int, datetime | None]:
    """Files, bytes and the newest file's mtime (aware UTC) under `path`, leaving out `skip` subtrees
    and, for the newest time only, files named in `top_level_ignore` directly in `path`."""
    skipped = {p.resolve() for p in skip}
    ignored = set(top_level_ignore)
    files = size = 0
    newest: float | None = None
    for root, dirs, names in os.walk(path):
        here = Path(root)
        dirs[:] = [d for d in dirs if (here / d).resolve() not in skipped]
        for name in names:
            info = (here / name).lstat()
            files += 1
            size += info.st_size
            if not (here == path and name in ignored):
                newest = info.st_mtime if newest is None else max(newest, info.st_mtime)
    return files, size, datetime.fromtimestamp(newest, UTC) if newest is not None else None


def run_folders(settings: Settings) -> list[Path]:
    """Folders directly in `runs_dir` whose name is a run id (never the data directory, never a symlink)."""
    root = settings.runs_dir
    if not root.is_dir():
        return []
    data = settings.data_dir.resolve()
    found = []
    for entry in sorted(root.iterdir()):
        if not RUN_ID.fullmatch(entry.name) or entry.is_symlink() or not entry.is_dir():
            continue
        real = entry.resolve()
        if real == data or data.is_relative_to(real):
            continue
        found.append(entry)
    return found


def _open_items(db: Database, ids: Iterable[int]) -> set[int]:
    """Which of `ids` are items still open (pending, in_progress, failed); a purged item is not open."""
    open_ids: set[int] = set()
    with db.session() as s:
        for chunk in _chunks(set(ids)):
            open_ids |= set(s.scalars(sa.select(WorkItemRow.id).where(
                WorkItemRow.id.in_(chunk), WorkItemRow.state.not_in(CLOSED))).all())
    return open_ids


def _failure_items(run_folder: Path) -> dict[int, Path]:
    """`failures/<item-id>/` folders of a run, by item id (other entries are left alone)."""
    root = run_folder / "failures"
    if not root.is_dir():
        return {}
    return {int(p.name): p for p in root.iterdir() if p.name.isdigit() and p.is_dir() and not p.is_symlink()}


def _active_runs(db: Database, now: datetime) -> set[str]:
    with db.session() as s:
        return set(s.scalars(sa.select(BotLockRow.run_id).where(BotLockRow.expires_at >= now,
                                                                BotLockRow.run_id.is_not(None))).all())


def _purge_run_folders(db: Database, settings: Settings, result: KindResult, *, plan: _Plan, dry_run: bool,
                       now: datetime) -> None:
    """Remove run folders whose newest file (report files aside) is older than the cutoff.

    Failure artefacts of items still open stay (the rest of the folder goes); a run holding its
    bot's lock is skipped. An empty run folder goes whatever its age.
    """
    active = _active_runs(db, now)
    kept_open = 0
    for folder in run_folders(settings):
        if folder.name in active:
            continue
        failures = _failure_items(folder)
        keep = [failures[i] for i in _open_items(db, failures)]
        files, size, newest = _tree(folder, skip=keep, top_level_ignore=REPORT_FILES)
        if (newest is not None and newest >= result.cutoff) or (keep and not files):
            continue
        plan.removed_folders.add(folder)
        result.removed += 1
        result.files += files
        result.bytes += size
        kept_open += len(keep)
        if dry_run:
            continue
        if not keep:
            _rmtree(folder)
            continue
        kept = {p.resolve() for p in keep}
        for root, dirs, names in os.walk(folder, topdown=True):
            here = Path(root)
            dirs[:] = [d for d in dirs if (here / d).resolve() not in kept]
            for name in names:
                (here / name).unlink(missing_ok=True)
        _remove_empty_dirs(folder)
    result.kept, result.kept_why = kept_open, "failure artefacts of items still open, kept in their run folder"


def _remove_empty_dirs(folder: Path) -> None:
    """Remove empty folders below `folder` (deepest first), and `folder` itself when empty."""
    for root, _dirs, _names in sorted(os.walk(folder), key=lambda entry: -len(Path(entry[0]).parts)):
        path = Path(root)
        if path.is_dir() and not any(path.iterdir()):
            path.rmdir()


def _purge_failure_artefacts(db: Database, settings: Settings, result: KindResult, *, plan: _Plan,
                             dry_run: bool) -> None:
    """Remove `attempt-<n>` folders whose newest file is older than the cutoff, except of open items;
    then rebuild the run's report (it embeds screenshots), or remove it when the run is unknown."""
    kept_open = rebuilt = dropped = 0
    for folder in run_folders(settings):
        # in a dry run, a folder run_logs would remove is still here: its attempts are counted there
        counted = dry_run and folder in plan.removed_folders
        failures = _failure_items(folder)
        open_ids = _open_items(db, failures)
        removed_here = 0
        for item_id, item_dir in sorted(failures.items()):
            attempts = [p for p in item_dir.iterdir() if _ATTEMPT.fullmatch(p.name) and p.is_dir()
                        and not p.is_symlink()]
            if item_id in open_ids:
                kept_open += len(attempts)
                continue
            if counted:
                continue
            for attempt in attempts:
                files, size, newest = _tree(attempt)
                if newest is None:  # no file yet: dated by the folder itself (it may be being written)
                    newest = datetime.fromtimestamp(attempt.lstat().st_mtime, UTC)
                if newest is not None and newest >= result.cutoff:
                    continue
                result.removed += 1
                result.files += files
                result.bytes += size
                removed_here += 1
                if not dry_run:
                    _rmtree(attempt)
        if dry_run or not removed_here:
            continue
        _remove_empty_dirs(folder / "failures")
        if (folder / REPORT_FILES[0]).exists():
            try:
                build_report(db, settings, folder.name)
                rebuilt += 1
            except ReportError as exc:
                log.warning("purge_report_removed", run_id=folder.name, reason=exc.code)
                (folder / REPORT_FILES[0]).unlink(missing_ok=True)
                dropped += 1
    result.kept, result.kept_why = kept_open, "attempts of items still open (failed, pending, in progress)"
    result.detail.update(reports_rebuilt=rebuilt, reports_removed=dropped)
