"""Leases with real concurrency, on SQLite and PostgreSQL: no item is registered twice.

The "registration" is a line in a ledger file (appended by every worker, in every process): the
stand-in for a case system, so that "registered twice" is something a test can count. Workers
are threads of one run (`consume_in_threads`, as `--workers N`) or separate processes of two
bots sharing one queue (each bot its own run lock, docs/decisions/0003). A worker process that
is SIGKILLed while it holds an item leaves its lease to expire; another worker then takes the
item over, and the zaak number the killed one recorded keeps the new one from registering again.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections import Counter
from pathlib import Path

from common import app as service
from common.bot import BotDefinition, ItemOutcome, ItemSteps
from common.config import BackoffSettings, BotSettings, Settings
from common.db import Database, utcnow
from common.storage import BlobStore
from common.workqueue import NewItem, State, WorkItem, WorkQueue

REPO = Path(__file__).resolve().parents[2]

#: a worker process: `python -c WORKER <db url> <bot> <ledger> <workers> <root>`; bot module `leasebot`
WORKER = textwrap.dedent("""
    import os, sys
    from pathlib import Path
    sys.path.insert(0, os.getcwd())
    from tests.integration.test_leases import LedgerConsumer, settings_for, bot_module
    from common import app as service
    from common.db import Database
    url, bot, ledger, workers, root = sys.argv[1:6]
    sys.modules["leasebot"] = bot_module(Path(ledger))
    db = Database(url)
    summary = service.run_once(settings_for(Path(root), lease_seconds=5), db, bot, produce_items=False,
                               workers=int(workers))
    print("done", summary["counts"].get("done", 0), flush=True)
""")


class LedgerConsumer:
    """Registers an item by appending `<reference> <pid>` to the ledger, unless an earlier attempt did.

    The item `HOLD` blocks after its registration is recorded (to be SIGKILLed there).
    """

    def __init__(self, ledger: Path) -> None:
        self.ledger = ledger

    def process(self, item: WorkItem, steps: ItemSteps) -> ItemOutcome:
        known = steps.submitted_ref()
        if known is None:
            steps.mark_submission_started()
            with self.ledger.open("a", encoding="utf-8") as out:
                out.write(f"{item.reference} {os.getpid()}\n")
            time.sleep(0.002)  # the case system takes a moment: lets workers overlap
            known = f"ZAAK-{item.reference}"
            steps.mark_submitted(known)
            if item.reference == "HOLD":
                print("holding", flush=True)
                time.sleep(600)
        return ItemOutcome(result={"zaak": known}, result_ref=known)

    def reset(self) -> None:
        pass

    def capture_failure(self, folder: Path) -> list[Path]:
        return []

    def close(self) -> None:
        pass


def bot_module(ledger: Path) -> object:
    """The module `leasebot`: its BOT registers in `ledger`."""
    import types

    module = types.ModuleType("leasebot")
    module.BOT = BotDefinition(name="leasebot", description="ledger bot", to_work_item=lambda i, c: None,  # type: ignore[attr-defined]
                               open_consumer=lambda ctx: LedgerConsumer(ledger))
    return module


def settings_for(root: Path, lease_seconds: int = 60) -> Settings:
    """Bots `lease-a` and `lease-b`, both on queue `leases`, module `leasebot`."""
    bot = BotSettings(module="leasebot", queue="leases", lease_seconds=lease_seconds, max_attempts=3,
                      backoff=BackoffSettings(initial=0.01, maximum=0.02))
    return Settings(data_dir=root / "data", runs_dir=root / "runs", bots={"lease-a": bot, "lease-b": bot})


def fill(db: Database, root: Path, references: list[str]) -> WorkQueue:
    queue = WorkQueue(db, "leases", BlobStore(root / "data" / "blobs"))
    for reference in references:
        queue.add(NewItem(reference=reference, payload={"fields": {}}), actor="test")
    return queue


def ledger_counts(ledger: Path) -> Counter[str]:
    return Counter(line.split()[0] for line in ledger.read_text(encoding="utf-8").splitlines())


def test_four_worker_threads_never_register_the_same_item(any_db: Database, tmp_path: Path) -> None:
    ledger = tmp_path / "ledger.txt"
    ledger.touch()
    sys.modules["leasebot"] = bot_module(ledger)  # type: ignore[assignment]
    references = [f"R{n:03d}" for n in range(80)]
    queue = fill(any_db, tmp_path, references)

    summary = service.run_once(settings_for(tmp_path), any_db, "lease-a", produce_items=False, workers=4)

    assert summary["counts"] == {"done": 80}
    assert ledger_counts(ledger) == Counter({r: 1 for r in references})  # each registered exactly once
    assert queue.counts() == {"done": 80}
    owners = {e.actor for n in range(1, 81) for e in queue.history(n) if e.reason == "reserved"}
    assert {o.rsplit(":", 1)[1] for o in owners} <= {"w1", "w2", "w3", "w4"} and len(owners) >= 2


def test_two_worker_processes_on_one_queue_never_register_the_same_item(any_db: Database, tmp_path: Path) -> None:
    ledger = tmp_path / "ledger.txt"
    ledger.touch()
    references = [f"P{n:03d}" for n in range(120)]
    queue = fill(any_db, tmp_path, references)

    workers = [subprocess.Popen([sys.executable, "-c", WORKER, any_db.url, bot, str(ledger), "2", str(tmp_path)],
                                cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for bot in ("lease-a", "lease-b")]
    outputs = [w.communicate(timeout=300) for w in workers]

    assert [w.returncode for w in workers] == [0, 0], [err for _, err in outputs]
    counts = ledger_counts(ledger)
    assert counts == Counter({r: 1 for r in references})
    assert queue.counts() == {"done": 120}
    done_by = [int(out.split()[1]) for out, _ in outputs]
    assert sum(done_by) == 120
    pids = {line.split()[1] for line in ledger.read_text(encoding="utf-8").splitlines()}
    assert len(pids) == 2  # both processes registered items


def test_an_item_whose_worker_was_sigkilled_is_taken_over_after_its_lease_expired(
        any_db: Database, tmp_path: Path) -> None:
    ledger = tmp_path / "ledger.txt"
    ledger.touch()
    queue = fill(any_db, tmp_path, ["HOLD", "NEXT"])
    killed = subprocess.Popen([sys.executable, "-c", WORKER, any_db.url, "lease-a", str(ledger), "1", str(tmp_path)],
                              cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert killed.stdout is not None
        assert killed.stdout.readline().strip() == "holding"
        held = queue.get(1)
        os.kill(killed.pid, signal.SIGKILL)
        killed.wait(timeout=30)
    finally:
        if killed.poll() is None:
            killed.kill()
            killed.wait()
    assert (held.state, held.result_ref, held.attempts) == (State.IN_PROGRESS, "ZAAK-HOLD", 1)
    while queue.get(1).lease_expires_at > utcnow():  # type: ignore[operator]
        time.sleep(0.2)  # the lease (5 s) runs out: nobody extends it any more
    sys.modules["leasebot"] = bot_module(ledger)  # type: ignore[assignment]

    summary = service.run_once(settings_for(tmp_path, lease_seconds=5), any_db, "lease-b", produce_items=False)

    assert summary["counts"] == {"done": 2}
    assert ledger_counts(ledger) == Counter({"HOLD": 1, "NEXT": 1})  # HOLD not registered again
    item = queue.get(1)
    assert (item.state, item.result_ref, item.attempts) == (State.DONE, "ZAAK-HOLD", 2)
    takeover = [e for e in queue.history(1) if e.reason == "lease_expired_taken_over"]
    assert len(takeover) == 1
    assert takeover[0].details["last_owner"] == held.lease_owner
    assert takeover[0].actor != held.lease_owner
    assert [e.reason for e in queue.history(1)] == [
        "received", "reserved", "submission_started", "submitted", "lease_expired_taken_over", "completed"]


class BrokenStart(Exception):
    pass


def test_a_worker_that_cannot_start_stops_the_others_and_the_run_raises_its_error(
        any_db: Database, tmp_path: Path) -> None:
    ledger = tmp_path / "ledger.txt"
    ledger.touch()
    opened: list[int] = []

    def open_consumer(ctx: object) -> LedgerConsumer:
        opened.append(len(opened) + 1)
        if len(opened) == 2:
            raise BrokenStart("no browser for worker 2")
        return LedgerConsumer(ledger)

    module = bot_module(ledger)
    module.BOT = BotDefinition(name="leasebot", description="ledger bot",  # type: ignore[attr-defined]
                               to_work_item=lambda i, c: None, open_consumer=open_consumer)
    sys.modules["leasebot"] = module  # type: ignore[assignment]
    queue = fill(any_db, tmp_path, [f"S{n:03d}" for n in range(200)])

    try:
        service.run_once(settings_for(tmp_path), any_db, "lease-a", produce_items=False, workers=2)
    except BrokenStart as exc:
        raised: BrokenStart | None = exc
    else:
        raised = None

    assert str(raised) == "no browser for worker 2"
    counts = queue.counts()
    assert counts.get("in_progress", 0) == 0             # the other worker finished its item in hand ...
    assert counts.get("pending", 0) > 0                  # ... and stopped instead of working on
    assert sum(ledger_counts(ledger).values()) == counts.get("done", 0)
