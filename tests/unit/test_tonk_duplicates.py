"""Duplicate detection over a real work queue (SQLite, and PostgreSQL where marked)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from test_tonk_support import RECEIVED, application, codes, documents, policy

from common.db import Database
from common.storage import BlobStore
from common.workqueue import NewItem, WorkQueue
from tonk_bot.duplicates import QueueDuplicates
from tonk_bot.intake import IntakeResult, evaluate

DRONTEN = "dronten-2021-q3.yaml"


@pytest.fixture
def queue(any_db: Database, tmp_path: Path) -> WorkQueue:
    return WorkQueue(any_db, "tonk", BlobStore(tmp_path / "blobs"),
                     clock=lambda: datetime(2021, 8, 12, 12, 0, tzinfo=UTC))


def add(queue: WorkQueue, reference: str, fields: dict[str, str]) -> int:
    return queue.add(NewItem(reference=reference, payload={"fields": fields}), actor="test").item_id


def check(queue: WorkQueue, item_id: int, *, partner: bool = False) -> IntakeResult:
    """What the consumer does for an item: evaluate with the queue-backed lookup for this item."""
    item = queue.get(item_id)
    return evaluate(item.fields, documents(partner=partner), RECEIVED, policy(DRONTEN),
                    QueueDuplicates(queue, item_id))


def test_same_bsn_and_overlapping_month_in_another_item_is_a_possible_duplicate(queue: WorkQueue) -> None:
    first = add(queue, "OF-AAAAAA", application({"maanden": "juli, augustus"}))
    second = add(queue, "OF-BBBBBB", application({"bsn": "111 222 333", "maanden": "augustus, september"}))
    assert check(queue, first).findings == []          # alone in the queue so far: itself excluded
    result = check(queue, second)
    assert codes(result) == [("possible_duplicate", "bsn")]
    assert result.findings[0].value == "111222333"
    assert f"werkitem {first} (OF-AAAAAA)" in result.findings[0].message
    assert "2021-08" in result.findings[0].message
    # the first one, checked again (e.g. requeued), now sees the second too: both go to a human
    assert codes(check(queue, first)) == [("possible_duplicate", "bsn")]


def test_same_bsn_without_overlapping_month_is_no_duplicate(queue: WorkQueue) -> None:
    first = add(queue, "OF-AAAAAA", application({"maanden": "juli"}))
    second = add(queue, "OF-BBBBBB", application({"maanden": "augustus, september"}))
    check(queue, first)
    assert check(queue, second).findings == []


def test_the_partners_bsn_counts_too(queue: WorkQueue) -> None:
    # the first applicant (111222333) is the partner in the second application
    first = add(queue, "OF-AAAAAA", application())
    second_fields = application({"bsn": "123456782", "partner_bsn": "111222333"}, partner=True)
    second = add(queue, "OF-BBBBBB", second_fields)
    check(queue, first)
    assert codes(check(queue, second, partner=True)) == [("possible_duplicate", "partner_bsn")]


def test_keys_are_the_bsns_and_the_months_inside_the_period(queue: WorkQueue) -> None:
    # juni is outside July-September 2021: not a key
    item = add(queue, "OF-AAAAAA", application({"maanden": "juni, juli"}, partner=True))
    check(queue, item, partner=True)
    assert queue.items_with_key("bsn", ["123456782"]) == {
        item: {"bsn": {"111222333", "123456782"}, "month": {"2021-07"}}}


def test_a_read_only_lookup_records_nothing(queue: WorkQueue) -> None:
    first = add(queue, "OF-AAAAAA", application())
    check(queue, first)
    lookup = QueueDuplicates(queue)   # e.g. `softbot assess tonk --db`: not an item of the queue
    result = evaluate(application({"bsn": "123456782"}), documents(), RECEIVED, policy(DRONTEN), lookup)
    assert result.findings == []
    assert queue.items_with_key("bsn", ["123456782"]) == {}
    hit = evaluate(application(), documents(), RECEIVED, policy(DRONTEN), lookup)
    assert codes(hit) == [("possible_duplicate", "bsn")]
