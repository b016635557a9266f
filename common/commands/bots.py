"""Commands that run a bot: `softbot run|intake|worker|assess <bot>`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from common import app as service
from common.commands.base import cli_errors, database, err, fail_usage, out, settings
from common.masking import mask_finding
from common.runner import IntakeRecord, produce
from common.runs import dry_run_context
from common.sources.factory import build_sources, source_from_path

BOT_ARG = typer.Argument(..., help="The bot's name, as configured under `bots:` in config/softbot.yaml.")
WORKERS_OPT = typer.Option(1, "--workers", "-w", min=1, max=32, help="Items registered at once: each worker is a "
                           "thread with its own browser (about 300 MB of memory each).")


def register(app: typer.Typer) -> None:
    """Add the bot commands to `app`."""
    app.command("run")(run)
    app.command("intake")(intake)
    app.command("worker")(worker)
    app.command("assess")(assess)


def run(bot: str = BOT_ARG, workers: int = WORKERS_OPT) -> None:
    """Run BOT once, as the scheduler does: read every source, then register every pending item.

    Prints a summary: items read, cases registered (zaak numbers), items sent to the exception queue
    (reasons), duration, and the run folder (runs/<run-id>/: log.jsonl, summary.json).
    SIGTERM or Ctrl-C: each worker finishes the item in hand (or releases it), then the run ends.
    """
    conf = settings()
    with cli_errors(), database(conf) as db, _intake_progress() as on_record:
        summary = service.run_once(conf, db, bot, on_record=on_record, workers=workers)
    print_summary(summary)
    raise typer.Exit(summary["exit_code"])


def intake(
    bot: str = BOT_ARG,
    from_path: Path = typer.Option(None, "--from", help="Read this Maildir, folder of .eml files or .eml "
                                   "file instead of the configured sources."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Read and parse only: write, move and acknowledge "
                                 "nothing."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per message (for tools and tests)."),
) -> None:
    """Read BOT's sources once and add one work item per message or submission (no registration)."""
    conf = settings()
    with cli_errors():
        sources = [source_from_path(from_path)] if from_path else None
        if dry_run:
            bot_def = service.bot_for(conf, bot)
            with dry_run_context(conf, bot) as ctx, _intake_progress(quiet=as_json) as progress:
                chosen = sources if sources is not None else build_sources(conf, ctx.bot_settings)
                records = produce(ctx, bot_def, chosen, dry_run=True,
                                  on_record=(lambda r: print(json.dumps(record_json(r), ensure_ascii=False),
                                                             flush=True)) if as_json else progress)
            if not as_json:
                _print_records(records)
            raise typer.Exit(0)
        taken: list[IntakeRecord] = []
        with database(conf) as db, _intake_progress(quiet=as_json) as on_record:
            def both(record: IntakeRecord) -> None:
                on_record(record)
                if as_json:
                    print(json.dumps(record_json(record), ensure_ascii=False), flush=True)
                else:
                    taken.append(record.without_bytes())
            summary = service.run_once(conf, db, bot, consume_items=False, sources=sources, on_record=both)
    if not as_json:
        _print_records(taken, "Intake: what became of each message and submission")
        print_summary(summary)
    raise typer.Exit(summary["exit_code"])


def worker(bot: str = BOT_ARG, workers: int = WORKERS_OPT) -> None:
    """Work BOT's queue until stopped: SIGTERM or Ctrl-C finishes the item in hand (or releases it).

    A second Ctrl-C aborts at once; items in hand then come back after their lease expires.
    """
    conf = settings()
    with cli_errors(), database(conf) as db:
        summary = service.work(conf, db, bot, workers=workers)
    print_summary(summary)
    raise typer.Exit(summary["exit_code"])


def assess(
    bot: str = BOT_ARG,
    application: Path = typer.Argument(..., help="One application as JSON: the form's keys with the raw "
                                       "strings, plus `documents` and `received` (YYYY-MM-DD)."),
    policy: Path = typer.Option(None, "--policy", help="Policy file; default: the one in force on the date "
                                "received."),
    with_db: bool = typer.Option(False, "--db", help="Also check for duplicates in the work queue."),
) -> None:
    """Check one application and compute the pre-assessment; prints JSON.

    Exit 0: complete (no findings); 1: intake checks failed; 2: unusable input.
    """
    conf = settings()
    with cli_errors():
        bot_def = service.bot_for(conf, bot)
        if bot_def.assess is None:
            fail_usage(f"bot {bot!r} has no assess command")
        if with_db:
            with database(conf) as db, dry_run_context(conf, bot) as ctx:
                from common.runs import blob_store
                from common.workqueue import WorkQueue

                queue = WorkQueue(db, ctx.bot_settings.queue or bot, blob_store(conf))
                result, code = bot_def.assess(application, policy, queue, ctx)
        else:
            with dry_run_context(conf, bot) as ctx:
                result, code = bot_def.assess(application, policy, None, ctx)
    print(json.dumps(result, ensure_ascii=False, indent=2))
    raise typer.Exit(code)


# -- presentation -----------------------------------------------------------------------------------

def record_json(record: IntakeRecord) -> dict[str, Any]:
    """One message or submission as `softbot intake --json` prints it (BSN/IBAN in findings masked).

    `outcome` is `application`, `human` (with `reasons` codes and the Dutch `reason`) or `duplicate`;
    `fields` are the form's raw strings as read; each document has `role` (raw, attachment, inline),
    `type`, `filename`, `size`, the sniffed `content_type` and the `sha256` of its decoded bytes.
    """
    new = record.new_item
    return {
        "source": record.source, "key": record.key, "reference": record.reference,
        "outcome": record.outcome, "reasons": record.reasons,
        "reason": new.failure.message if new.failure else None, "item_id": record.item_id,
        "channel": new.channel, "received": new.payload.get("received"),
        "fields": new.payload.get("fields", {}),
        "findings": [mask_finding(f) for f in (new.failure.findings if new.failure else [])],
        "documents": record.documents,
    }


class _intake_progress:
    """A progress bar of inputs read (stderr, only on a terminal), yielding the per-record callback.

    The total grows as each source says how many inputs it listed (IntakeRecord.total).
    """

    def __init__(self, quiet: bool = False) -> None:
        self._progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                                  MofNCompleteColumn(), TimeElapsedColumn(), console=err, transient=True,
                                  disable=quiet or not err.is_terminal)
        self._totals: dict[str, int] = {}

    def __enter__(self) -> Any:
        self._progress.__enter__()
        task = self._progress.add_task("intake: berichten gelezen", total=None)

        def advance(record: IntakeRecord) -> None:
            if record.total is not None and record.source not in self._totals:
                self._totals[record.source] = record.total
                self._progress.update(task, total=sum(self._totals.values()))
            self._progress.advance(task)

        return advance

    def __exit__(self, *exc: object) -> None:
        self._progress.__exit__(*exc)


def _print_records(records: list[IntakeRecord], title: str = "Intake (dry run: nothing written)") -> None:
    if not records:
        out.print(f"{title}: no message or submission found in the sources read")
        return
    table = Table(title=title)
    for column in ("source", "reference", "outcome", "reasons", "documents", "item"):
        table.add_column(column, overflow="fold")
    for r in records:
        table.add_row(r.source, r.reference, r.outcome, ", ".join(r.reasons), str(len(r.new_item.documents)),
                      "" if r.item_id is None else str(r.item_id))
    out.print(table)


def print_summary(summary: dict[str, Any]) -> None:
    """The end-of-run summary for the console."""
    counts = summary["counts"]
    out.print(f"[bold]Run {summary['run_id']}[/] ({summary['bot']}, {summary['command']}): "
              f"{summary['status']}, exit code {summary['exit_code']}, {summary['duration_seconds']:.1f} s")
    out.print(f"  read {counts.get('read', 0)}, new items {counts.get('added', 0)}, "
              f"duplicates {counts.get('duplicates', 0)}, straight to a caseworker {counts.get('to_human', 0)}")
    done = [i for i in summary["items"] if i["outcome"] == "done"]
    failed = [i for i in summary["items"] if i["outcome"] in ("business", "system", "human")]
    out.print(f"  registered {len(done)}, to the exception queue {len(failed)}"
              + (f", released {counts.get('released')}" if counts.get("released") else ""))
    for item in done:
        out.print(f"    [green]done[/]  item {item['item_id']:>5}  {item['reference']}  {item['zaak']}")
    for item in failed:
        out.print(f"    [red]{item['outcome']:<8}[/] item {item['item_id']:>5}  {item['reference']}  "
                  f"{', '.join(item['codes'])}")
    out.print(f"  run folder: {summary['folder']}")
    if summary.get("report"):
        out.print(f"  report: {summary['report']}")

