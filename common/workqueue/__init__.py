"""The work queue: a tiny public API over SQLAlchemy tables (SQLite or PostgreSQL).

    queue = WorkQueue(db, "tonk", blobs)
    queue.add(NewItem(reference="OF-7QK2MZ", payload={"fields": {...}}), actor="producer")
    item = queue.reserve(owner, lease_seconds=120, max_attempts=3)
    queue.complete(item.id, owner, result={"zaak": "ZAAK-2021-0000000123"}, result_ref="ZAAK-...")
"""

from common.workqueue.items import (
    AddResult,
    Document,
    Event,
    Failure,
    FailureKind,
    InvalidTransition,
    ItemNotFound,
    LeaseLost,
    NewDocument,
    NewItem,
    QueueError,
    StaleItem,
    State,
    WorkItem,
)
from common.workqueue.queue import WorkQueue

__all__ = [
    "AddResult", "Document", "Event", "Failure", "FailureKind", "InvalidTransition", "ItemNotFound",
    "LeaseLost", "NewDocument", "NewItem", "QueueError", "StaleItem", "State", "WorkItem", "WorkQueue",
]
