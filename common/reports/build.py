"""Build a run's report: `runs/<run-id>/report.html` (one self-contained file), `items.csv`, `items.xlsx`.

The runner calls `build_report(db, settings, run_id)` at the end of each run; `softbot report`
rebuilds it on demand. Everything comes from the database (frames.py); the run folder only
supplies the failure artefacts (screenshots are embedded, page HTML linked, traces named).

Privacy (DESIGN.md, "Invariants"): references, messages, findings and error texts pass through
`common.masking` before they reach any of the three files; secrets never reach them.
"""

from __future__ import annotations

import base64
import os
import shlex
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from common.config import Settings
from common.db import Database, utcnow
from common.errors import SoftbotError
from common.masking import mask_finding, mask_text
from common.reports.artefacts import FailedAttempt, failed_attempts
from common.reports.chart import COLOURS, durations_svg
from common.reports.figures import RunFigures, run_figures, trend_frame
from common.reports.frames import event_counts, events_frame, item_outcomes, items_frame, runs_frame

REPORT_HTML, ITEMS_CSV, ITEMS_XLSX = "report.html", "items.csv", "items.xlsx"
#: files a report writes into a run folder (derived: rebuilt from the database at any time)
REPORT_FILES = (REPORT_HTML, ITEMS_CSV, ITEMS_XLSX)
EXCEPTION_OUTCOMES = ("business", "system", "human")
EXPORT_COLUMNS = ["item_id", "queue", "reference", "outcome", "reason_codes", "zaak", "attempts", "retries",
                  "started_utc", "ended_utc", "duration_seconds", "state_now", "message"]


class ReportError(SoftbotError):
    """A report cannot be built: unknown run (`report.unknown_run`), no runs (`report.no_runs`),
    or the run folder is gone (`report.no_folder`, e.g. purged after `retention.run_logs` days)."""


@dataclass(frozen=True)
class RunReport:
    """What `write_report` produced: the figures and the three files."""

    figures: RunFigures
    html: Path
    csv: Path
    xlsx: Path
    items: pd.DataFrame  # the export (EXPORT_COLUMNS), masked


def latest_run_id(db: Database, bot: str | None = None) -> str:
    """The id of the newest run (of `bot`). Raises ReportError("report.no_runs")."""
    runs = runs_frame(db, bot=bot, limit=1)
    if runs.empty:
        raise ReportError("report.no_runs", "no runs recorded" + (f" for bot {bot!r}" if bot else ""))
    return str(runs.iloc[0]["run_id"])


def build_report(db: Database, settings: Settings, run_id: str) -> Path:
    """(Re)build `runs/<run_id>/report.html`, `items.csv` and `items.xlsx`; returns the HTML's path.

    Raises ReportError (unknown run, run folder missing).
    """
    return write_report(db, settings, run_id).html


def write_report(db: Database, settings: Settings, run_id: str, *, clock: Callable[[], datetime] = utcnow,
                 trend_runs: int = 10) -> RunReport:
    """Build the report of `run_id` and return its figures and files.

    Args:
        clock: aware UTC now, for the "generated at" line (tests inject their own).
        trend_runs: how many runs of the same bot (up to and including this one) the trend table shows.

    Raises:
        ReportError: `report.unknown_run` (no such run in the database), `report.no_folder`.
    """
    this = runs_frame(db, run_ids=[run_id])
    if this.empty:
        raise ReportError("report.unknown_run", f"no run {run_id!r} in the database")
    run = this.iloc[0]
    folder = settings.runs_dir / run_id
    if not folder.is_dir():
        raise ReportError("report.no_folder", f"run folder {folder} does not exist (purged after "
                                              f"retention.run_logs days?)")
    recent = runs_frame(db, bot=str(run["bot"]), until=run["started_at"].to_pydatetime(), limit=trend_runs)
    if run_id not in set(recent["run_id"]):  # same start time as newer runs: keep this one in
        recent = pd.concat([this, recent.iloc[: trend_runs - 1]], ignore_index=True)
    events = events_frame(db, list(recent["run_id"]))
    outcomes = item_outcomes(events)
    counted = event_counts(events)
    mine = outcomes[outcomes["run_id"] == run_id].reset_index(drop=True)
    my_counts = counted[counted["run_id"] == run_id]
    my_events = events[events["run_id"] == run_id]
    figures = run_figures(
        run, mine,
        duplicates=int(my_counts["duplicates"].iloc[0]) if not my_counts.empty else 0,
        retries=int(my_counts["retries"].iloc[0]) if not my_counts.empty else 0,
        last_event_at=my_events["at"].max().to_pydatetime() if not my_events.empty else None)
    items = items_frame(db, list(mine["item_id"]))
    export = export_frame(mine, items)
    attempts = failed_attempts(folder)

    paths = RunReport(figures=figures, html=folder / REPORT_HTML, csv=folder / ITEMS_CSV,
                      xlsx=folder / ITEMS_XLSX, items=export)
    with _atomic(paths.csv) as tmp:
        export.to_csv(tmp, index=False)
    with _atomic(paths.xlsx) as tmp:
        _write_xlsx(tmp, export, figures)
    html = _render(settings, figures, mine, items, export, attempts, trend_frame(recent, outcomes, counted),
                   folder, clock())
    with _atomic(paths.html) as tmp:
        tmp.write_text(html, encoding="utf-8")
    return paths


# -- the export -------------------------------------------------------------------------------------

def export_frame(outcomes: pd.DataFrame, items: pd.DataFrame) -> pd.DataFrame:
    """One row per item of the run (EXPORT_COLUMNS), reference and message masked.

    `zaak` is the item's result reference when it is done or resolved; `state_now` and `message`
    are the item's current state and message (a caseworker may have acted since the run);
    both are empty for an item whose row was purged.
    """
    frame = outcomes.merge(items, on="item_id", how="left")
    closed = frame["state"].isin(["done", "resolved"])
    out = pd.DataFrame({
        "item_id": frame["item_id"].astype(int),
        "queue": frame["queue"],
        "reference": [mask_text(r) if isinstance(r, str) else "" for r in frame["reference"]],
        "outcome": frame["outcome"],
        "reason_codes": ["; ".join(codes) for codes in frame["codes"]],
        "zaak": frame["result_ref"].where(closed, None),
        "attempts": frame["attempts"].astype(int),
        "retries": frame["retries"].astype(int),
        "started_utc": pd.to_datetime(frame["started_at"], utc=True),
        "ended_utc": pd.to_datetime(frame["ended_at"], utc=True),
        "duration_seconds": pd.to_numeric(frame["duration_seconds"]).round(3),
        "state_now": frame["state"],
        "message": [mask_text(m) if isinstance(m, str) else "" for m in frame["message"]],
    }, columns=EXPORT_COLUMNS)
    return out.sort_values(["started_utc", "item_id"], na_position="first", kind="stable").reset_index(drop=True)


def _write_xlsx(path: Path, export: pd.DataFrame, figures: RunFigures) -> None:
    """Two sheets: `items` (the export; times as UTC without zone, Excel has none) and `summary`."""
    sheet = export.copy()
    for column in ("started_utc", "ended_utc"):
        sheet[column] = sheet[column].dt.tz_localize(None)
    summary = pd.DataFrame([(k, v if not isinstance(v, dict) else None) for k, v in figures.as_dict().items()
                            if k != "counts"] + list(figures.counts.items()), columns=["figure", "value"])
    summary["value"] = summary["value"].astype(str)
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        sheet.to_excel(writer, sheet_name="items", index=False)
        summary.to_excel(writer, sheet_name="summary", index=False)


@contextmanager
def _atomic(path: Path) -> Iterator[Path]:
    """Write to a temporary file next to `path`, then replace `path` (a reader never sees half a file)."""
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=path.suffix)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


# -- the HTML ---------------------------------------------------------------------------------------

_ENV = Environment(loader=PackageLoader("common.reports", "."), autoescape=select_autoescape(["html"]),
                   trim_blocks=True, lstrip_blocks=True)


def _duration(seconds: float | None) -> str:
    if seconds is None or pd.isna(seconds):
        return ""
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min {secs:02d} s" if hours else f"{minutes} min {secs:02d} s"


def _percent(rate: float | None) -> str:
    return "n/a" if rate is None or pd.isna(rate) else f"{rate * 100:.1f} %"


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as dicts with None for every missing value (NaN/NaT/NA are truthy in a template)."""
    return frame.astype(object).where(frame.notna(), None).to_dict("records")


def _data_uri(path: Path, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


def _attempt_view(attempt: FailedAttempt, folder: Path, embed: bool) -> dict[str, Any]:
    return {
        "attempt": attempt.attempt,
        "error": mask_text(attempt.error) if attempt.error else "",
        "screenshot_src": _data_uri(attempt.screenshot, "image/png") if attempt.screenshot and embed else None,
        "screenshot_href": attempt.screenshot.relative_to(folder).as_posix() if attempt.screenshot else None,
        "page_href": attempt.page_html.relative_to(folder).as_posix() if attempt.page_html else None,
        "trace_command": (f"playwright show-trace {shlex.quote(str(attempt.trace.resolve()))}"
                          if attempt.trace else None),
    }


def _render(settings: Settings, figures: RunFigures, outcomes: pd.DataFrame, items: pd.DataFrame,
            export: pd.DataFrame, attempts: dict[int, list[FailedAttempt]], trends: pd.DataFrame,
            folder: Path, generated: datetime) -> str:
    zone = ZoneInfo(settings.timezone)

    def local(value: Any) -> str:
        if value is None or pd.isna(value):
            return ""
        return pd.Timestamp(value).to_pydatetime().astimezone(zone).strftime("%Y-%m-%d %H:%M:%S %Z")

    findings = {int(row.item_id): [mask_finding({**f, "message": mask_text(str(f.get("message", "")))})
                                   for f in (row.findings or [])]
                for row in items.itertuples() if row.state == "failed"}
    exceptions = [{**row, "findings": findings.get(row["item_id"], [])}
                  for row in _records(export[export["outcome"].isin(EXCEPTION_OUTCOMES)])]
    system_ids = [int(i) for i in export.loc[export["outcome"] == "system", "item_id"]]
    system = [{"item_id": i, "reference": export.loc[export["item_id"] == i, "reference"].iloc[0],
               "codes": export.loc[export["item_id"] == i, "reason_codes"].iloc[0],
               # the last attempt's screenshot embedded (what the item failed on); earlier ones linked
               "attempts": [_attempt_view(a, folder, embed=a is attempts[i][-1]) for a in attempts.get(i, [])]}
              for i in system_ids]
    others = [{"item_id": i, "outcome": (export.loc[export["item_id"] == i, "outcome"].tolist() or ["?"])[0],
               "attempts": [_attempt_view(a, folder, embed=False) for a in found]}
              for i, found in sorted(attempts.items()) if i not in system_ids]
    timed = outcomes.dropna(subset=["duration_seconds"]).sort_values(["started_at", "item_id"])
    chart = durations_svg([(int(r.item_id), str(r.outcome), float(r.duration_seconds))
                           for r in timed.itertuples()])
    durations = pd.to_numeric(timed["duration_seconds"])
    return _ENV.get_template("report.html").render(
        f=figures, local=local, duration=_duration, percent=_percent, zone=settings.timezone,
        chart=Markup(chart),  # trusted: built from numbers and html.escape()d text only (chart.py)
        colours=COLOURS, legend={name: COLOURS[name] for name in COLOURS if name in set(timed["outcome"])},
        duration_stats={"median": durations.median(), "p90": durations.quantile(0.9), "max": durations.max(),
                        "count": len(durations)} if len(durations) else None,
        exceptions=exceptions, system=system, others=others,
        trends=_records(trends), generated=local(generated), items=_records(export))
