"""`softbot purge` (common/retention.py): every retention period, on real databases and folders.

The clock is fixed at NOW = 2021-12-31 12:00Z. Periods: raw_inputs 10 days, documents 20,
failure_artefacts 5, run_logs 30, closed_items 60.

Items (closed = the day it became done/resolved):

| item | state    | closed       | documents (blob)                    |
|------|----------|--------------|-------------------------------------|
| I1   | done     | NOW - 40 d   | raw RAW1, attachment SHARED         |
| I2   | done     | NOW - 15 d   | raw RAW2, attachment SHARED         |
| I3   | failed   | (NOW - 100 d)| raw RAW3, attachment SHARED         |
| I4   | resolved | NOW - 70 d   | raw RAW4                            |
| I5   | pending  | (NOW - 200 d)| raw RAW5                            |
| I6   | in_progress (NOW - 90 d) | raw RAW6                           |
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from common.config import RetentionSettings, Settings
from common.db import Database
from common.retention import purge, run_folders
from common.storage import BlobStore
from common.workqueue import Failure, FailureKind, NewDocument, NewItem, WorkQueue
from common.workqueue.models import BotLockRow, DocumentRow, EventRow, KeyRow, RunRow, WorkItemRow

NOW = datetime(2021, 12, 31, 12, 0, tzinfo=UTC)
PERIODS = RetentionSettings(raw_inputs=10, documents=20, failure_artefacts=5, run_logs=30, closed_items=60)
BLOBS = {name: f"{name} bytes".encode() * (i + 1)
         for i, name in enumerate(["RAW1", "RAW2", "RAW3", "RAW4", "RAW5", "RAW6", "SHARED"])}


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now

    def days_ago(self, days: float) -> None:
        self.now = NOW - timedelta(days=days)


def clock_now() -> datetime:
    return NOW


@dataclass
class World:
    db: Database
    settings: Settings
    queue: WorkQueue
    blobs: BlobStore
    ids: dict[str, int]

    def run(self, dry_run: bool = False, clock: Callable[[], datetime] = clock_now):
        return purge(self.db, self.settings, dry_run=dry_run, clock=clock)

    def keys(self, name: str) -> list[str | None]:
        return [d.storage_key for d in self.queue.get(self.ids[name]).documents]

    def has_blob(self, name: str) -> bool:
        return any(p.read_bytes() == BLOBS[name] for p in (self.blobs.root).glob("*/*"))

    def reasons(self, name: str) -> list[str]:
        return [e.reason for e in self.queue.history(self.ids[name])]


def age_blobs(root: Path, days: float = 2) -> None:
    """Date every blob file `days` back in wall-clock time (purge leaves blobs touched in the last hour)."""
    past = time.time() - days * 86400
    for path in root.glob("*/*"):
        os.utime(path, (past, past))


def _docs(*names: str) -> list[NewDocument]:
    return [NewDocument(role="raw" if name.startswith("RAW") else "attachment", filename=f"{name}.bin",
                        data=BLOBS[name], content_type="application/pdf") for name in names]


def make_world(db: Database, tmp_path: Path) -> World:
    settings = Settings(data_dir=tmp_path / "runs" / "data", runs_dir=tmp_path / "runs", retention=PERIODS)
    clock = Clock()
    blobs = BlobStore(settings.data_dir / "blobs")
    queue = WorkQueue(db, "tonk", blobs, clock=clock)
    ids: dict[str, int] = {}

    def done(name: str, received: float, closed: float, docs: list[str]) -> None:
        clock.days_ago(received)
        ids[name] = queue.add(NewItem(reference=name, payload={}, documents=_docs(*docs)), actor="p").item_id
        item = queue.reserve("w", lease_seconds=60, max_attempts=3)
        assert item is not None and item.id == ids[name]
        queue.set_keys(ids[name], {"bsn": ["111222333"]})
        clock.days_ago(closed)
        queue.complete(ids[name], "w", result={}, result_ref=f"ZAAK-{name}")

    done("I1", 41, 40, ["RAW1", "SHARED"])
    done("I2", 16, 15, ["RAW2", "SHARED"])
    clock.days_ago(100)
    ids["I3"] = queue.add(NewItem(reference="I3", payload={}, documents=_docs("RAW3", "SHARED"), failure=Failure(
        FailureKind.BUSINESS, ["bsn_invalid"], "BSN klopt niet")), actor="p").item_id
    clock.days_ago(71)
    ids["I4"] = queue.add(NewItem(reference="I4", payload={}, documents=_docs("RAW4"), failure=Failure(
        FailureKind.BUSINESS, ["unreadable"], "onleesbaar")), actor="p").item_id
    clock.days_ago(70)
    queue.resolve(ids["I4"], actor="person:jan", reason="per post beantwoord")
    clock.days_ago(200)
    ids["I5"] = queue.add(NewItem(reference="I5", payload={}, documents=_docs("RAW5")), actor="p").item_id
    clock.days_ago(90)
    ids["I6"] = queue.add(NewItem(reference="I6", payload={}, documents=_docs("RAW6"), priority=9),
                          actor="p").item_id
    assert queue.reserve("w", lease_seconds=60, max_attempts=3).id == ids["I6"]  # stays in progress
    age_blobs(blobs.root)
    return World(db=db, settings=settings, queue=queue, blobs=blobs, ids=ids)


@pytest.fixture
def world(any_db: Database, tmp_path: Path) -> World:
    return make_world(any_db, tmp_path)


# -- documents and raw inputs -----------------------------------------------------------------------

def test_raw_inputs_of_items_closed_longer_than_their_period_go(world: World) -> None:
    result = world.run()["raw_inputs"]
    # closed more than 10 days ago: I1 (40), I2 (15); I4 (70) went whole as a closed item, first
    assert (result.removed, result.files) == (2, 2)
    assert result.bytes == len(BLOBS["RAW1"]) + len(BLOBS["RAW2"]) == 30  # 10*1 + 10*2
    assert not any(world.has_blob(n) for n in ("RAW1", "RAW2", "RAW4"))
    assert world.keys("I2")[0] is None and world.keys("I2")[1] is not None  # I2's attachment: 15 < 20 days


def test_a_shared_attachment_file_stays_while_a_kept_document_uses_it(world: World) -> None:
    result = world.run()["documents"]
    # closed more than 20 days ago: I1 (40; I4 has no attachment). I1's SHARED row goes, but I2 (done,
    # 15 days) and I3 (failed) still point at the same bytes: the file stays.
    assert (result.removed, result.files, result.bytes, result.kept) == (1, 0, 0, 1)
    assert world.keys("I1") == [None, None]
    assert world.has_blob("SHARED")
    assert world.keys("I3")[1] is not None and world.keys("I2")[1] is not None


def test_a_shared_file_goes_with_the_last_document_using_it(sqlite_db: Database, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", runs_dir=tmp_path / "runs", retention=PERIODS)
    clock = Clock()
    queue = WorkQueue(sqlite_db, "tonk", BlobStore(tmp_path / "data" / "blobs"), clock=clock)
    for ref in ("X", "Y"):  # two done items with the same attachment, both closed 30 days ago
        clock.days_ago(30)
        item_id = queue.add(NewItem(reference=ref, payload={}, documents=_docs("SHARED")), actor="p").item_id
        queue.reserve("w", lease_seconds=60, max_attempts=3)
        queue.complete(item_id, "w", result={}, result_ref=None)
    age_blobs(tmp_path / "data" / "blobs")
    result = purge(sqlite_db, settings, clock=clock_now)["documents"]
    assert (result.removed, result.files, result.bytes) == (2, 1, len(BLOBS["SHARED"]))  # 2 rows, 1 file of 70
    assert not list((tmp_path / "data" / "blobs").glob("*/*"))


def test_a_file_a_producer_just_stored_again_is_kept_though_its_old_rows_go(world: World) -> None:
    # a new application arrives with the same bytes as I1's raw input while the purge runs: the
    # producer's put() renews the file's mtime before its row is committed, so the file must stay
    world.blobs.put(BLOBS["RAW1"])
    result = world.run()["raw_inputs"]
    assert (result.removed, result.files) == (2, 1)  # both rows go; RAW2's file goes, RAW1's stays
    assert world.has_blob("RAW1") and not world.has_blob("RAW2")


def test_purged_documents_leave_an_event_on_their_item(world: World) -> None:
    world.run()
    assert world.reasons("I1")[-2:] == ["purged", "purged"]  # raw input, then attachment
    assert world.reasons("I2")[-1] == "purged"
    event = world.queue.history(world.ids["I1"])[-2]
    assert (event.actor, event.from_state, event.to_state, event.run_id) == ("purge", "done", "done", None)
    assert event.details["kind"] == "raw_inputs" and event.details["days"] == 10


def test_open_items_are_never_purged(world: World) -> None:
    before = {n: (world.queue.get(world.ids[n]), world.reasons(n)) for n in ("I3", "I5", "I6")}
    result = world.run(clock=lambda: NOW + timedelta(days=3650))  # ten years on: every period has passed
    for name, (item, reasons) in before.items():
        now = world.queue.get(world.ids[name])
        assert now.state == item.state and now.documents == item.documents and world.reasons(name) == reasons
    assert all(world.has_blob(n) for n in ("RAW3", "RAW5", "RAW6", "SHARED"))  # SHARED: I3 still uses it
    assert result["closed_items"].removed == 3  # I1, I2, I4: the closed ones


# -- rows of closed items ---------------------------------------------------------------------------

def test_closed_items_go_with_their_events_documents_and_keys(world: World) -> None:
    i4 = world.ids["I4"]
    with world.db.session() as s:
        events = s.scalar(sa.select(sa.func.count()).select_from(EventRow).where(EventRow.item_id == i4))
    result = world.run()["closed_items"]
    # closed more than 60 days ago: I4 only (resolved 70 days ago): 2 events (received as failed,
    # resolved_by_hand), 1 document whose file RAW4 (40 bytes) no other document uses
    assert events == 2
    assert (result.removed, result.detail) == (1, {"events": 2, "documents": 1})
    assert (result.files, result.bytes) == (1, 40)
    assert not world.has_blob("RAW4")
    with world.db.session() as s:
        for table, column in ((WorkItemRow, WorkItemRow.id), (EventRow, EventRow.item_id),
                              (DocumentRow, DocumentRow.item_id), (KeyRow, KeyRow.item_id)):
            assert s.scalar(sa.select(sa.func.count()).select_from(table).where(column == i4)) == 0
        assert s.scalar(sa.select(sa.func.count()).select_from(WorkItemRow)) == 5


def test_closed_items_rows_take_their_unshared_files_along(any_db: Database, tmp_path: Path) -> None:
    # closed_items shorter than documents: the row purge deletes the files itself
    world = make_world(any_db, tmp_path)
    world.settings = world.settings.model_copy(update={"retention": RetentionSettings(
        raw_inputs=365, documents=365, failure_artefacts=30, run_logs=90, closed_items=30)})
    result = world.run()["closed_items"]
    # closed more than 30 days ago: I1 (40) and I4 (70). Files: RAW1, RAW4; SHARED stays (I2, I3)
    assert result.removed == 2
    assert (result.files, result.bytes) == (2, len(BLOBS["RAW1"]) + len(BLOBS["RAW4"]))  # 10 + 40
    assert result.detail["documents"] == 3  # RAW1 + SHARED of I1, RAW4 of I4
    assert world.has_blob("SHARED") and world.has_blob("RAW2")


# -- folders ----------------------------------------------------------------------------------------

RUN_A = "20211001T080000Z-tonk-aaaaaa"   # files 40 days old: past run_logs (30)
RUN_B = "20211225T080000Z-tonk-bbbbbb"   # files 6 days old: past failure_artefacts (5), not run_logs
RUN_D = "20211002T080000Z-tonk-dddddd"   # old, but its run still holds the bot's lock


def _write(path: Path, data: bytes, age_days: float) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    stamp = (NOW - timedelta(days=age_days)).timestamp()
    os.utime(path, (stamp, stamp))
    return len(data)


def _attempt(run: Path, item_id: int, n: int, age_days: float) -> int:
    folder = run / "failures" / str(item_id) / f"attempt-{n}"
    return (_write(folder / "screenshot.png", b"P" * 100, age_days)
            + _write(folder / "error.txt", b"E" * 10, age_days))


@pytest.fixture
def folders(sqlite_db: Database, tmp_path: Path) -> World:
    world = make_world(sqlite_db, tmp_path)
    runs = world.settings.runs_dir
    ids = world.ids
    a, b = runs / RUN_A, runs / RUN_B
    _write(a / "log.jsonl", b"L" * 50, 40)
    _write(a / "summary.json", b"S" * 20, 41)
    _attempt(a, ids["I1"], 1, 40)               # I1 is done: goes with the folder
    _attempt(a, ids["I3"], 1, 40)               # I3 is failed (exception queue): stays
    _write(a / "report.html", b"R" * 5, 1)      # a report rebuilt yesterday does not make the run young
    _write(b / "log.jsonl", b"L" * 50, 6)
    _attempt(b, ids["I2"], 1, 6)                # I2 done, 6 days: past failure_artefacts (5)
    _attempt(b, ids["I2"], 2, 1)                # 1 day: stays
    _attempt(b, ids["I5"], 1, 6)                # I5 pending: stays
    _write(b / "report.html", b"<html>OLD report with the screenshot embedded</html>", 6)
    _write(runs / RUN_D / "log.jsonl", b"L", 60)
    _write(runs / "sandbox" / "casesystem.db", b"Z", 400)   # not run folders: never touched
    _write(runs / "notes" / "old.txt", b"N", 400)
    _write(world.settings.data_dir / "softbot-old.log", b"D", 400)
    with world.db.session() as s:
        s.add(RunRow(id=RUN_B, bot="tonk", command="run", trigger="cli", host="h", pid=1, folder=str(b),
                     status="completed", exit_code=0, counts={}, started_at=NOW - timedelta(days=6),
                     ended_at=NOW - timedelta(days=6)))
        s.add(BotLockRow(bot="tonk", owner="h:1:" + RUN_D, run_id=RUN_D, acquired_at=NOW - timedelta(days=60),
                         expires_at=NOW + timedelta(seconds=60)))
    return world


def test_run_folders_are_only_folders_named_like_a_run(folders: World) -> None:
    assert [p.name for p in run_folders(folders.settings)] == [RUN_A, RUN_D, RUN_B]  # sorted by name


def test_old_run_folders_go_but_keep_artefacts_of_open_items(folders: World) -> None:
    runs = folders.settings.runs_dir
    result = folders.run()["run_logs"]
    # RUN_A: log 50 + summary 20 + I1's attempt (100 + 10) + report 5 = 185 bytes in 5 files;
    # I3's attempt stays (open). RUN_B is 6 days old; RUN_D still holds the lock.
    assert (result.removed, result.files, result.bytes, result.kept) == (1, 5, 185, 1)
    assert sorted(p.relative_to(runs / RUN_A).as_posix() for p in (runs / RUN_A).rglob("*") if p.is_file()) == [
        f"failures/{folders.ids['I3']}/attempt-1/error.txt", f"failures/{folders.ids['I3']}/attempt-1/screenshot.png"]
    assert (runs / RUN_D / "log.jsonl").exists()
    assert (runs / "sandbox" / "casesystem.db").exists() and (runs / "notes" / "old.txt").exists()
    assert (folders.settings.data_dir / "softbot-old.log").exists()


def test_old_failure_artefacts_go_and_the_report_is_rebuilt(folders: World) -> None:
    runs = folders.settings.runs_dir
    ids = folders.ids
    result = folders.run()["failure_artefacts"]
    # RUN_B: I2's attempt-1 (6 days, 2 files, 110 bytes) goes; attempt-2 is 1 day old.
    # Kept as open: I3's attempt in RUN_A, I5's in RUN_B.
    assert (result.removed, result.files, result.bytes, result.kept) == (1, 2, 110, 2)
    assert not (runs / RUN_B / "failures" / str(ids["I2"]) / "attempt-1").exists()
    assert (runs / RUN_B / "failures" / str(ids["I2"]) / "attempt-2" / "screenshot.png").exists()
    assert (runs / RUN_B / "failures" / str(ids["I5"]) / "attempt-1" / "screenshot.png").exists()
    assert result.detail == {"reports_rebuilt": 1, "reports_removed": 0}
    report = (runs / RUN_B / "report.html").read_text(encoding="utf-8")
    assert "OLD report" not in report and f"Run {RUN_B}" in report


def test_a_dry_run_counts_the_same_and_changes_nothing(folders: World) -> None:
    def snapshot() -> tuple[object, ...]:
        files = sorted(str(p) for p in folders.settings.runs_dir.rglob("*"))
        with folders.db.session() as s:
            events = s.scalar(sa.select(sa.func.count()).select_from(EventRow))
            keys = s.execute(sa.select(DocumentRow.id, DocumentRow.storage_key).order_by(DocumentRow.id)).all()
        return files, events, keys

    before = snapshot()
    dry = folders.run(dry_run=True)
    assert snapshot() == before
    real = folders.run()
    counts = [(k.kind, k.removed, k.files, k.bytes, k.kept) for k in real.kinds]
    assert [(k.kind, k.removed, k.files, k.bytes, k.kept) for k in dry.kinds] == counts
    assert counts == [("raw_inputs", 2, 2, 30, 0), ("documents", 1, 0, 0, 1), ("failure_artefacts", 1, 2, 110, 2),
                      ("run_logs", 1, 5, 185, 1), ("closed_items", 1, 1, 40, 0)]


def test_a_second_purge_finds_nothing_more(folders: World) -> None:
    folders.run()
    again = folders.run()
    assert [(k.kind, k.removed, k.files) for k in again.kinds] == [(kind, 0, 0) for kind in (
        "raw_inputs", "documents", "failure_artefacts", "run_logs", "closed_items")]


def test_cli_purge_prints_counts_and_bytes_per_kind(folders: World, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from common.commands import app

    config = tmp_path / "softbot.yaml"
    config.write_text(json.dumps({"data_dir": str(folders.settings.data_dir),
                                  "runs_dir": str(folders.settings.runs_dir), "database_url": folders.db.url,
                                  "retention": PERIODS.model_dump()}), encoding="utf-8")
    monkeypatch.setenv("SOFTBOT_CONFIG", str(config))
    # the command uses the real clock (years after 2021): every closed item is old enough to go whole
    result = CliRunner().invoke(app, ["purge", "--dry-run", "--json"])
    assert result.exit_code == 0, result.output
    kinds = {k["kind"]: k for k in json.loads(result.stdout)["kinds"]}
    # I1, I2, I4 with 5 documents; files RAW1, RAW2, RAW4 (10 + 20 + 40); SHARED stays for I3;
    # events: I1 and I2 received, reserved, completed (3 + 3), I4 received as failed, resolved (2) = 8
    assert (kinds["closed_items"]["removed"], kinds["closed_items"]["documents"]) == (3, 5)
    assert (kinds["closed_items"]["files"], kinds["closed_items"]["bytes"]) == (3, 70)
    assert kinds["raw_inputs"]["removed"] == 0
    table = CliRunner().invoke(app, ["purge", "--dry-run"])
    assert table.exit_code == 0, table.output
    assert "dry run: nothing removed" in table.stdout and "raw_inputs           10 days (before " in table.stdout
    assert "closed_items         60 days (before " in table.stdout
    assert "3 items, 3 files, 70 bytes (events 8, documents 5)" in table.stdout
    assert folders.queue.get(folders.ids["I1"]).documents[0].storage_key is not None  # dry: untouched
