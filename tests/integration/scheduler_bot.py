"""A tiny bot for the scheduler tests: no browser, no case system.

Configured in a test's settings file as `bots.<name>.module: tests.integration.scheduler_bot`. It
reads the configured sources (usually none) and processes items by returning a fake zaak number;
with option `fail: true` every item fails with a system exception (a run that exits 1); with option
`block: true` (in-process tests only) processing an item waits until the test sets `GATE`, and
`STARTED`, `ACTIVE` and `MAX_ACTIVE` tell the test what is going on.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from common.bot import BotDefinition, ItemOutcome, ItemSteps
from common.errors import SystemException
from common.sources.base import Incoming
from common.workqueue import NewItem, WorkItem

GATE = threading.Event()
STARTED = threading.Event()
ACTIVE = 0
MAX_ACTIVE = 0
_count_lock = threading.Lock()


def reset() -> None:
    """Clear the gate and the counters (call at the start of a test)."""
    global ACTIVE, MAX_ACTIVE
    GATE.clear()
    STARTED.clear()
    ACTIVE = MAX_ACTIVE = 0


class _Consumer:
    def __init__(self, options: dict[str, Any]) -> None:
        self.fail = bool(options.get("fail"))
        self.block = bool(options.get("block"))

    def process(self, item: WorkItem, steps: ItemSteps) -> ItemOutcome:
        global ACTIVE, MAX_ACTIVE
        if self.block:
            with _count_lock:
                ACTIVE += 1
                MAX_ACTIVE = max(MAX_ACTIVE, ACTIVE)
            STARTED.set()
            try:
                if not GATE.wait(timeout=60):
                    raise SystemException("test.gate", "the test never opened the gate")
            finally:
                with _count_lock:
                    ACTIVE -= 1
        if self.fail:
            raise SystemException("test.down", "the pretend case system is down")
        return ItemOutcome(result={"zaak": f"Z-{item.id}"}, result_ref=f"Z-{item.id}")

    def reset(self) -> None:
        pass

    def capture_failure(self, folder: Path) -> list[Path]:
        return []

    def close(self) -> None:
        pass


def _to_item(incoming: Incoming, ctx: object) -> NewItem:
    return NewItem(reference=incoming.key, payload={"fields": {"text": incoming.raw.decode(errors="replace")}})


BOT = BotDefinition(name="tick", description="scheduler test bot", to_work_item=_to_item,
                    open_consumer=lambda ctx: _Consumer(ctx.options))
