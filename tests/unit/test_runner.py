"""The transaction loop with fake bots (pure framework logic; real SQLite queue)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from common import app as service
from common.bot import BotDefinition, ItemOutcome, ItemSteps
from common.config import BackoffSettings, BotSettings, Settings
from common.db import Database
from common.errors import BusinessException, LockHeld, SystemException
from common.locks import bot_lock
from common.runner import consume, produce
from common.runs import open_run
from common.sources.base import Incoming
from common.workqueue import Failure, FailureKind, NewItem, State, WorkItem


class ListSource:
    """A source over a list; records what was acknowledged, and when relative to commits."""

    def __init__(self, inputs: list[Incoming], db: Database | None = None) -> None:
        self.name = "list"
        self.inputs = inputs
        self.acknowledged: list[str] = []
        self.db = db
        self.items_at_ack: list[int] = []

    def read(self) -> Iterator[Incoming]:
        yield from self.inputs

    def acknowledge(self, incoming: Incoming) -> None:
        if self.db is not None:
            from common.workqueue.listing import list_items
            self.items_at_ack.append(len(list_items(self.db)))
        self.acknowledged.append(incoming.key)

    def close(self) -> None:
        pass


class ScriptedConsumer:
    """Raises the scripted exceptions in turn per reference, then succeeds."""

    def __init__(self, script: dict[str, list[Exception]]) -> None:
        self.script = script
        self.resets = 0
        self.calls: list[str] = []

    def process(self, item: WorkItem, steps: ItemSteps) -> ItemOutcome:
        self.calls.append(item.reference)
        pending = self.script.get(item.reference, [])
        if pending:
            raise pending.pop(0)
        steps.mark_submission_started(step="save")
        return ItemOutcome(result={"zaak": f"ZAAK-{item.reference}"}, result_ref=f"ZAAK-{item.reference}")

    def reset(self) -> None:
        self.resets += 1

    def capture_failure(self, folder: Path) -> list[Path]:
        folder.mkdir(parents=True, exist_ok=True)
        shot = folder / "screenshot.png"
        shot.write_bytes(b"png")
        return [shot]

    def close(self) -> None:
        pass


def to_item(incoming: Incoming, ctx: object) -> NewItem:
    if incoming.raw == b"boom":
        raise ValueError("cannot map")
    if incoming.raw == b"spam":
        return NewItem(reference=incoming.key, payload={"fields": {}},
                       failure=Failure(FailureKind.BUSINESS, ["not_an_application"], "Geen aanvraag"))
    return NewItem(reference=incoming.key, payload={"fields": {"x": incoming.raw.decode()}})


def make_settings(tmp_path: Path, consumer: ScriptedConsumer, max_attempts: int = 3) -> Settings:
    import sys
    import types

    module = types.ModuleType("fakebot_for_tests")
    module.BOT = BotDefinition(name="fake", description="test bot", to_work_item=to_item,  # type: ignore[attr-defined]
                               open_consumer=lambda ctx: consumer)
    sys.modules["fakebot_for_tests"] = module
    return Settings(data_dir=tmp_path / "data", runs_dir=tmp_path / "runs",
                    bots={"fake": BotSettings(module="fakebot_for_tests", max_attempts=max_attempts,
                                              backoff=BackoffSettings(initial=0.01, maximum=0.02))})


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 'q.db'}")
    yield database
    database.dispose()


def incoming(key: str, raw: bytes) -> Incoming:
    return Incoming(source="list", kind="mail", key=key, raw=raw)


def test_run_once_registers_retries_and_sends_failures_to_a_human(tmp_path: Path, db: Database) -> None:
    consumer = ScriptedConsumer({
        "B": [BusinessException("bsn_invalid", "BSN klopt niet",
                                [{"code": "bsn_invalid", "field": "bsn", "value": "1", "message": "x"}])],
        "C": [SystemException("page.timeout", "te traag")],                      # succeeds on attempt 2
        "D": [SystemException("page.timeout", "te traag") for _ in range(3)],   # never succeeds
        "E": [KeyError("bug")],
    })
    conf = make_settings(tmp_path, consumer)
    source = ListSource([incoming(k, k.encode()) for k in "ABCDE"] + [incoming("S", b"spam")], db)
    summary = service.run_once(conf, db, "fake", sources=[source])

    assert summary["exit_code"] == 1  # system failures
    assert summary["counts"] == {"added": 5, "business": 1, "done": 2, "read": 6, "system": 2, "to_human": 1}
    by_ref = {i["reference"]: i for i in summary["items"]}
    assert (by_ref["A"]["outcome"], by_ref["A"]["zaak"]) == ("done", "ZAAK-A")
    assert (by_ref["B"]["outcome"], by_ref["B"]["codes"]) == ("business", ["bsn_invalid"])
    assert by_ref["C"]["outcome"] == "done"
    assert (by_ref["D"]["outcome"], by_ref["D"]["codes"]) == ("system", ["page.timeout"])
    assert (by_ref["E"]["outcome"], by_ref["E"]["codes"]) == ("system", ["unexpected.KeyError"])
    assert by_ref["S"]["outcome"] == "human"
    assert consumer.calls.count("D") == 3 and consumer.calls.count("C") == 2
    # every acknowledgement came after its item was committed
    assert source.items_at_ack == [1, 2, 3, 4, 5, 6]
    run = Path(summary["folder"])
    assert sorted(p.name for p in (run / "failures" / "4").iterdir()) == ["attempt-1", "attempt-2", "attempt-3"]
    assert (run / "failures" / "4" / "attempt-3" / "error.txt").read_text().startswith("SystemException")
    assert json.loads((run / "summary.json").read_text())["counts"]["done"] == 2
    assert summary["report"] == str(run / "report.html")
    assert (run / "items.csv").read_text(encoding="utf-8").count("\n") == 7  # header + 6 items
    lines = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
    assert {line["run_id"] for line in lines} == {summary["run_id"]}
    assert any(line["event"] == "item_retry" and line.get("item_id") == 3 for line in lines)


def test_the_item_history_tells_the_whole_story(tmp_path: Path, db: Database) -> None:
    consumer = ScriptedConsumer({"C": [SystemException("page.timeout", "te traag")]})
    conf = make_settings(tmp_path, consumer)
    service.run_once(conf, db, "fake", sources=[ListSource([incoming("C", b"C")])])
    with open_run(conf, db, "fake", "inspect") as ctx:
        item = ctx.queue.get(1)
        history = [(e.from_state, e.to_state, e.reason) for e in ctx.queue.history(1)]
    assert (item.state, item.attempts, item.result_ref) == (State.DONE, 2, "ZAAK-C")
    assert history == [(None, "pending", "received"), ("pending", "in_progress", "reserved"),
                       ("in_progress", "in_progress", "retry"),
                       ("in_progress", "in_progress", "submission_started"), ("in_progress", "done", "completed")]


def test_an_input_the_bot_cannot_map_goes_to_a_human_with_the_original(tmp_path: Path, db: Database) -> None:
    conf = make_settings(tmp_path, ScriptedConsumer({}))
    with open_run(conf, db, "fake", "intake") as ctx:
        from common.app import bot_for
        records = produce(ctx, bot_for(conf, "fake"), [ListSource([incoming("X", b"boom")])])
        item = ctx.queue.get(records[0].item_id or 0)
    assert (records[0].outcome, item.state, item.reason_codes) == ("human", State.FAILED, ["unreadable"])
    assert item.reference.startswith("RAW-")
    assert [(d.role, d.size) for d in item.documents] == [("raw", 4)]


def test_dry_run_writes_and_acknowledges_nothing(tmp_path: Path, db: Database) -> None:
    conf = make_settings(tmp_path, ScriptedConsumer({}))
    from common.app import bot_for
    from common.runs import dry_run_context
    source = ListSource([incoming("A", b"A")])
    with dry_run_context(conf, "fake") as ctx:
        records = produce(ctx, bot_for(conf, "fake"), [source], dry_run=True)
    assert [(r.reference, r.outcome, r.item_id) for r in records] == [("A", "application", None)]
    assert source.acknowledged == []
    assert not (tmp_path / "runs").exists()


def test_a_second_run_while_the_lock_is_held_is_refused(tmp_path: Path, db: Database) -> None:
    conf = make_settings(tmp_path, ScriptedConsumer({}))
    with bot_lock(db, "fake", "someone-else", "run-1"), pytest.raises(LockHeld, match="already running"):
        service.run_once(conf, db, "fake", sources=[])


def test_stop_during_backoff_releases_the_item(tmp_path: Path, db: Database) -> None:
    consumer = ScriptedConsumer({"A": [SystemException("page.timeout", "x")]})
    conf = make_settings(tmp_path, consumer)
    conf.bots["fake"].backoff = BackoffSettings(initial=30, maximum=30)
    with open_run(conf, db, "fake", "worker") as ctx:
        ctx.queue.add(to_item(incoming("A", b"A"), ctx), actor="t")
        import threading
        threading.Timer(0.5, ctx.stop.set).start()
        consume(ctx, consumer)
        item = ctx.queue.get(1)
    assert (item.state, item.attempts) == (State.PENDING, 1)  # reserve counted 1, the retry counted 2, release -1
