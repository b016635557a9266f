"""Service layer for runs: the one place `softbot run|intake|worker` and the scheduler start a bot.

Each function opens a run (lock, record, log; common.runs), does its part, and
returns the run's summary. No printing here: the CLI and the scheduler present it.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from common.bot import BotDefinition, load_bot
from common.config import Settings
from common.db import Database
from common.errors import ConfigError
from common.logging import get_logger
from common.runner import IntakeRecord, consume, consume_in_threads, produce
from common.runs import RunContext, open_run
from common.sources.base import Source
from common.sources.factory import build_sources

log = get_logger(__name__)


def bot_for(settings: Settings, name: str) -> BotDefinition:
    """The BotDefinition of configured bot `name`, its options checked.

    Raises ConfigError (unknown bot, missing module, invalid options).
    """
    conf = settings.bot(name)
    bot = load_bot(name, conf.module)
    if bot.check_options is not None:
        bot.check_options(conf.options)
    if not conf.enabled:
        raise ConfigError("config.bot_disabled", f"bot {name!r} is disabled in config (bots.{name}.enabled)")
    return bot


@contextmanager
def stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """SIGTERM and the first Ctrl-C set `stop` (finish or release the item in hand); a second Ctrl-C aborts."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, _frame: Any) -> None:
        if stop.is_set() and signum == signal.SIGINT:
            raise KeyboardInterrupt
        log.warning("stop_requested", signal=signal.Signals(signum).name)
        stop.set()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def _consume_with(ctx: RunContext, bot: BotDefinition, *, idle_exit: bool, workers: int) -> None:
    """Work the queue with one consumer in this thread, or `workers` consumer threads (common.runner)."""
    if workers == 1:
        consumer = bot.open_consumer(ctx)
        try:
            consume(ctx, consumer, idle_exit=idle_exit)
        finally:
            consumer.close()
    else:
        consume_in_threads(ctx, bot.open_consumer, workers, idle_exit=idle_exit)


def _check_workers(workers: int) -> None:
    if workers < 1:
        raise ConfigError("config.invalid", f"--workers: at least 1, not {workers}")


def run_once(settings: Settings, db: Database, name: str, *, trigger: str = "cli", produce_items: bool = True,
             consume_items: bool = True, sources: list[Source] | None = None,
             on_record: Callable[[IntakeRecord], None] | None = None,
             stop: threading.Event | None = None, workers: int = 1) -> dict[str, Any]:
    """One run of bot `name`: intake from every configured source, then work the queue until empty
    with `workers` consumers at once (threads, each its own browser and lease owner).

    Returns the run summary (as written to `runs/<run-id>/summary.json`).
    Raises ConfigError (also for `workers` < 1), LockHeld.
    """
    _check_workers(workers)
    bot = bot_for(settings, name)
    command = "run" if produce_items and consume_items else ("intake" if produce_items else "worker")
    with open_run(settings, db, name, command, trigger) as ctx:
        if stop is not None:
            ctx.stop = stop
        with stop_on_signals(ctx.stop):
            if produce_items:
                produce(ctx, bot, sources if sources is not None else build_sources(settings, ctx.bot_settings),
                        on_record=on_record)
            if consume_items and not ctx.stop.is_set():
                _consume_with(ctx, bot, idle_exit=True, workers=workers)
    return _closed(ctx)


def work(settings: Settings, db: Database, name: str, *, trigger: str = "cli",
         stop: threading.Event | None = None, workers: int = 1) -> dict[str, Any]:
    """Consume bot `name`'s queue with `workers` consumers until stopped (SIGTERM/Ctrl-C, or `stop`):
    each finishes the item in hand (or releases it while waiting to retry), then closes its browser.

    Raises ConfigError (also for `workers` < 1), LockHeld.
    """
    _check_workers(workers)
    bot = bot_for(settings, name)
    with open_run(settings, db, name, "worker", trigger) as ctx:
        if stop is not None:
            ctx.stop = stop
        with stop_on_signals(ctx.stop):
            _consume_with(ctx, bot, idle_exit=False, workers=workers)
    return _closed(ctx)


def _closed(ctx: RunContext) -> dict[str, Any]:
    """After the run closed: build its report (a failed report is logged, never fails the run)."""
    from common.reports import ReportError, build_report

    assert ctx.summary is not None
    try:
        ctx.summary["report"] = str(build_report(ctx.db, ctx.settings, ctx.run_id))
    except ReportError as exc:
        log.error("report_failed", code=exc.code, error=exc.message)
    except Exception as exc:  # noqa: BLE001 - the run itself is recorded; a report bug must not hide that
        log.error("report_failed", error=repr(exc))
    return ctx.summary
