"""The queue's tables as pandas frames, and what each work item's events in a run add up to.

Everything a run report says comes from the database (the `runs`, `work_item_events` and
`work_items` tables), never from scraping `log.jsonl`. The events a run writes (DESIGN.md,
"The way of a work item"; `common/workqueue/queue.py`) are classified as:

| event                                              | class       |
|----------------------------------------------------|-------------|
| none -> pending (`received`)                       | `received`  |
| none -> failed (reason = first reason code)        | `human` (to a human at intake) |
| `duplicate_received` (state unchanged)             | `duplicate` |
| `reserved`, `lease_expired_taken_over`             | `start`     |
| `retry` (a failed attempt, tried again)            | `retry`     |
| -> done                                            | `done`      |
| in_progress -> failed, `details.kind` business     | `business`  |
| in_progress -> failed, kind system or `lease.expired` | `system` |
| in_progress -> pending (stopped: SIGTERM, Ctrl-C)  | `released`  |
| anything else (`submission_started`, ...)          | `other`     |

Each item touched by a run gets one outcome in that run: its last outcome event there
(`done`, `business`, `system`, `human`, `released`); an item only received is `received`,
one started but never finished (the run crashed) `unfinished`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import pandas as pd
import sqlalchemy as sa

from common.db import Database
from common.workqueue.models import EventRow, RunRow, WorkItemRow

#: outcomes that count as "handled": the item reached a result a human or the robot acts on
HANDLED = ("done", "business", "system", "human")
#: every per-item outcome, in the order reports show them
OUTCOMES = (*HANDLED, "released", "unfinished", "received")
_ENDS = frozenset({*HANDLED, "released"})
_STARTS = frozenset({"reserved", "lease_expired_taken_over"})
_CHUNK = 500  # ids per IN (...) list: well under SQLite's and PostgreSQL's parameter limits

EVENT_COLUMNS = ["event_id", "item_id", "run_id", "actor", "from_state", "to_state", "reason", "details", "at"]
ITEM_COLUMNS = ["item_id", "queue", "reference", "state", "failure_kind", "reason_codes", "message", "findings",
                "result_ref"]
RUN_COLUMNS = ["run_id", "bot", "command", "trigger", "status", "exit_code", "started_at", "ended_at", "folder"]


def _chunks(values: Sequence[Any]) -> list[Sequence[Any]]:
    return [values[i : i + _CHUNK] for i in range(0, len(values), _CHUNK)]


def runs_frame(db: Database, *, run_ids: Sequence[str] | None = None, bot: str | None = None,
               until: datetime | None = None, limit: int | None = None) -> pd.DataFrame:
    """Rows of the `runs` table, newest first (columns `RUN_COLUMNS`; times aware UTC).

    Args:
        run_ids: only these runs; bot: only this bot's runs; until: only runs started at or before
        this aware datetime; limit: at most this many.
    """
    query = sa.select(RunRow.id, RunRow.bot, RunRow.command, RunRow.trigger, RunRow.status, RunRow.exit_code,
                      RunRow.started_at, RunRow.ended_at, RunRow.folder).order_by(RunRow.started_at.desc(),
                                                                                  RunRow.id.desc())
    if run_ids is not None:
        query = query.where(RunRow.id.in_(list(run_ids)))
    if bot is not None:
        query = query.where(RunRow.bot == bot)
    if until is not None:
        query = query.where(RunRow.started_at <= until)
    if limit is not None:
        query = query.limit(limit)
    with db.session() as s:
        rows = [tuple(r) for r in s.execute(query).all()]
    return pd.DataFrame.from_records(rows, columns=RUN_COLUMNS)


def events_frame(db: Database, run_ids: Sequence[str]) -> pd.DataFrame:
    """Every event written by the given runs, in the order written (columns `EVENT_COLUMNS`)."""
    rows: list[tuple[Any, ...]] = []
    with db.session() as s:
        for chunk in _chunks(list(run_ids)):
            rows += [tuple(r) for r in s.execute(
                sa.select(EventRow.id, EventRow.item_id, EventRow.run_id, EventRow.actor, EventRow.from_state,
                          EventRow.to_state, EventRow.reason, EventRow.details, EventRow.at)
                .where(EventRow.run_id.in_(chunk))).all()]
    frame = pd.DataFrame.from_records(rows, columns=EVENT_COLUMNS)
    return frame.sort_values("event_id", kind="stable").reset_index(drop=True)


def items_frame(db: Database, item_ids: Sequence[int]) -> pd.DataFrame:
    """The current rows of the given work items (columns `ITEM_COLUMNS`), by id."""
    rows: list[tuple[Any, ...]] = []
    with db.session() as s:
        for chunk in _chunks(sorted({int(i) for i in item_ids})):
            rows += [tuple(r) for r in s.execute(
                sa.select(WorkItemRow.id, WorkItemRow.queue, WorkItemRow.reference, WorkItemRow.state,
                          WorkItemRow.failure_kind, WorkItemRow.reason_codes, WorkItemRow.message,
                          WorkItemRow.findings, WorkItemRow.result_ref)
                .where(WorkItemRow.id.in_(chunk))).all()]
    return pd.DataFrame.from_records(rows, columns=ITEM_COLUMNS)


def classify(from_state: str | None, to_state: str, reason: str, details: dict[str, Any] | None) -> str:
    """The class of one event (see the module's table). A missing `from_state` may be None or NA."""
    if reason == "duplicate_received":
        return "duplicate"
    if from_state is None or pd.isna(from_state):
        return "human" if to_state == "failed" else "received"
    if reason in _STARTS:
        return "start"
    if reason == "retry":
        return "retry"
    if to_state == "done":
        return "done"
    if to_state == "failed" and from_state == "in_progress":
        return "business" if (details or {}).get("kind") == "business" else "system"
    if to_state == "pending" and from_state == "in_progress":
        return "released"
    return "other"


def _codes(kind: str, reason: str, details: dict[str, Any] | None) -> list[str]:
    """Reason codes an outcome event carries (`fail` stores them in details; intake in `reason`)."""
    if kind in ("business", "system"):
        codes = (details or {}).get("codes")
        return [str(c) for c in codes] if codes else [reason]
    if kind == "human":
        return [reason]
    return []


def classified_events(events: pd.DataFrame) -> pd.DataFrame:
    """`events` with a `kind` column (the class of each event) and `codes` (list of str)."""
    frame = events.copy()
    if frame.empty:
        frame["kind"] = pd.Series(dtype=object)
        frame["codes"] = pd.Series(dtype=object)
        return frame
    frame["kind"] = [classify(f, t, r, d) for f, t, r, d in
                     zip(frame["from_state"], frame["to_state"], frame["reason"], frame["details"], strict=True)]
    frame["codes"] = [_codes(k, r, d) for k, r, d in zip(frame["kind"], frame["reason"], frame["details"],
                                                         strict=True)]
    return frame


ITEM_OUTCOME_COLUMNS = ["run_id", "item_id", "outcome", "codes", "started_at", "ended_at", "duration_seconds",
                        "attempts", "retries"]


def item_outcomes(events: pd.DataFrame) -> pd.DataFrame:
    """One row per (run, work item) touched by the run's events (columns `ITEM_OUTCOME_COLUMNS`).

    `started_at` is the item's first start (reservation) in the run, `ended_at` its last outcome
    event; `duration_seconds` (float) is the difference, None when either is missing (e.g. an item
    sent to a human at intake was never started). `attempts` = starts + retries in the run.
    Duplicates (`duplicate_received`) are not item outcomes: count them with `event_counts`.
    """
    frame = classified_events(events)
    frame = frame[frame["kind"] != "duplicate"]
    if frame.empty:
        return pd.DataFrame(columns=ITEM_OUTCOME_COLUMNS)
    keys = ["run_id", "item_id"]
    out = frame[keys].drop_duplicates().set_index(keys)
    ends = frame[frame["kind"].isin(_ENDS)].groupby(keys).tail(1).set_index(keys)  # events are in id order
    starts = frame[frame["kind"] == "start"].groupby(keys)["at"].agg(["first", "size"])
    retries = frame[frame["kind"] == "retry"].groupby(keys).size()
    out["outcome"] = ends["kind"]
    out["codes"] = ends["codes"]
    out["started_at"] = starts["first"]
    out["ended_at"] = ends["at"]
    out["retries"] = retries.reindex(out.index, fill_value=0).astype(int)
    out["attempts"] = starts["size"].reindex(out.index, fill_value=0).astype(int) + out["retries"]
    started = out["started_at"].notna()
    out["outcome"] = out["outcome"].where(out["outcome"].notna(), started.map({True: "unfinished", False: "received"}))
    out["codes"] = [list(c) if isinstance(c, list) else [] for c in out["codes"]]
    seconds = (out["ended_at"] - out["started_at"]).dt.total_seconds()
    out["duration_seconds"] = seconds.astype(object).where(seconds.notna(), None)
    out = out.reset_index().sort_values(keys, kind="stable").reset_index(drop=True)
    out["item_id"] = out["item_id"].astype(int)
    return out[ITEM_OUTCOME_COLUMNS]


def event_counts(events: pd.DataFrame) -> pd.DataFrame:
    """Per run: number of `duplicate_received` and `retry` events (columns run_id, duplicates, retries)."""
    frame = classified_events(events)
    if frame.empty:
        return pd.DataFrame(columns=["run_id", "duplicates", "retries"])
    counted = (frame.assign(duplicates=frame["kind"] == "duplicate", retries=frame["kind"] == "retry")
               .groupby("run_id")[["duplicates", "retries"]].sum().astype(int).reset_index())
    return counted
