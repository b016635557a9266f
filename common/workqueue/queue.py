"""The work queue: add, reserve under a lease, finish, and the caseworker's actions.

Every change is a conditional UPDATE (on state, lease owner or version) in one
transaction with its event row, so two runners, or a runner and a caseworker,
never both win. On PostgreSQL, reservation also uses `FOR UPDATE SKIP LOCKED`
so runners do not queue behind each other.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from common.db import Database, utcnow
from common.storage import BlobStore
from common.workqueue.items import (
    TRANSITIONS,
    WAIVED_KEY,
    AddResult,
    Document,
    Event,
    Failure,
    FailureKind,
    InvalidTransition,
    ItemNotFound,
    LeaseLost,
    NewItem,
    StaleItem,
    State,
    WorkItem,
)
from common.workqueue.models import DocumentRow, EventRow, KeyRow, WorkItemRow

Clock = Callable[[], datetime]


def _snapshot(row: WorkItemRow, documents: Sequence[DocumentRow] = ()) -> WorkItem:
    return WorkItem(
        id=row.id, queue=row.queue, reference=row.reference, state=State(row.state),
        failure_kind=FailureKind(row.failure_kind) if row.failure_kind else None,
        reason_codes=list(row.reason_codes or []), message=row.message, findings=list(row.findings or []),
        payload=dict(row.payload or {}), corrections=dict(row.corrections or {}), source=row.source,
        channel=row.channel, received_at=row.received_at, priority=row.priority, not_before=row.not_before,
        attempts=row.attempts, lease_owner=row.lease_owner, lease_expires_at=row.lease_expires_at,
        submission_started_at=row.submission_started_at, result=row.result, result_ref=row.result_ref,
        version=row.version, created_at=row.created_at, updated_at=row.updated_at,
        documents=[Document(id=d.id, role=d.role, document_type=d.document_type, filename=d.filename,
                            content_type=d.content_type, size=d.size, sha256=d.sha256,
                            storage_key=d.storage_key) for d in documents],
    )


class WorkQueue:
    """The work items of one queue (one bot) in `db`; document bytes in `blobs`.

    Args:
        db: the project database.
        name: the queue's name (the bot's name unless configured otherwise).
        blobs: where document bytes are stored.
        clock: returns aware UTC now; tests inject their own.
    """

    def __init__(self, db: Database, name: str, blobs: BlobStore, clock: Clock = utcnow) -> None:
        self.db = db
        self.name = name
        self.blobs = blobs
        self.clock = clock

    # -- producer ---------------------------------------------------------------------------------

    def add(self, new: NewItem, *, actor: str, run_id: str | None = None) -> AddResult:
        """Add one item, or record a duplicate when its reference is already in this queue.

        Document bytes are stored before the row is committed (idempotent), so a crash
        in between leaves at most an unreferenced blob, never a row without its file.
        Returns AddResult(created=False) for a known reference, after adding a
        `duplicate_received` event to the existing item.
        """
        for attempt in range(2):
            existing = self._find_reference(new.reference)
            if existing is not None:
                return self._record_duplicate(existing, new, actor, run_id)
            stored = [(doc, self.blobs.put(doc.data)) for doc in new.documents]
            try:
                return self._insert(new, stored, actor, run_id)
            except IntegrityError:
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def _find_reference(self, reference: str) -> tuple[int, str] | None:
        with self.db.session() as s:
            row = s.execute(sa.select(WorkItemRow.id, WorkItemRow.state).where(
                WorkItemRow.queue == self.name, WorkItemRow.reference == reference)).first()
        return (row[0], row[1]) if row else None

    def _record_duplicate(self, existing: tuple[int, str], new: NewItem, actor: str,
                          run_id: str | None) -> AddResult:
        item_id, state = existing
        with self.db.session() as s:
            s.add(EventRow(item_id=item_id, run_id=run_id, actor=actor, from_state=state, to_state=state,
                           reason="duplicate_received", at=self.clock(),
                           details={"source": new.source, "channel": new.channel}))
        return AddResult(item_id=item_id, created=False, state=State(state))

    def _insert(self, new: NewItem, stored: list[Any], actor: str, run_id: str | None) -> AddResult:
        now = self.clock()
        failure = new.failure
        state = State.FAILED if failure else State.PENDING
        with self.db.session() as s:
            row = WorkItemRow(
                queue=self.name, reference=new.reference, state=state.value,
                failure_kind=failure.kind.value if failure else None,
                reason_codes=list(failure.codes) if failure else [], message=failure.message if failure else None,
                findings=list(failure.findings) if failure else [], payload=new.payload, corrections={},
                source=new.source, channel=new.channel, received_at=new.received_at, priority=new.priority,
                attempts=0, version=1, created_at=now, updated_at=now)
            s.add(row)
            s.flush()
            for doc, blob in stored:
                s.add(DocumentRow(item_id=row.id, role=doc.role, document_type=doc.document_type,
                                  filename=doc.filename, content_type=doc.content_type,
                                  declared_content_type=doc.declared_content_type, size=blob.size,
                                  sha256=blob.sha256, storage_key=blob.key, created_at=now))
            s.add(EventRow(item_id=row.id, run_id=run_id, actor=actor, from_state=None, to_state=state.value,
                           reason=failure.codes[0] if failure else "received", at=now,
                           details={"source": new.source, "channel": new.channel}))
            item_id = row.id
        return AddResult(item_id=item_id, created=True, state=state)

    # -- consumer ---------------------------------------------------------------------------------

    def reserve(self, owner: str, *, lease_seconds: int, max_attempts: int,
                run_id: str | None = None) -> WorkItem | None:
        """Take the next due item under a lease for `owner`, or None when nothing is due.

        Due: `pending` with `not_before` passed, or `in_progress` whose lease expired
        (its runner died; that attempt counts). Highest priority first, then oldest.
        An expired item that has used up `max_attempts` goes to `failed`/system
        (`lease.expired`) instead, so an item that kills its runner stops.
        """
        while True:
            now = self.clock()
            with self.db.session() as s:
                query = (sa.select(WorkItemRow.id, WorkItemRow.state, WorkItemRow.attempts,
                                   WorkItemRow.lease_owner, WorkItemRow.version)
                         .where(WorkItemRow.queue == self.name)
                         .where(sa.or_(
                             sa.and_(WorkItemRow.state == State.PENDING.value,
                                     sa.or_(WorkItemRow.not_before.is_(None), WorkItemRow.not_before <= now)),
                             sa.and_(WorkItemRow.state == State.IN_PROGRESS.value,
                                     WorkItemRow.lease_expires_at < now)))
                         .order_by(WorkItemRow.priority.desc(), WorkItemRow.id).limit(1))
                if self.db.dialect == "postgresql":
                    query = query.with_for_update(skip_locked=True)
                candidate = s.execute(query).first()
                if candidate is None:
                    return None
                item_id, state, attempts, old_owner, version = candidate
                if state == State.IN_PROGRESS.value and attempts >= max_attempts:
                    self._update(s, item_id, version, State.IN_PROGRESS, State.FAILED, actor=owner,
                                 run_id=run_id, reason="lease.expired",
                                 details={"attempts": attempts, "last_owner": old_owner},
                                 failure_kind=FailureKind.SYSTEM.value, reason_codes=["lease.expired"],
                                 message=f"De robot stopte {attempts} keer tijdens deze zaak (lease verlopen).",
                                 lease_owner=None, lease_expires_at=None)
                    continue
                taken = self._update(
                    s, item_id, version, State(state), State.IN_PROGRESS, actor=owner, run_id=run_id,
                    reason="lease_expired_taken_over" if state == State.IN_PROGRESS.value else "reserved",
                    details={"attempt": attempts + 1, **({"last_owner": old_owner} if old_owner else {})},
                    lease_owner=owner, lease_expires_at=now + timedelta(seconds=lease_seconds),
                    attempts=attempts + 1, not_before=None, check=False)
            if taken:
                return self.get(item_id)
            # another runner won this one: look again

    def heartbeat(self, item_id: int, owner: str, *, lease_seconds: int) -> datetime:
        """Extend `owner`'s lease on the item; returns the new expiry. Raises LeaseLost."""
        expires = self.clock() + timedelta(seconds=lease_seconds)
        with self.db.session() as s:
            done = s.execute(sa.update(WorkItemRow).where(
                WorkItemRow.id == item_id, WorkItemRow.lease_owner == owner,
                WorkItemRow.state == State.IN_PROGRESS.value).values(lease_expires_at=expires)).rowcount
        if not done:
            raise LeaseLost(f"item {item_id}: lease no longer held by {owner}")
        return expires

    def mark_submission_started(self, item_id: int, owner: str, *, run_id: str | None = None,
                                details: Mapping[str, Any] | None = None) -> None:
        """Record that the irreversible step (e.g. saving the case) is about to happen. Raises LeaseLost."""
        with self.db.session() as s:
            row = self._leased(s, item_id, owner)
            if row.submission_started_at is None:
                row.submission_started_at = self.clock()
            self._event(s, item_id, run_id, owner, State.IN_PROGRESS, State.IN_PROGRESS,
                        "submission_started", dict(details or {}))

    def mark_submitted(self, item_id: int, owner: str, *, result_ref: str, run_id: str | None = None,
                       details: Mapping[str, Any] | None = None) -> None:
        """Record the result of the irreversible step (e.g. the new zaak's number) as soon as it shows.

        Sets `result_ref` while the item is still in progress, so a later attempt (after a crash or
        a retry) knows it; event `submitted`. Raises LeaseLost.
        """
        with self.db.session() as s:
            row = self._leased(s, item_id, owner)
            row.result_ref = result_ref
            row.updated_at = self.clock()
            self._event(s, item_id, run_id, owner, State.IN_PROGRESS, State.IN_PROGRESS, "submitted",
                        {"result_ref": result_ref, **(details or {})})

    def record_attempt(self, item_id: int, owner: str, *, code: str, message: str,
                       run_id: str | None = None, details: Mapping[str, Any] | None = None) -> int:
        """Count one more attempt after a system exception; returns the new attempt number."""
        with self.db.session() as s:
            row = self._leased(s, item_id, owner)
            row.attempts += 1
            row.version += 1
            row.updated_at = self.clock()
            self._event(s, item_id, run_id, owner, State.IN_PROGRESS, State.IN_PROGRESS, "retry",
                        {"code": code, "message": message, "attempt": row.attempts, **(details or {})})
            return row.attempts

    def complete(self, item_id: int, owner: str, *, result: Mapping[str, Any], result_ref: str | None,
                 run_id: str | None = None, findings: Sequence[Mapping[str, Any]] = ()) -> None:
        """`in_progress` -> `done` with the result (e.g. `{"zaak": ...}`). Raises LeaseLost."""
        with self.db.session() as s:
            row = self._leased(s, item_id, owner)
            self._update(s, item_id, row.version, State.IN_PROGRESS, State.DONE, actor=owner, run_id=run_id,
                         reason="completed", details={"result_ref": result_ref},
                         result=dict(result), result_ref=result_ref, findings=[dict(f) for f in findings],
                         lease_owner=None, lease_expires_at=None)

    def fail(self, item_id: int, owner: str, failure: Failure, *, run_id: str | None = None,
             details: Mapping[str, Any] | None = None) -> None:
        """`in_progress` -> `failed` (the exception queue). Raises LeaseLost."""
        with self.db.session() as s:
            row = self._leased(s, item_id, owner)
            self._update(s, item_id, row.version, State.IN_PROGRESS, State.FAILED, actor=owner, run_id=run_id,
                         reason=failure.codes[0] if failure.codes else failure.kind.value,
                         details={"kind": failure.kind.value, "codes": failure.codes, "message": failure.message,
                                  **(details or {})},
                         failure_kind=failure.kind.value, reason_codes=list(failure.codes),
                         message=failure.message, findings=list(failure.findings),
                         lease_owner=None, lease_expires_at=None)

    def release(self, item_id: int, owner: str, *, reason: str, run_id: str | None = None) -> None:
        """Give the item back (`in_progress` -> `pending`) without counting the attempt (e.g. on SIGTERM)."""
        with self.db.session() as s:
            row = self._leased(s, item_id, owner)
            self._update(s, item_id, row.version, State.IN_PROGRESS, State.PENDING, actor=owner, run_id=run_id,
                         reason=reason, details={}, attempts=max(0, row.attempts - 1),
                         lease_owner=None, lease_expires_at=None)

    def set_keys(self, item_id: int, keys: Mapping[str, Iterable[str]]) -> None:
        """Replace the item's lookup keys (e.g. `{"bsn": [...], "month": [...]}`) for duplicate checks."""
        with self.db.session() as s:
            s.execute(sa.delete(KeyRow).where(KeyRow.item_id == item_id, KeyRow.name.in_(list(keys))))
            for name, values in keys.items():
                for value in sorted(set(values)):
                    s.add(KeyRow(item_id=item_id, name=name, value=value))

    def items_with_key(self, name: str, values: Iterable[str], *, exclude: int | None = None
                       ) -> dict[int, dict[str, set[str]]]:
        """Items of this queue having key `name` with any of `values`, with all their keys.

        Returns `{item_id: {key name: {values}}}`; `exclude` leaves one item out (the item itself).
        """
        values = list(values)
        if not values:
            return {}
        with self.db.session() as s:
            ids = sa.select(KeyRow.item_id).join(WorkItemRow, WorkItemRow.id == KeyRow.item_id).where(
                WorkItemRow.queue == self.name, KeyRow.name == name, KeyRow.value.in_(values))
            if exclude is not None:
                ids = ids.where(KeyRow.item_id != exclude)
            rows = s.execute(sa.select(KeyRow.item_id, KeyRow.name, KeyRow.value)
                             .where(KeyRow.item_id.in_(ids))).all()
        found: dict[int, dict[str, set[str]]] = {}
        for item_id, key, value in rows:
            found.setdefault(item_id, {}).setdefault(key, set()).add(value)
        return found

    # -- caseworker -------------------------------------------------------------------------------

    def requeue(self, item_id: int, *, actor: str, corrections: Mapping[str, str] | None = None,
                expected_version: int | None = None, note: str | None = None,
                waive: Sequence[str] = ()) -> WorkItem:
        """Send a `failed` item back to `pending`, with a caseworker's corrections (field -> raw value).

        `waive` lists finding codes the caseworker declares not to apply (e.g. a `possible_duplicate`
        that is no duplicate); the bot decides which codes may be waived. Attempts start again
        from 0. The event records which fields were corrected (values masked) and what was waived.
        Raises ItemNotFound, InvalidTransition, StaleItem, ValueError (a field name starting with `_`).
        """
        if any(key.startswith("_") for key in (corrections or {})):
            raise ValueError("field names starting with '_' are reserved")
        from common.masking import mask_mapping

        with self.db.session() as s:
            row = self._row(s, item_id)
            self._check_version(row, expected_version)
            merged = {**(row.corrections or {}), **dict(corrections or {})}
            if waive:
                merged[WAIVED_KEY] = sorted({*merged.get(WAIVED_KEY, []), *waive})
            self._update(s, item_id, row.version, State(row.state), State.PENDING, actor=actor, run_id=None,
                         reason="requeued",
                         details={"corrections": mask_mapping(dict(corrections or {})), "note": note,
                                  "waived": sorted(waive), "previous_codes": list(row.reason_codes or [])},
                         corrections=merged, attempts=0, not_before=None, failure_kind=None,
                         reason_codes=[], message=None)
        return self.get(item_id)

    def resolve(self, item_id: int, *, actor: str, result_ref: str | None = None, reason: str | None = None,
                expected_version: int | None = None) -> WorkItem:
        """Close a `failed` item as handled by hand: with the zaak number (`result_ref`) or a reason.

        Raises ValueError when neither is given, ItemNotFound, InvalidTransition, StaleItem.
        """
        if not (result_ref or reason):
            raise ValueError("resolve needs a zaak number or a reason")
        with self.db.session() as s:
            row = self._row(s, item_id)
            self._check_version(row, expected_version)
            self._update(s, item_id, row.version, State(row.state), State.RESOLVED, actor=actor, run_id=None,
                         reason="resolved_by_hand", details={"result_ref": result_ref, "reason": reason},
                         result={"resolved_by": actor, "reason": reason, "result_ref": result_ref},
                         result_ref=result_ref)
        return self.get(item_id)

    # -- reading ----------------------------------------------------------------------------------

    def get(self, item_id: int) -> WorkItem:
        """The item with its documents. Raises ItemNotFound."""
        with self.db.session() as s:
            row = self._row(s, item_id)
            docs = s.scalars(sa.select(DocumentRow).where(DocumentRow.item_id == item_id)
                             .order_by(DocumentRow.id)).all()
            return _snapshot(row, docs)

    def history(self, item_id: int) -> list[Event]:
        """The item's events, oldest first."""
        with self.db.session() as s:
            rows = s.scalars(sa.select(EventRow).where(EventRow.item_id == item_id).order_by(EventRow.id)).all()
            return [Event(id=e.id, item_id=e.item_id, run_id=e.run_id, actor=e.actor, from_state=e.from_state,
                          to_state=e.to_state, reason=e.reason, details=dict(e.details or {}), at=e.at)
                    for e in rows]

    def counts(self) -> dict[str, int]:
        """Number of items per state."""
        with self.db.session() as s:
            rows = s.execute(sa.select(WorkItemRow.state, sa.func.count()).where(
                WorkItemRow.queue == self.name).group_by(WorkItemRow.state)).all()
        return {state: n for state, n in rows}

    def next_due(self) -> datetime | None:
        """When the earliest `pending` item in backoff becomes due, or None when none waits."""
        with self.db.session() as s:
            return s.scalar(sa.select(sa.func.min(WorkItemRow.not_before)).where(
                WorkItemRow.queue == self.name, WorkItemRow.state == State.PENDING.value))

    # -- internals --------------------------------------------------------------------------------

    def _row(self, s: Session, item_id: int) -> WorkItemRow:
        row = s.get(WorkItemRow, item_id)
        if row is None or row.queue != self.name:
            raise ItemNotFound(f"no work item {item_id} in queue {self.name!r}")
        return row

    def _leased(self, s: Session, item_id: int, owner: str) -> WorkItemRow:
        row = self._row(s, item_id)
        if row.state != State.IN_PROGRESS.value or row.lease_owner != owner:
            raise LeaseLost(f"item {item_id}: lease no longer held by {owner}")
        return row

    @staticmethod
    def _check_version(row: WorkItemRow, expected: int | None) -> None:
        if expected is not None and row.version != expected:
            raise StaleItem(f"item {row.id} changed since it was read (version {row.version}, not {expected})")

    def _event(self, s: Session, item_id: int, run_id: str | None, actor: str, from_state: State | None,
               to_state: State, reason: str, details: dict[str, Any]) -> None:
        s.add(EventRow(item_id=item_id, run_id=run_id, actor=actor,
                       from_state=from_state.value if from_state else None, to_state=to_state.value,
                       reason=reason, details=details, at=self.clock()))

    def _update(self, s: Session, item_id: int, version: int, from_state: State, to_state: State, *,
                actor: str, run_id: str | None, reason: str, details: dict[str, Any], check: bool = True,
                **values: Any) -> bool:
        """Conditional update on (id, state, version) plus its event; False when someone else won."""
        if to_state not in TRANSITIONS[from_state]:
            raise InvalidTransition(f"item {item_id}: {from_state.value} -> {to_state.value} is not allowed")
        now = self.clock()
        s.flush()
        changed = s.execute(
            sa.update(WorkItemRow)
            .where(WorkItemRow.id == item_id, WorkItemRow.state == from_state.value,
                   WorkItemRow.version == version)
            .values(state=to_state.value, version=version + 1, updated_at=now, **values)
            .execution_options(synchronize_session=False)).rowcount
        if not changed:
            if check:
                raise StaleItem(f"item {item_id} changed concurrently")
            return False
        self._event(s, item_id, run_id, actor, from_state, to_state, reason, details)
        s.expire_all()
        return True
