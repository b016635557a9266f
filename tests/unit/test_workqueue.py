"""The work queue's states, leases and caseworker actions, on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from common.db import Database
from common.storage import BlobStore
from common.workqueue import (
    Failure,
    FailureKind,
    InvalidTransition,
    ItemNotFound,
    LeaseLost,
    NewDocument,
    NewItem,
    StaleItem,
    State,
    WorkQueue,
)
from common.workqueue.listing import find_item, list_items


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = datetime(2021, 8, 12, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def queue(any_db: Database, tmp_path: Path, clock: Clock) -> WorkQueue:
    return WorkQueue(any_db, "tonk", BlobStore(tmp_path / "blobs"), clock=clock)


def new(reference: str, **kwargs: object) -> NewItem:
    return NewItem(reference=reference, payload={"fields": {"bsn": "111222333"}}, **kwargs)  # type: ignore[arg-type]


def reasons(queue: WorkQueue, item_id: int) -> list[tuple[str | None, str, str]]:
    return [(e.from_state, e.to_state, e.reason) for e in queue.history(item_id)]


def test_add_stores_documents_once_and_a_second_copy_is_a_recorded_duplicate(queue: WorkQueue) -> None:
    doc = NewDocument(role="attachment", filename="paspoort Ünal.pdf", data=b"%PDF-1.4 x",
                      content_type="application/pdf", document_type="identiteitsbewijs")
    first = queue.add(new("OF-7QK2MZ", documents=[doc]), actor="producer")
    second = queue.add(new("OF-7QK2MZ", documents=[doc]), actor="producer")
    assert (first.created, second.created, second.item_id) == (True, False, first.item_id)
    item = queue.get(first.item_id)
    assert [(d.filename, d.size, d.document_type) for d in item.documents] == [
        ("paspoort Ünal.pdf", 10, "identiteitsbewijs")]
    assert item.documents[0].sha256 == hashlib.sha256(b"%PDF-1.4 x").hexdigest()
    assert item.documents[0].storage_key == f"{item.documents[0].sha256[:2]}/{item.documents[0].sha256}"
    assert queue.blobs.read(item.documents[0].storage_key or "") == b"%PDF-1.4 x"
    assert reasons(queue, first.item_id) == [(None, "pending", "received"),
                                             ("pending", "pending", "duplicate_received")]


def test_an_item_for_a_human_starts_failed_with_its_reason(queue: WorkQueue) -> None:
    added = queue.add(new("MAIL-0123456789AB", failure=Failure(FailureKind.BUSINESS, ["not_an_application"],
                                                                 "Geen TONK-aanvraag")), actor="producer")
    item = queue.get(added.item_id)
    assert (item.state, item.failure_kind, item.reason_codes) == (State.FAILED, FailureKind.BUSINESS,
                                                                  ["not_an_application"])
    assert queue.reserve("w", lease_seconds=60, max_attempts=3) is None


def test_reserve_takes_highest_priority_then_oldest(queue: WorkQueue) -> None:
    a = queue.add(new("A"), actor="p").item_id
    b = queue.add(new("B", priority=5), actor="p").item_id
    c = queue.add(new("C"), actor="p").item_id
    order = [queue.reserve("w", lease_seconds=60, max_attempts=3) for _ in range(3)]
    assert [i.id for i in order if i] == [b, a, c]
    assert queue.reserve("w", lease_seconds=60, max_attempts=3) is None


def test_expired_lease_is_taken_over_and_counts_as_an_attempt(queue: WorkQueue, clock: Clock) -> None:
    item_id = queue.add(new("A"), actor="p").item_id
    first = queue.reserve("w1", lease_seconds=60, max_attempts=3)
    assert first is not None and first.attempts == 1
    assert queue.reserve("w2", lease_seconds=60, max_attempts=3) is None  # lease still held
    clock.advance(61)
    second = queue.reserve("w2", lease_seconds=60, max_attempts=3)
    assert second is not None and (second.id, second.attempts, second.lease_owner) == (item_id, 2, "w2")
    with pytest.raises(LeaseLost):
        queue.complete(item_id, "w1", result={}, result_ref=None)
    queue.complete(item_id, "w2", result={"zaak": "ZAAK-2021-0000000001"}, result_ref="ZAAK-2021-0000000001")
    assert queue.get(item_id).state == State.DONE


def test_an_item_that_keeps_killing_its_runner_stops_after_max_attempts(queue: WorkQueue, clock: Clock) -> None:
    item_id = queue.add(new("A"), actor="p").item_id
    for _ in range(2):
        assert queue.reserve("w", lease_seconds=10, max_attempts=2) is not None
        clock.advance(11)
    assert queue.reserve("w", lease_seconds=10, max_attempts=2) is None
    item = queue.get(item_id)
    assert (item.state, item.failure_kind, item.reason_codes, item.attempts) == (
        State.FAILED, FailureKind.SYSTEM, ["lease.expired"], 2)


def test_heartbeat_extends_the_lease(queue: WorkQueue, clock: Clock) -> None:
    item_id = queue.add(new("A"), actor="p").item_id
    queue.reserve("w1", lease_seconds=60, max_attempts=3)
    clock.advance(50)
    expires = queue.heartbeat(item_id, "w1", lease_seconds=60)
    assert expires == datetime(2021, 8, 12, 12, 1, 50, tzinfo=UTC)
    clock.advance(50)  # 100 s after reserve, 50 s after the heartbeat: still held
    assert queue.reserve("w2", lease_seconds=60, max_attempts=3) is None
    with pytest.raises(LeaseLost):
        queue.heartbeat(item_id, "w2", lease_seconds=60)


def test_fail_then_requeue_with_corrections_then_resolve_is_refused(queue: WorkQueue) -> None:
    item_id = queue.add(new("A"), actor="p").item_id
    queue.reserve("w", lease_seconds=60, max_attempts=3)
    finding = {"code": "bsn_invalid", "field": "bsn", "value": "111222334", "message": "BSN klopt niet"}
    queue.fail(item_id, "w", Failure(FailureKind.BUSINESS, ["bsn_invalid"], "BSN klopt niet", [finding]))
    failed = queue.get(item_id)
    assert (failed.state, failed.findings) == (State.FAILED, [finding])
    requeued = queue.requeue(item_id, actor="person:els", corrections={"bsn": "123456782"}, note="gebeld",
                             expected_version=failed.version)
    assert (requeued.state, requeued.attempts, requeued.reason_codes) == (State.PENDING, 0, [])
    assert requeued.fields == {"bsn": "123456782"}  # the correction wins over the payload
    event = queue.history(item_id)[-1]
    assert (event.actor, event.reason, event.details["corrections"]) == ("person:els", "requeued",
                                                                        {"bsn": "*****6782"})
    with pytest.raises(InvalidTransition):
        queue.resolve(item_id, actor="person:els", reason="dubbel")


def test_requeue_refuses_a_stale_version_and_a_done_item(queue: WorkQueue) -> None:
    item_id = queue.add(new("A", failure=Failure(FailureKind.BUSINESS, ["x"], "x")), actor="p").item_id
    with pytest.raises(StaleItem):
        queue.requeue(item_id, actor="person:a", expected_version=99)
    resolved = queue.resolve(item_id, actor="person:a", result_ref="ZAAK-2021-0000000009")
    assert (resolved.state, resolved.result_ref) == (State.RESOLVED, "ZAAK-2021-0000000009")
    with pytest.raises(InvalidTransition):
        queue.requeue(item_id, actor="person:a")
    with pytest.raises(ItemNotFound):
        queue.get(9999)


def test_release_gives_the_item_back_without_counting_the_attempt(queue: WorkQueue) -> None:
    item_id = queue.add(new("A"), actor="p").item_id
    queue.reserve("w", lease_seconds=60, max_attempts=3)
    queue.release(item_id, "w", reason="stopped")
    item = queue.get(item_id)
    assert (item.state, item.attempts, item.lease_owner) == (State.PENDING, 0, None)


def test_submission_marker_and_retry_count_are_recorded(queue: WorkQueue) -> None:
    item_id = queue.add(new("A"), actor="p").item_id
    queue.reserve("w", lease_seconds=60, max_attempts=3)
    assert queue.record_attempt(item_id, "w", code="page.timeout", message="te traag") == 2
    queue.mark_submission_started(item_id, "w")
    item = queue.get(item_id)
    assert item.submission_started_at == datetime(2021, 8, 12, 12, 0, tzinfo=UTC)
    assert [r for _, _, r in reasons(queue, item_id)] == ["received", "reserved", "retry", "submission_started"]


def test_lookup_keys_find_other_items_with_the_same_value(queue: WorkQueue) -> None:
    a = queue.add(new("A"), actor="p").item_id
    b = queue.add(new("B"), actor="p").item_id
    queue.set_keys(a, {"bsn": ["111222333"], "month": ["2021-07", "2021-08"]})
    queue.set_keys(b, {"bsn": ["123456782", "111222333"], "month": ["2021-09"]})
    assert queue.items_with_key("bsn", ["111222333"], exclude=a) == {
        b: {"bsn": {"123456782", "111222333"}, "month": {"2021-09"}}}
    queue.set_keys(b, {"bsn": ["123456782"]})  # replaced, not added
    assert queue.items_with_key("bsn", ["111222333"], exclude=a) == {}


def test_listing_across_queues_filters_by_state(any_db: Database, tmp_path: Path) -> None:
    blobs = BlobStore(tmp_path / "b")
    tonk, post = WorkQueue(any_db, "tonk", blobs), WorkQueue(any_db, "post", blobs)
    tonk.add(new("A"), actor="p")
    failed = tonk.add(new("B", failure=Failure(FailureKind.BUSINESS, ["x"], "x")), actor="p").item_id
    post.add(new("A"), actor="p")
    assert [i.reference for i in list_items(any_db, queue="tonk")] == ["B", "A"]
    assert [i.id for i in list_items(any_db, state=State.FAILED)] == [failed]
    assert find_item(any_db, failed).queue == "tonk"


def test_concurrent_workers_never_take_the_same_item(any_db: Database, tmp_path: Path) -> None:
    queue = WorkQueue(any_db, "tonk", BlobStore(tmp_path / "b"))
    for n in range(40):
        queue.add(new(f"R{n}"), actor="p")
    taken: dict[str, list[int]] = {}

    def worker(owner: str) -> None:
        mine = taken.setdefault(owner, [])
        while (item := queue.reserve(owner, lease_seconds=60, max_attempts=3)) is not None:
            mine.append(item.id)
            queue.complete(item.id, owner, result={}, result_ref=None)

    threads = [threading.Thread(target=worker, args=(f"w{n}",)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    all_taken = [i for ids in taken.values() for i in ids]
    assert len(all_taken) == 40 and len(set(all_taken)) == 40
    assert queue.counts() == {"done": 40}


def test_a_waiver_is_kept_apart_from_the_form_fields_and_recorded(queue: WorkQueue) -> None:
    item_id = queue.add(new("A", failure=Failure(FailureKind.BUSINESS, ["possible_duplicate"], "dubbel?")),
                        actor="p").item_id
    item = queue.requeue(item_id, actor="person:els", waive=["possible_duplicate"], note="andere maanden")
    assert (item.waived, item.fields) == (frozenset({"possible_duplicate"}), {"bsn": "111222333"})
    assert queue.history(item_id)[-1].details["waived"] == ["possible_duplicate"]
    with pytest.raises(ValueError, match="reserved"):
        queue.requeue(item_id, actor="person:els", corrections={"_waived": "x"})
