"""The crash test's own producer process: the TONK intake with hooks that stop at a named step and wait there
to be killed from outside (tests/integration/test_imap_crash.py). Holds no tests.

Run as `python -m tests.integration.test_imap_crash_bot CONFIG`. With `CRASH_AT=<step>:<source>:<n>` and
`CRASH_SIGNAL=<file>` in the environment, the process writes the step's name to the signal file when the
n-th input (1-based) of source `<source>` reaches `<step>`, then waits; the test sees the file and sends
SIGKILL. The steps, in the order an input passes them:

- `after_read`:   the source yielded the input; nothing mapped or stored yet;
- `after_store`:  its files are in the blob store; the work item row is not committed;
- `after_commit`: the work item is committed; the source is not yet acknowledged;
- `before_ack`:   inside the source's acknowledge, before the source is told;
- `after_ack`:    the source was acknowledged (mail moved, submission acked).

The hooks wrap the sources and the queue of this process only (installed by `main`, so importing this
module, as pytest and the framework's bot loader do, changes nothing): the framework knows nothing of them.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from common.bot import BotDefinition
from common.config import load_settings
from common.db import Database
from common.runs import RunContext
from common.sources.base import Incoming, Source
from common.sources.factory import build_sources
from common.workqueue import NewItem, WorkQueue
from tonk_bot.consumer import TonkConsumer
from tonk_bot.options import tonk_options
from tonk_bot.producer import to_work_item

STEPS = ("after_read", "after_store", "after_commit", "before_ack", "after_ack")
_CURRENT: tuple[str, int] | None = None  # (source, 1-based index) of the input in hand


def _target() -> tuple[str, str, int] | None:
    value = os.environ.get("CRASH_AT")
    if not value:
        return None
    step, source, index = value.split(":")
    assert step in STEPS, step
    return step, source, int(index)


def stop_here(step: str) -> None:
    """If the input in hand is the target at `step`: tell the test, then wait to be killed."""
    target = _target()
    if target is None or _CURRENT is None or (step, *_CURRENT) != target:
        return
    signal_file = Path(os.environ["CRASH_SIGNAL"])
    signal_file.with_suffix(".tmp").write_text(step, encoding="utf-8")
    signal_file.with_suffix(".tmp").rename(signal_file)
    while True:
        time.sleep(60)


class HookedSource:
    """Wraps a real source: marks the input in hand and stops around acknowledge."""

    def __init__(self, inner: Source) -> None:
        self.inner = inner
        self.name = inner.name

    def read(self) -> Iterator[Incoming]:
        global _CURRENT
        for index, incoming in enumerate(self.inner.read(), start=1):
            _CURRENT = (self.name, index)
            stop_here("after_read")
            yield incoming

    def acknowledge(self, incoming: Incoming) -> None:
        stop_here("before_ack")
        self.inner.acknowledge(incoming)
        stop_here("after_ack")

    def check(self) -> str:
        return self.inner.check()

    def close(self) -> None:
        self.inner.close()


_insert = WorkQueue._insert
_add = WorkQueue.add


def _hooked_insert(self: WorkQueue, new: NewItem, stored: list[Any], actor: str, run_id: str | None) -> Any:
    stop_here("after_store")  # WorkQueue.add stored every file before it inserts the row
    return _insert(self, new, stored, actor, run_id)


def _hooked_add(self: WorkQueue, new: NewItem, *, actor: str, run_id: str | None = None) -> Any:
    result = _add(self, new, actor=actor, run_id=run_id)
    stop_here("after_commit")
    return result


def _to_work_item(incoming: Incoming, ctx: RunContext) -> NewItem:
    return to_work_item(incoming, ctx)


BOT = BotDefinition(name="tonk", description="TONK intake with crash hooks (tests only)", to_work_item=_to_work_item,
                    open_consumer=TonkConsumer, check_options=tonk_options)


def main(argv: list[str]) -> int:
    """Intake once from the configured sources (wrapped); exit code as `softbot intake`."""
    from common import app as service

    WorkQueue._insert = _hooked_insert  # type: ignore[method-assign]  # in this process only
    WorkQueue.add = _hooked_add  # type: ignore[method-assign]
    settings = load_settings(Path(argv[0]))
    db = Database(settings.database)
    try:
        sources: list[Source] = [HookedSource(s) for s in build_sources(settings, settings.bot("tonk"))]
        summary = service.run_once(settings, db, "tonk", consume_items=False, sources=sources)
    finally:
        db.dispose()
    return int(summary["exit_code"])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
