"""The work item as the rest of the code sees it: plain, immutable snapshots.

States (DESIGN.md): `pending` -> `in_progress` -> `done` | `failed` (kind
`business` or `system`); a caseworker moves `failed` back to `pending`
(requeue, with corrections) or to `resolved` (handled by hand).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class State(StrEnum):
    PENDING = "pending"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    FAILED = "failed"
    RESOLVED = "resolved"


class FailureKind(StrEnum):
    BUSINESS = "business"
    SYSTEM = "system"


#: which state may follow which (every other change raises InvalidTransition)
TRANSITIONS: dict[State | None, frozenset[State]] = {
    None: frozenset({State.PENDING, State.FAILED}),
    State.PENDING: frozenset({State.IN_PROGRESS}),
    State.IN_PROGRESS: frozenset({State.IN_PROGRESS, State.PENDING, State.DONE, State.FAILED}),
    State.FAILED: frozenset({State.PENDING, State.RESOLVED}),
    State.DONE: frozenset(),
    State.RESOLVED: frozenset(),
}


class QueueError(Exception):
    """Base of the work queue's errors."""


class ItemNotFound(QueueError):
    """No work item with that id (in that queue)."""


class InvalidTransition(QueueError):
    """The item is not in a state that allows the change (e.g. requeue of a `done` item)."""


class StaleItem(QueueError):
    """Someone else changed the item since it was read (version mismatch)."""


class LeaseLost(QueueError):
    """The runner no longer holds the item's lease (it expired and another runner took it)."""


@dataclass(frozen=True)
class Failure:
    """Why an item failed: `kind`, reason `codes`, a human `message`, and the `findings` (dicts)."""

    kind: FailureKind
    codes: list[str]
    message: str
    findings: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class NewDocument:
    """A file to store with a new item. `content_type` is sniffed from the bytes, not the name."""

    role: str  # "raw" (the input as received) or "attachment"
    filename: str
    data: bytes
    content_type: str
    declared_content_type: str | None = None
    document_type: str | None = None


@dataclass(frozen=True)
class NewItem:
    """What a producer adds: one per source message or submission.

    `payload["fields"]` holds the form's fields as the raw strings received (a
    caseworker's corrections override them by key). `failure` set means the item
    goes straight to the exception queue (e.g. "not an application").
    """

    reference: str
    payload: dict[str, Any]
    documents: list[NewDocument] = field(default_factory=list)
    source: str | None = None
    channel: str | None = None
    received_at: datetime | None = None
    priority: int = 0
    failure: Failure | None = None


@dataclass(frozen=True)
class Document:
    """A stored file of an item (bytes in the BlobStore under `storage_key`; None once purged)."""

    id: int
    role: str
    document_type: str | None
    filename: str
    content_type: str
    size: int
    sha256: str
    storage_key: str | None


@dataclass(frozen=True)
class Event:
    """One entry of an item's audit trail."""

    id: int
    item_id: int
    run_id: str | None
    actor: str
    from_state: str | None
    to_state: str
    reason: str
    details: dict[str, Any]
    at: datetime


@dataclass(frozen=True)
class WorkItem:
    """A snapshot of a work item. Times are aware UTC datetimes."""

    id: int
    queue: str
    reference: str
    state: State
    failure_kind: FailureKind | None
    reason_codes: list[str]
    message: str | None
    findings: list[dict[str, Any]]
    payload: dict[str, Any]
    corrections: dict[str, Any]
    source: str | None
    channel: str | None
    received_at: datetime | None
    priority: int
    not_before: datetime | None
    attempts: int
    lease_owner: str | None
    lease_expires_at: datetime | None
    submission_started_at: datetime | None
    result: dict[str, Any] | None
    result_ref: str | None
    version: int
    created_at: datetime
    updated_at: datetime
    documents: list[Document] = field(default_factory=list)

    @property
    def fields(self) -> dict[str, Any]:
        """The form's fields as received, with a caseworker's corrections applied over them."""
        corrected = {k: v for k, v in self.corrections.items() if not k.startswith("_")}
        return {**self.payload.get("fields", {}), **corrected}

    @property
    def waived(self) -> frozenset[str]:
        """Finding codes a caseworker declared not to apply to this item (e.g. `possible_duplicate`)."""
        return frozenset(self.corrections.get(WAIVED_KEY, []))


#: where `requeue(waive=...)` keeps waived finding codes inside `corrections` (not a form field)
WAIVED_KEY = "_waived"


@dataclass(frozen=True)
class AddResult:
    """What `WorkQueue.add` did: `created` False means the reference was already there (a duplicate)."""

    item_id: int
    created: bool
    state: State
