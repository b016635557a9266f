"""Reading across queues: for the caseworker's lists and the console."""

from __future__ import annotations

import sqlalchemy as sa

from common.db import Database
from common.workqueue.items import ItemNotFound, State, WorkItem
from common.workqueue.models import DocumentRow, WorkItemRow
from common.workqueue.queue import _snapshot


def list_items(db: Database, *, queue: str | None = None, state: State | None = None,
               limit: int = 100) -> list[WorkItem]:
    """Items, newest first, optionally of one queue and/or state (without documents)."""
    query = sa.select(WorkItemRow).order_by(WorkItemRow.id.desc()).limit(limit)
    if queue:
        query = query.where(WorkItemRow.queue == queue)
    if state:
        query = query.where(WorkItemRow.state == State(state).value)
    with db.session() as s:
        return [_snapshot(row) for row in s.scalars(query).all()]


def find_item(db: Database, item_id: int) -> WorkItem:
    """The item with this id in any queue, with its documents. Raises ItemNotFound."""
    with db.session() as s:
        row = s.get(WorkItemRow, item_id)
        if row is None:
            raise ItemNotFound(f"no work item {item_id}")
        docs = s.scalars(sa.select(DocumentRow).where(DocumentRow.item_id == item_id).order_by(DocumentRow.id)).all()
        return _snapshot(row, docs)
