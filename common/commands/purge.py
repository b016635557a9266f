"""`softbot purge [--dry-run]`: apply every retention period of config (common/retention.py)."""

from __future__ import annotations

import json

import typer

from common.commands.base import database, out, settings
from common.retention import PurgeResult, purge


def register(app: typer.Typer) -> None:
    """Add `purge` to `app`."""
    app.command("purge")(purge_command)


def purge_command(
    dry_run: bool = typer.Option(False, "--dry-run", help="Show what would be removed; remove nothing."),
    as_json: bool = typer.Option(False, "--json", help="Print the counts as JSON (for tools)."),
) -> None:
    """Remove personal data kept longer than its retention period (retention: in config/softbot.yaml).

    Raw inputs, attachments and rows of closed (done/resolved) items; failure artefacts; run folders.

    Failed, pending and in-progress items (the exception queue) are never touched.

    Prints per kind what was removed: count, files, bytes.
    """
    conf = settings()
    with database(conf) as db:
        result = purge(db, conf, dry_run=dry_run)
    if as_json:
        print(json.dumps({"dry_run": result.dry_run, "now": result.now.isoformat(),
                          "kinds": [{"kind": k.kind, "days": k.days, "cutoff": k.cutoff.isoformat(),
                                     "unit": k.unit, "removed": k.removed, "files": k.files, "bytes": k.bytes,
                                     "kept": k.kept, "kept_why": k.kept_why, **k.detail} for k in result.kinds]},
                         indent=2))
        return
    print_result(result)


def _size(n: int) -> str:
    """`12345` -> `"12,345 bytes (12.1 KB)"`."""
    if n < 1024:
        return f"{n} bytes"
    value, unit = float(n), "bytes"
    for bigger in ("KB", "MB", "GB", "TB"):
        if value < 1024:
            break
        value, unit = value / 1024, bigger
    return f"{n:,} bytes ({value:.1f} {unit})"


def print_result(result: PurgeResult) -> None:
    """One line per kind of data: period, cutoff, what went (count, files, bytes), what was kept and why."""
    title = "Purge (dry run: nothing removed)" if result.dry_run else "Purge"
    out.print(f"[bold]{title}[/], {result.now.isoformat(timespec='seconds')}", highlight=False, soft_wrap=True)
    for k in result.kinds:
        of_items = f" of {k.detail['items']} items" if "items" in k.detail else ""
        also = ", ".join(f"{name.replace('_', ' ')} {n}" for name, n in k.detail.items() if n and name != "items")
        out.print(f"  {k.kind:<18} {k.days:>4} days (before {k.cutoff:%Y-%m-%d %H:%M} UTC): "
                  f"{k.removed} {k.unit}{of_items}, {k.files} files, {_size(k.bytes)}"
                  + (f" ({also})" if also else "") + (f"; kept {k.kept}: {k.kept_why}" if k.kept else ""),
                  highlight=False, soft_wrap=True)
