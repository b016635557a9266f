"""The headline figures of a run, and of the last runs of a bot (trends).

Definitions (docs/guides/operator.md explains them to operators):

- handled = done + business + system + human (to a human at intake): items that reached an
  outcome in the run. Duplicates are repeated inputs, not items; released and unfinished items
  come back in a later run.
- straight-through rate = done / handled (None when nothing was handled).
- duration = the run's end minus its start (`runs` table); a run still going, or one that died
  without closing its row, is measured to its last event.
- throughput = handled / duration in minutes (None when the duration is 0).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

import pandas as pd

from common.reports.frames import HANDLED, OUTCOMES


@dataclass(frozen=True)
class RunFigures:
    """Counts and rates of one run. Times are aware UTC datetimes; rates are plain fractions (0.75)."""

    run_id: str
    bot: str
    command: str
    trigger: str
    status: str
    exit_code: int | None
    started_at: datetime
    ended_at: datetime | None  # None while running (or after a crash that left the row open)
    measured_to: datetime  # ended_at, else the last event of the run, else started_at
    duration_seconds: float
    counts: dict[str, int]  # per outcome (OUTCOMES), plus duplicates and retries
    handled: int
    stp_rate: float | None
    throughput_per_minute: float | None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: datetimes as ISO 8601 strings."""
        data = asdict(self)
        for key in ("started_at", "ended_at", "measured_to"):
            data[key] = data[key].isoformat() if data[key] is not None else None
        return data


def _as_datetime(value: Any) -> datetime | None:
    if value is None or pd.isna(value):
        return None
    return value.to_pydatetime() if isinstance(value, pd.Timestamp) else value


def run_figures(run: pd.Series, outcomes: pd.DataFrame, duplicates: int, retries: int,
                last_event_at: datetime | None) -> RunFigures:
    """Figures of one run.

    Args:
        run: one row of `frames.runs_frame`.
        outcomes: the run's rows of `frames.item_outcomes`.
        duplicates, retries: the run's counts from `frames.event_counts`.
        last_event_at: time of the run's last event (measures a run that has no end).
    """
    counts = {name: int((outcomes["outcome"] == name).sum()) for name in OUTCOMES}
    counts["duplicates"], counts["retries"] = int(duplicates), int(retries)
    handled = sum(counts[name] for name in HANDLED)
    started = _as_datetime(run["started_at"])
    assert started is not None  # the column is NOT NULL
    ended = _as_datetime(run["ended_at"])
    measured_to = ended or (max(last_event_at, started) if last_event_at else started)
    duration = (measured_to - started).total_seconds()
    return RunFigures(
        run_id=str(run["run_id"]), bot=str(run["bot"]), command=str(run["command"]), trigger=str(run["trigger"]),
        status=str(run["status"]), exit_code=None if pd.isna(run["exit_code"]) else int(run["exit_code"]),
        started_at=started, ended_at=ended, measured_to=measured_to, duration_seconds=duration, counts=counts,
        handled=handled, stp_rate=counts["done"] / handled if handled else None,
        throughput_per_minute=handled / (duration / 60) if duration > 0 else None)


def trend_frame(runs: pd.DataFrame, outcomes: pd.DataFrame, counted: pd.DataFrame) -> pd.DataFrame:
    """One row per run (newest first): run_id, started_at, command, status, done, business, system,
    human, duplicates, handled, stp_rate (float or NaN)."""
    per_run = (outcomes.assign(n=1).pivot_table(index="run_id", columns="outcome", values="n", aggfunc="sum",
                                                fill_value=0)
               if not outcomes.empty else pd.DataFrame(index=pd.Index([], name="run_id")))
    per_run = per_run.reindex(columns=list(HANDLED), fill_value=0)
    frame = runs[["run_id", "started_at", "command", "status"]].merge(
        per_run.reset_index(), on="run_id", how="left")
    dup = counted.set_index("run_id")["duplicates"] if not counted.empty else pd.Series(dtype=int)
    frame["duplicates"] = frame["run_id"].map(dup)
    for column in (*HANDLED, "duplicates"):
        frame[column] = frame[column].fillna(0).astype(int)
    frame["handled"] = frame[list(HANDLED)].sum(axis=1)
    frame["stp_rate"] = (frame["done"] / frame["handled"]).where(frame["handled"] > 0)
    return frame
