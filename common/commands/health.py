"""`softbot health`: is everything a run needs up, and what needs attention (exit 1 when something is down)."""

from __future__ import annotations

import json

import typer
from rich.table import Table

from common.commands.base import fail_usage, out, settings
from common.errors import ConfigError
from common.scheduler.health import exit_code, run_checks
from common.scheduler.schedules import load_schedules, schedules_path

STYLE = {"ok": "green", "down": "bold red", "warn": "yellow", "info": "", "unchecked": "cyan"}


def register(app: typer.Typer) -> None:
    """Add `softbot health` to `app`."""
    app.command("health")(health)


def health(as_json: bool = typer.Option(False, "--json", help="One JSON object per check, for monitoring.")) -> None:
    """Check the database, each bot's sources and case system login page; show each bot's last run and oldest
    open exception, and the scheduler service.

    Exit 0: nothing is down (warnings may be shown); 1: something a run needs is down; 2: configuration error.
    """
    conf = settings()
    path = schedules_path()
    jobs_scheduled = False
    if path.exists():
        try:
            jobs_scheduled = any(job.enabled for job in load_schedules(path, conf).jobs.values())
        except ConfigError as exc:
            fail_usage(exc.message)
    checks = run_checks(conf, jobs_scheduled=jobs_scheduled)
    code = exit_code(checks)
    if as_json:
        print(json.dumps({"healthy": code == 0, "checks": [c.as_dict() for c in checks]}, indent=2,
                         ensure_ascii=False))
        raise typer.Exit(code)
    table = Table(title="softbot health")
    for column in ("check", "status", "detail"):
        table.add_column(column)
    for c in checks:
        style = STYLE[c.status]
        table.add_row(c.name, f"[{style}]{c.status}[/]" if style else c.status, c.detail)
    out.print(table)
    out.print("[bold red]something is down[/]" if code else "[green]nothing is down[/]")
    raise typer.Exit(code)
