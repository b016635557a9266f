"""`softbot report <run-id> | --latest [--bot NAME]`: (re)build a run's report and print its headline figures."""

from __future__ import annotations

import json

import typer

from common.commands.base import EXIT_USAGE, database, err, fail_usage, out, settings
from common.reports import ReportError, RunFigures, latest_run_id, write_report


def register(app: typer.Typer) -> None:
    """Add `report` to `app`."""
    app.command("report")(report)


def report(
    run_id: str = typer.Argument(None, help="The run's id (the name of its folder under runs/)."),
    latest: bool = typer.Option(False, "--latest", help="The newest run (of --bot, when given)."),
    bot: str = typer.Option(None, "--bot", help="With --latest: the newest run of this bot."),
    as_json: bool = typer.Option(False, "--json", help="Print the figures as JSON (for tools)."),
) -> None:
    """(Re)build runs/<run-id>/report.html, items.csv and items.xlsx, and print the headline figures.

    Built from the work queue's events: rebuilding is always safe.

    Exit 2 when the run is unknown or its folder is gone.
    """
    if bool(run_id) == latest:
        fail_usage("give a run id or --latest (not both)")
    if bot and not latest:
        fail_usage("--bot goes with --latest")
    conf = settings()
    with database(conf) as db:
        try:
            chosen = run_id or latest_run_id(db, bot)
            built = write_report(db, conf, chosen)
        except ReportError as exc:
            err.print(f"[bold red]error:[/] {exc.message}", highlight=False, soft_wrap=True)
            raise typer.Exit(EXIT_USAGE) from None
    if as_json:
        print(json.dumps({**built.figures.as_dict(), "report": str(built.html), "csv": str(built.csv),
                          "xlsx": str(built.xlsx)}, ensure_ascii=False, indent=2))
        return
    print_figures(built.figures)
    out.print(f"  report: {built.html}\n  items:  {built.csv}, {built.xlsx}", highlight=False, soft_wrap=True)


def print_figures(f: RunFigures) -> None:
    """The headline figures, one short block for the console."""
    c = f.counts
    rate = "n/a" if f.stp_rate is None else f"{f.stp_rate * 100:.1f} %"
    speed = "n/a" if f.throughput_per_minute is None else f"{f.throughput_per_minute:.2f} items/min"
    end = f.ended_at.isoformat(timespec="seconds") if f.ended_at else "not closed"
    out.print(f"[bold]Run {f.run_id}[/] ({f.bot}, {f.command}): {f.status}"
              + (f", exit code {f.exit_code}" if f.exit_code is not None else ""), highlight=False, soft_wrap=True)
    out.print(f"  {f.started_at.isoformat(timespec='seconds')} to {end} ({f.duration_seconds:.0f} s), "
              f"throughput {speed}", highlight=False, soft_wrap=True)
    out.print(f"  handled {f.handled}: done {c['done']}, business {c['business']}, system {c['system']}, "
              f"to a human at intake {c['human']}; duplicates {c['duplicates']}, retries {c['retries']}",
              highlight=False, soft_wrap=True)
    out.print(f"  straight-through rate {rate}", highlight=False, soft_wrap=True)
