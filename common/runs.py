"""A run: its id, folder, database record, log file, lock, and `summary.json`.

Every entry point (`softbot run|intake|worker`, a scheduler firing) opens a run
with `open_run`: it takes the bot's run lock, creates `runs/<run-id>/` with
`log.jsonl`, records the run in the `runs` table, and on the way out writes
`summary.json` and the run's status.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from common.config import BotSettings, Settings
from common.db import Database, utcnow
from common.locks import bot_lock
from common.logging import bound, get_logger, run_log_file
from common.storage import BlobStore
from common.workqueue import WorkQueue
from common.workqueue.models import RunRow

log = get_logger(__name__)


def new_run_id(bot: str, now: datetime) -> str:
    """`20211012T081500Z-tonk-3fa9c1`: sortable by start time, unique by its random tail."""
    return f"{now:%Y%m%dT%H%M%SZ}-{bot}-{secrets.token_hex(3)}"


@dataclass
class RunTally:
    """Counts of one run, filled by producer and consumer; thread-safe `add`."""

    counts: dict[str, int] = field(default_factory=dict)
    items: list[dict[str, Any]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, key: str, n: int = 1) -> None:
        with self._lock:
            self.counts[key] = self.counts.get(key, 0) + n

    def item(self, **record: Any) -> None:
        """Record one item's outcome (item_id, reference, outcome, zaak, codes, duration_seconds)."""
        with self._lock:
            self.items.append(record)

    def get(self, key: str) -> int:
        return self.counts.get(key, 0)


@dataclass
class RunContext:
    """Everything one run needs, passed down instead of globals.

    Attributes:
        run_id: this run's id; `folder` is `runs/<run_id>/`.
        owner: this process's name for leases and locks (`host:pid:run_id`).
        stop: set on SIGTERM/Ctrl-C: finish or release the item in hand, then stop.
        clock: aware UTC now (tests inject their own).
    """

    run_id: str
    bot: str
    command: str
    trigger: str
    folder: Path
    settings: Settings
    bot_settings: BotSettings
    db: Database
    queue: WorkQueue
    blobs: BlobStore
    owner: str
    started_at: datetime
    tally: RunTally = field(default_factory=RunTally)
    stop: threading.Event = field(default_factory=threading.Event)
    summary: dict[str, Any] | None = None  # set when the run closes (the content of summary.json)
    clock: Callable[[], datetime] = utcnow

    @property
    def options(self) -> dict[str, Any]:
        """The bot's domain options from config (validated by the bot)."""
        return self.bot_settings.options


def blob_store(settings: Settings) -> BlobStore:
    """The document store of the data directory."""
    return BlobStore(settings.data_dir / "blobs")


@contextmanager
def open_run(settings: Settings, db: Database, bot: str, command: str, trigger: str = "cli",
             exit_code: Callable[[RunTally], int] | None = None) -> Iterator[RunContext]:
    """Lock, record and log one run of `bot`; yields its RunContext.

    On exit writes `summary.json` and the run row (status `completed`, or `crashed` when the block
    raised). The exit code stored is `exit_code(tally)` (default: 1 when any system failure, else 0).

    Raises:
        LockHeld: another run of this bot is under way (nothing is recorded then).
        ConfigError: unknown bot.
    """
    bot_settings = settings.bot(bot)
    started = utcnow()
    run_id = new_run_id(bot, started)
    folder = settings.runs_dir / run_id
    owner = f"{socket.gethostname()}:{os.getpid()}:{run_id}"
    queue = WorkQueue(db, bot_settings.queue or bot, blob_store(settings))
    ctx = RunContext(run_id=run_id, bot=bot, command=command, trigger=trigger, folder=folder,
                     settings=settings, bot_settings=bot_settings, db=db, queue=queue,
                     blobs=queue.blobs, owner=owner, started_at=started)
    with ExitStack() as stack:
        stack.enter_context(bot_lock(db, bot, owner, run_id))
        folder.mkdir(parents=True, exist_ok=True)
        stack.enter_context(run_log_file(folder / "log.jsonl", run_id))
        stack.enter_context(bound(run_id=run_id, bot=bot))
        with db.session() as s:
            s.add(RunRow(id=run_id, bot=bot, command=command, trigger=trigger, host=socket.gethostname(),
                         pid=os.getpid(), folder=str(folder), status="running", counts={}, started_at=started))
        log.info("run_started", command=command, trigger=trigger, folder=str(folder))
        status = "crashed"
        try:
            yield ctx
            status = "completed"
        finally:
            code = (exit_code or default_exit_code)(ctx.tally) if status == "completed" else 1
            finish_run(ctx, status, code)


def default_exit_code(tally: RunTally) -> int:
    """0 when the run completed (business exceptions are a normal outcome), 1 with system failures."""
    return 1 if tally.get("system") or tally.get("source_errors") else 0


def finish_run(ctx: RunContext, status: str, code: int) -> dict[str, Any]:
    """Write `summary.json` and close the run row; returns the summary."""
    ended = utcnow()
    summary = {
        "run_id": ctx.run_id, "bot": ctx.bot, "command": ctx.command, "trigger": ctx.trigger,
        "status": status, "exit_code": code,
        "started_at": ctx.started_at.isoformat(), "ended_at": ended.isoformat(),
        "duration_seconds": round((ended - ctx.started_at).total_seconds(), 3),
        "counts": dict(sorted(ctx.tally.counts.items())), "items": ctx.tally.items,
        "folder": str(ctx.folder),
    }
    (ctx.folder / "summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n",
                                             encoding="utf-8")
    with ctx.db.session() as s:
        s.execute(sa.update(RunRow).where(RunRow.id == ctx.run_id).values(
            status=status, exit_code=code, counts=summary["counts"], ended_at=ended))
    ctx.summary = summary
    log.info("run_finished", status=status, exit_code=code, counts=summary["counts"],
             duration_seconds=summary["duration_seconds"])
    return summary


@contextmanager
def dry_run_context(settings: Settings, bot: str) -> Iterator[RunContext]:
    """A RunContext that writes nothing: in-memory database, no lock, no run folder, no record."""
    from common.db import Database

    bot_settings = settings.bot(bot)
    db = Database("sqlite://")
    started = utcnow()
    queue = WorkQueue(db, bot_settings.queue or bot, blob_store(settings))
    try:
        yield RunContext(run_id="dry-run", bot=bot, command="intake", trigger="cli", folder=Path(os.devnull),
                         settings=settings, bot_settings=bot_settings, db=db, queue=queue, blobs=queue.blobs,
                         owner="dry-run", started_at=started)
    finally:
        db.dispose()
