"""The transaction loop: producer (sources -> work items) and consumer (work items -> results).

Producer: for each input of each source, the bot maps it to one NewItem, the queue
commits it, and only then is the source acknowledged. An input the bot cannot map
becomes an item for a human, never a skipped one.

Consumer: reserve an item under a lease (heartbeat while working), let the bot
process it, then complete or fail it. BusinessException: to the exception queue at
once. SystemException: diagnostics captured, browser reset, retried with
exponential backoff (tenacity) up to `max_attempts` (counted on the item, so a
crash counts too), then to the exception queue as kind `system`.

Several consumers in one run (`consume_in_threads`, `softbot worker tonk --workers N`):
one thread each, each with its own consumer (its own browser: Playwright's sync API
is one instance per thread) and its own lease owner name `<run owner>:w<n>`; the
queue's leases keep them off each other's items (docs/decisions/0003).
"""

from __future__ import annotations

import contextvars
import hashlib
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from common.bot import BotDefinition, Consumer, ItemOutcome
from common.errors import BusinessException, SystemException
from common.heartbeat import Heartbeat
from common.logging import bound, get_logger
from common.runs import RunContext
from common.sources.base import Incoming, Source
from common.workqueue import Failure, FailureKind, LeaseLost, NewDocument, NewItem, WorkItem, WorkQueue

log = get_logger(__name__)


# -- producer -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class IntakeRecord:
    """What became of one input: `outcome` is `application`, `human` or `duplicate`.

    `total` is how many inputs the source listed when its read began (None when it cannot tell);
    `acknowledged` is False when the item is committed but the source could not be told (the input
    is read again next time, found to be a duplicate, and acknowledged then). `documents` describes
    each file: role, type, filename, size, content_type, sha256 (of the decoded bytes).

    `on_record` gets the record with its `new_item` whole; the records `produce` returns keep no file
    bytes (documents' `data` is b""), so an intake of many messages keeps its memory flat.
    """

    source: str
    key: str
    reference: str
    outcome: str
    item_id: int | None
    reasons: list[str]
    new_item: NewItem
    total: int | None = None
    acknowledged: bool = True
    documents: list[dict[str, Any]] = field(default_factory=list)

    def without_bytes(self) -> IntakeRecord:
        """This record with the file bytes dropped from `new_item` (everything else kept)."""
        slim = [replace(d, data=b"") for d in self.new_item.documents]
        return replace(self, new_item=replace(self.new_item, documents=slim))


def document_facts(new: NewItem) -> list[dict[str, Any]]:
    """Role, type, filename, size, sniffed content type and sha256 of each document of `new`."""
    return [{"role": d.role, "type": d.document_type, "filename": d.filename, "size": len(d.data),
             "content_type": d.content_type, "sha256": hashlib.sha256(d.data).hexdigest()} for d in new.documents]


def unreadable_item(incoming: Incoming, exc: Exception) -> NewItem:
    """An item for a human when a bot could not map an input at all: carries the original."""
    digest = hashlib.sha256(incoming.raw).hexdigest()[:12].upper()
    content_type = "message/rfc822" if incoming.kind == "mail" else "application/json"
    return NewItem(
        reference=f"RAW-{digest}", payload={"fields": {}, "error": type(exc).__name__},
        documents=[NewDocument(role="raw", filename="origineel" + (".eml" if incoming.kind == "mail" else ".json"),
                               data=incoming.raw, content_type=content_type)],
        source=incoming.source, received_at=incoming.delivered_at,
        failure=Failure(FailureKind.BUSINESS, ["unreadable"],
                        f"De robot kon dit bericht niet lezen ({type(exc).__name__}); zie het origineel."))


def produce(ctx: RunContext, bot: BotDefinition, sources: Iterable[Source], *, dry_run: bool = False,
            on_record: Callable[[IntakeRecord], None] | None = None) -> list[IntakeRecord]:
    """Read every source once; one work item per input; acknowledge each after its commit.

    With `dry_run`, nothing is written, moved or acknowledged. A source that fails to read is
    logged and counted (`source_errors`); the other sources still run. A source that cannot be
    acknowledged after a commit is counted the same way; the intake goes on (the input is read
    again next time and acknowledged as a duplicate of its item).
    """
    records: list[IntakeRecord] = []
    for source in sources:
        try:
            for incoming in source.read():
                record = _take_in(ctx, bot, source, incoming, dry_run)
                if on_record:
                    on_record(record)
                records.append(record.without_bytes())
                if ctx.stop.is_set():
                    break
        except SystemException as exc:
            ctx.tally.add("source_errors")
            log.error("source_failed", source=source.name, code=exc.code, error=exc.message)
        finally:
            source.close()
        if ctx.stop.is_set():
            break
    return records


def _take_in(ctx: RunContext, bot: BotDefinition, source: Source, incoming: Incoming,
             dry_run: bool) -> IntakeRecord:
    try:
        new = bot.to_work_item(incoming, ctx)
    except Exception as exc:  # noqa: BLE001 - a bot bug must not lose the input: it goes to a human
        log.error("map_failed", source=source.name, key=incoming.key, error=repr(exc),
                  traceback=traceback.format_exc())
        new = unreadable_item(incoming, exc)
    reasons = list(new.failure.codes) if new.failure else []
    ctx.tally.add("read")
    if dry_run:
        return IntakeRecord(source.name, incoming.key, new.reference, "human" if new.failure else "application",
                            None, reasons, new, incoming.total, False, document_facts(new))
    added = ctx.queue.add(new, actor=f"producer:{ctx.owner}", run_id=ctx.run_id)
    acknowledged = True
    try:  # only now: the item is committed
        source.acknowledge(replace(incoming, reference=new.reference, item_id=added.item_id))
    except SystemException as exc:
        acknowledged = False
        ctx.tally.add("source_errors")
        log.error("acknowledge_failed", source=source.name, key=incoming.key, reference=new.reference,
                  item_id=added.item_id, code=exc.code, error=exc.message)
    if not added.created:
        outcome = "duplicate"
    else:
        outcome = "human" if new.failure else "application"
    ctx.tally.add({"duplicate": "duplicates", "human": "to_human", "application": "added"}[outcome])
    if outcome == "human":
        ctx.tally.item(item_id=added.item_id, reference=new.reference, outcome="human", zaak=None, codes=reasons,
                       duration_seconds=None)
    log.info("intake", source=source.name, reference=new.reference, outcome=outcome, item_id=added.item_id,
             reasons=reasons)
    return IntakeRecord(source.name, incoming.key, new.reference, outcome, added.item_id, reasons, new,
                        incoming.total, acknowledged, document_facts(new))


# -- consumer -------------------------------------------------------------------------------------

class _Steps:
    """ItemSteps for one item in hand."""

    def __init__(self, ctx: RunContext, item: WorkItem, owner: str) -> None:
        self.queue: WorkQueue = ctx.queue
        self.folder: Path = ctx.folder / "items" / str(item.id)
        self._ctx, self._item, self._owner = ctx, item, owner
        self._submitted: str | None = item.result_ref

    def mark_submission_started(self, **details: Any) -> None:
        self.queue.mark_submission_started(self._item.id, self._owner, run_id=self._ctx.run_id, details=details)

    def mark_submitted(self, result_ref: str, **details: Any) -> None:
        self.queue.mark_submitted(self._item.id, self._owner, result_ref=result_ref, run_id=self._ctx.run_id,
                                  details=details)
        self._submitted = result_ref

    def submitted_ref(self) -> str | None:
        return self._submitted

    def set_keys(self, keys: Mapping[str, Sequence[str]]) -> None:
        self.queue.set_keys(self._item.id, keys)


class _Interrupted(Exception):
    """Stop was requested during a backoff wait."""


def consume(ctx: RunContext, consumer: Consumer, *, owner: str | None = None, idle_exit: bool = True,
            poll_seconds: float = 5.0, max_items: int | None = None) -> int:
    """Work items until the queue is empty (`idle_exit`) or `ctx.stop` is set; returns items handled.

    `owner` names this worker for leases (default: the run's owner; one per thread when several).
    """
    owner = owner or ctx.owner
    settings = ctx.bot_settings
    handled = 0
    while not ctx.stop.is_set() and (max_items is None or handled < max_items):
        item = ctx.queue.reserve(owner, lease_seconds=settings.lease_seconds,
                                 max_attempts=settings.max_attempts, run_id=ctx.run_id)
        if item is None:
            due = ctx.queue.next_due()
            if idle_exit and due is None:
                break
            wait = poll_seconds if due is None else max(0.0, min(poll_seconds, (due - ctx.clock()).total_seconds()))
            ctx.stop.wait(wait)
            continue
        handled += 1
        with bound(item_id=item.id, reference=item.reference):
            _handle(ctx, consumer, item, owner)
    return handled


def consume_in_threads(ctx: RunContext, open_consumer: Callable[[RunContext], Consumer], workers: int, *,
                       idle_exit: bool = True, poll_seconds: float = 5.0) -> int:
    """Run `workers` consumers at once, one thread each, until the queue is empty (`idle_exit`) or
    `ctx.stop` is set; returns the items handled by all.

    Each thread opens its own consumer with `open_consumer(ctx)` (so its browser belongs to that
    thread), works as `consume` does under lease owner `<ctx.owner>:w<n>` (n from 1), and closes
    its consumer, whatever happens. The threads carry the caller's log context (run id, bot).
    The calling thread only waits, so signal handlers (SIGTERM, Ctrl-C: `ctx.stop`) keep working;
    the threads are daemons, so an abort (a second Ctrl-C) does not wait for them.

    Raises:
        the first exception a thread ended with (e.g. ConfigError from `open_consumer`), after
        setting `ctx.stop` so that the others finish or release their item and stop too.
    """
    if workers < 1:
        raise ValueError(f"workers: at least 1, not {workers}")
    handled = [0] * workers
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            consumer = open_consumer(ctx)
            try:
                handled[n] = consume(ctx, consumer, owner=f"{ctx.owner}:w{n + 1}", idle_exit=idle_exit,
                                     poll_seconds=poll_seconds)
            finally:
                consumer.close()
        except BaseException as exc:  # noqa: BLE001 - handed to the calling thread, which raises it
            log.error("worker_failed", worker=n + 1, error=repr(exc))
            errors.append(exc)
            ctx.stop.set()

    threads = [threading.Thread(target=contextvars.copy_context().run, args=(work, n), name=f"worker-{n + 1}",
                                daemon=True) for n in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        while thread.is_alive():
            thread.join(timeout=0.5)
    if errors:
        raise errors[0]
    return sum(handled)


def _handle(ctx: RunContext, consumer: Consumer, item: WorkItem, owner: str) -> None:
    settings = ctx.bot_settings
    started = time.monotonic()
    steps = _Steps(ctx, item, owner)
    lease = settings.lease_seconds
    log.info("item_started", attempt=item.attempts)

    def before_retry(state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        assert isinstance(exc, SystemException)
        # the item's own attempt number (it may have had attempts before this run: a crash, a takeover)
        _capture(ctx, consumer, item, item.attempts + state.attempt_number - 1, exc)
        number = ctx.queue.record_attempt(item.id, owner, code=exc.code, message=exc.message, run_id=ctx.run_id)
        log.warning("item_retry", code=exc.code, error=exc.message, attempt=number,
                    wait_seconds=round(state.upcoming_sleep, 2))
        consumer.reset()

    def backoff_sleep(seconds: float) -> None:
        if ctx.stop.wait(seconds):
            raise _Interrupted

    retrying = Retrying(
        stop=stop_after_attempt(max(1, settings.max_attempts - item.attempts + 1)),
        wait=wait_exponential(multiplier=settings.backoff.initial, max=settings.backoff.maximum),
        retry=retry_if_exception_type(SystemException), before_sleep=before_retry, sleep=backoff_sleep,
        reraise=True)
    outcome_name = "done"
    codes: list[str] = []
    result_ref = None
    try:
        with Heartbeat(lambda: ctx.queue.heartbeat(item.id, owner, lease_seconds=lease), lease / 3,
                       name=f"lease-{item.id}"):
            outcome: ItemOutcome = retrying(consumer.process, item, steps)
            result_ref = outcome.result_ref
            ctx.queue.complete(item.id, owner, result=outcome.result, result_ref=outcome.result_ref,
                               findings=outcome.findings, run_id=ctx.run_id)
    except BusinessException as exc:
        outcome_name, codes = "business", [exc.code, *_finding_codes(exc.findings, exc.code)]
        ctx.queue.fail(item.id, owner, Failure(FailureKind.BUSINESS, codes, exc.message, exc.findings),
                       run_id=ctx.run_id)
    except SystemException as exc:
        outcome_name, codes = "system", [exc.code]
        attempt = ctx.queue.get(item.id).attempts
        _capture(ctx, consumer, item, attempt, exc)
        consumer.reset()
        ctx.queue.fail(item.id, owner, Failure(FailureKind.SYSTEM, codes, exc.message), run_id=ctx.run_id,
                       details={"attempts": attempt})
    except _Interrupted:
        outcome_name = "released"
        ctx.queue.release(item.id, owner, reason="stopped", run_id=ctx.run_id)
    except LeaseLost as exc:
        outcome_name = "lease_lost"
        log.error("lease_lost", error=str(exc))
    except Exception as exc:  # noqa: BLE001 - a bug in a bot: recorded as a system failure, never swallowed
        outcome_name, codes = "system", [f"unexpected.{type(exc).__name__}"]
        log.error("item_crashed", error=repr(exc), traceback=traceback.format_exc())
        _capture(ctx, consumer, item, item.attempts, exc)
        consumer.reset()
        ctx.queue.fail(item.id, owner, Failure(FailureKind.SYSTEM, codes,
                                               f"Onverwachte fout in de robot: {type(exc).__name__}"),
                       run_id=ctx.run_id)
    duration = round(time.monotonic() - started, 3)
    ctx.tally.add(outcome_name)
    ctx.tally.item(item_id=item.id, reference=item.reference, outcome=outcome_name, zaak=result_ref,
                   codes=codes, duration_seconds=duration)
    log.info("item_finished", outcome=outcome_name, codes=codes, zaak=result_ref, duration_seconds=duration)


def _finding_codes(findings: Sequence[Mapping[str, Any]], main: str) -> list[str]:
    seen: list[str] = []
    for finding in findings:
        code = str(finding.get("code", ""))
        if code and code != main and code not in seen:
            seen.append(code)
    return seen


def _capture(ctx: RunContext, consumer: Consumer, item: WorkItem, attempt: int, exc: Exception) -> None:
    """Diagnostics of a failed attempt into `runs/<run-id>/failures/<item-id>/attempt-<n>/`."""
    folder = ctx.folder / "failures" / str(item.id) / f"attempt-{attempt}"
    try:
        files = consumer.capture_failure(folder)
    except Exception as capture_exc:  # noqa: BLE001 - diagnostics are best effort, the failure itself is kept
        log.warning("capture_failed", error=repr(capture_exc))
        files = []
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "error.txt").write_text(f"{type(exc).__name__}: {exc}\n", encoding="utf-8")
    log.info("failure_captured", folder=str(folder), files=[f.name for f in files])
