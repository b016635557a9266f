"""Run reports (common/reports): figures, HTML, exports, built from the queue's events.

The hand-built run below writes every event through the real WorkQueue, on a fake clock.

Run `R1` of bot `tonk` (2021-10-12 08:00:00Z to 08:10:00Z, 600 s):

| item | what happens in R1                                              | outcome  | duration |
|------|-----------------------------------------------------------------|----------|----------|
| A    | received 08:00:10, reserved 08:01:00, completed 08:01:30        | done     | 30 s     |
| B    | received, reserved 08:02:00, business failure 08:02:10         | business | 10 s     |
| C    | received, reserved 08:03:00, retry 08:03:20, completed 08:04:00 | done     | 60 s     |
| D    | received, reserved 08:05:00, retries 08:05:30 and 08:06:00,     | system   | 90 s     |
|      | system failure 08:06:30                                         |          |          |
| E    | received, reserved 08:07:00, completed 08:07:15                 | done     | 15 s     |
| H    | to a human at intake 08:00:20 (not_an_application)              | human    | none     |
| A    | the same reference again at 08:00:30: a duplicate               |          |          |

An earlier run `R0` (2021-10-11) registered one item F; a caseworker resolving H at 08:30 (an event
without a run id) is not counted. D's three failed attempts left a screenshot, page HTML, trace and error.
"""

from __future__ import annotations

import base64
import csv
import json
import sys
import types
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from typer.testing import CliRunner

from common import app as service
from common.bot import BotDefinition, ItemOutcome, ItemSteps
from common.config import BackoffSettings, BotSettings, Settings
from common.db import Database
from common.errors import BusinessException, SystemException
from common.reports import ReportError, build_report, latest_run_id, write_report
from common.reports.build import EXPORT_COLUMNS
from common.reports.frames import EVENT_COLUMNS, item_outcomes
from common.sources.base import Incoming
from common.storage import BlobStore
from common.workqueue import Failure, FailureKind, NewItem, WorkItem, WorkQueue
from common.workqueue.models import RunRow

BSN = "111222333"
IBAN = "NL91ABNA0417164300"
# a 1x1 transparent PNG
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=")
T0 = datetime(2021, 10, 12, 8, 0, 0, tzinfo=UTC)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def at(self, minutes: int, seconds: int = 0) -> None:
        self.now = T0 + timedelta(minutes=minutes, seconds=seconds)


@dataclass
class HandBuilt:
    ids: dict[str, int]
    run_folder: Path
    settings: Settings


def add_run(db: Database, run_id: str, started: datetime, ended: datetime | None, folder: Path,
            status: str = "completed", exit_code: int | None = 1) -> None:
    with db.session() as s:
        s.add(RunRow(id=run_id, bot="tonk", command="run", trigger="cli", host="test", pid=1, folder=str(folder),
                     status=status, exit_code=exit_code, counts={}, started_at=started, ended_at=ended))


def build(db: Database, tmp_path: Path) -> HandBuilt:
    settings = Settings(data_dir=tmp_path / "data", runs_dir=tmp_path / "runs")
    clock = Clock(T0 - timedelta(days=1))
    queue = WorkQueue(db, "tonk", BlobStore(tmp_path / "data" / "blobs"), clock=clock)
    ids: dict[str, int] = {}
    w = "runner-1"

    # R0, the day before: F registered
    add_run(db, "R0", T0 - timedelta(days=1), T0 - timedelta(days=1) + timedelta(minutes=5), tmp_path / "runs/R0",
            exit_code=0)
    ids["F"] = queue.add(NewItem(reference="F", payload={}), actor="producer", run_id="R0").item_id
    queue.reserve(w, lease_seconds=60, max_attempts=3, run_id="R0")
    queue.complete(ids["F"], w, result={}, result_ref="ZAAK-F", run_id="R0")

    folder = tmp_path / "runs" / "R1"
    folder.mkdir(parents=True)
    add_run(db, "R1", T0, T0 + timedelta(minutes=10), folder)
    clock.at(0, 10)
    for ref in "ABCDE":
        ids[ref] = queue.add(NewItem(reference=ref, payload={}), actor="producer", run_id="R1").item_id
    clock.at(0, 20)
    ids["H"] = queue.add(NewItem(reference="H", payload={}, failure=Failure(
        FailureKind.BUSINESS, ["not_an_application"], "Geen aanvraag")), actor="producer", run_id="R1").item_id
    clock.at(0, 30)
    assert not queue.add(NewItem(reference="A", payload={}), actor="producer", run_id="R1").created

    def reserve(ref: str, minute: int, second: int = 0) -> None:
        clock.at(minute, second)
        item = queue.reserve(w, lease_seconds=600, max_attempts=3, run_id="R1")
        assert item is not None and item.id == ids[ref]

    reserve("A", 1)
    clock.at(1, 30)
    queue.complete(ids["A"], w, result={"zaak": "ZAAK-A"}, result_ref="ZAAK-A", run_id="R1")
    reserve("B", 2)
    clock.at(2, 10)
    queue.fail(ids["B"], w, Failure(
        FailureKind.BUSINESS, ["bsn_invalid", "iban_invalid"],
        f"BSN {BSN} klopt niet (IBAN: {IBAN})",
        [{"code": "bsn_invalid", "field": "bsn", "value": BSN, "message": f"{BSN} faalt de elfproef"}]), run_id="R1")
    reserve("C", 3)
    clock.at(3, 20)
    queue.record_attempt(ids["C"], w, code="page.timeout", message="te traag", run_id="R1")
    clock.at(4)
    queue.complete(ids["C"], w, result={}, result_ref="ZAAK-C", run_id="R1")
    reserve("D", 5)
    for second in (30, 60):
        clock.at(5, second)
        queue.record_attempt(ids["D"], w, code="page.timeout", message="te traag", run_id="R1")
    clock.at(6, 30)
    queue.fail(ids["D"], w, Failure(FailureKind.SYSTEM, ["page.timeout"], "De pagina laadde niet"), run_id="R1")
    reserve("E", 7)
    clock.at(7, 15)
    queue.complete(ids["E"], w, result={}, result_ref="ZAAK-E", run_id="R1")

    for attempt in (1, 2, 3):
        attempt_dir = folder / "failures" / str(ids["D"]) / f"attempt-{attempt}"
        attempt_dir.mkdir(parents=True)
        (attempt_dir / "screenshot.png").write_bytes(PNG)
        (attempt_dir / "page.html").write_text(f"<html>BSN {BSN}</html>", encoding="utf-8")
        (attempt_dir / "trace.zip").write_bytes(b"PK")
        (attempt_dir / "error.txt").write_text(f"SystemException: page.timeout for BSN {BSN}\n", encoding="utf-8")

    # a caseworker resolves H after the run: an event without a run id
    clock.at(30)
    queue.resolve(ids["H"], actor="person:jan", reason="geen aanvraag, afgelegd")
    return HandBuilt(ids=ids, run_folder=folder, settings=settings)


@pytest.fixture
def built(any_db: Database, tmp_path: Path) -> HandBuilt:
    return build(any_db, tmp_path)


@pytest.fixture
def sqlite_built(sqlite_db: Database, tmp_path: Path) -> HandBuilt:
    return build(sqlite_db, tmp_path)


# -- figures ---------------------------------------------------------------------------------------

def test_counts_per_outcome_from_the_runs_events(any_db: Database, built: HandBuilt) -> None:
    f = write_report(any_db, built.settings, "R1").figures
    # A, C, E done; B business; D system; H to a human at intake; A sent again: one duplicate;
    # retries: C once, D twice = 3. The caseworker's resolve of H has no run id and changes nothing.
    assert f.counts == {"done": 3, "business": 1, "system": 1, "human": 1, "released": 0, "unfinished": 0,
                        "received": 0, "duplicates": 1, "retries": 3}
    assert f.handled == 6  # 3 + 1 + 1 + 1 (duplicates are inputs, not items)


def test_straight_through_rate_duration_and_throughput(any_db: Database, built: HandBuilt) -> None:
    f = write_report(any_db, built.settings, "R1").figures
    assert f.stp_rate == 0.5  # done 3 / handled 6
    assert f.started_at == T0 and f.ended_at == T0 + timedelta(minutes=10)
    assert f.duration_seconds == 600.0  # 08:00:00 to 08:10:00
    assert f.throughput_per_minute == pytest.approx(0.6)  # 6 items / 10 minutes


def test_per_item_durations_and_attempts(any_db: Database, built: HandBuilt) -> None:
    items = write_report(any_db, built.settings, "R1").items.set_index("item_id")
    ids = built.ids
    # reservation to outcome: A 08:01:00-08:01:30, B 08:02:00-08:02:10, C 08:03:00-08:04:00,
    # D 08:05:00-08:06:30, E 08:07:00-08:07:15; H was never reserved
    assert {ref: items.loc[ids[ref], "duration_seconds"] for ref in "ABCDE"} == {
        "A": 30.0, "B": 10.0, "C": 60.0, "D": 90.0, "E": 15.0}
    assert pd.isna(items.loc[ids["H"], "duration_seconds"])
    # attempts = reservations + retries: C 1 + 1, D 1 + 2
    assert {ref: int(items.loc[ids[ref], "attempts"]) for ref in "ABCDEH"} == {
        "A": 1, "B": 1, "C": 2, "D": 3, "E": 1, "H": 0}


def test_a_run_without_an_end_is_measured_to_its_last_event(sqlite_db: Database, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", runs_dir=tmp_path / "runs")
    clock = Clock(T0)
    queue = WorkQueue(sqlite_db, "tonk", BlobStore(tmp_path / "blobs"), clock=clock)
    add_run(sqlite_db, "R9", T0, None, tmp_path / "runs/R9", status="running", exit_code=None)
    (tmp_path / "runs/R9").mkdir(parents=True)
    for ref in "XY":
        queue.add(NewItem(reference=ref, payload={}), actor="producer", run_id="R9")
    clock.at(2)
    queue.reserve("w", lease_seconds=60, max_attempts=3, run_id="R9")  # X in progress when the run died
    f = write_report(sqlite_db, settings, "R9").figures
    assert f.measured_to == T0 + timedelta(minutes=2) and f.duration_seconds == 120.0  # to the reservation
    assert f.counts["unfinished"] == 1 and f.counts["received"] == 1  # X started, Y only received
    assert f.handled == 0 and f.stp_rate is None and f.throughput_per_minute == 0.0  # 0 items / 2 min


def test_event_classes_released_and_expired_leases() -> None:
    at = [T0 + timedelta(seconds=s) for s in range(6)]
    rows = [  # (item, from, to, reason, details)
        (1, "pending", "in_progress", "reserved", {}),
        (1, "in_progress", "pending", "stopped", {}),                                  # SIGTERM: released
        (2, "in_progress", "in_progress", "lease_expired_taken_over", {}),
        (2, "in_progress", "in_progress", "submission_started", {}),
        (3, "in_progress", "failed", "lease.expired", {"attempts": 3}),               # no kind: system
        (4, "in_progress", "failed", "bsn_invalid", {"kind": "business", "codes": ["bsn_invalid", "x"]}),
    ]
    events = pd.DataFrame([(i, item, "R", "w", f, t, r, d, at[i]) for i, (item, f, t, r, d) in enumerate(rows)],
                          columns=EVENT_COLUMNS)
    out = item_outcomes(events).set_index("item_id")
    assert out["outcome"].to_dict() == {1: "released", 2: "unfinished", 3: "system", 4: "business"}
    assert out.loc[3, "codes"] == ["lease.expired"] and out.loc[4, "codes"] == ["bsn_invalid", "x"]
    assert out.loc[1, "duration_seconds"] == 1.0  # reserved at +0 s, released at +1 s


# -- the HTML ---------------------------------------------------------------------------------------

def test_html_masks_bsn_and_iban_everywhere(sqlite_db: Database, sqlite_built: HandBuilt) -> None:
    html = build_report(sqlite_db, sqlite_built.settings, "R1").read_text(encoding="utf-8")
    assert BSN not in html and IBAN not in html
    assert "BSN *****2333 klopt niet (IBAN: NL91 **** **** **43 00)" in html  # B's message
    assert "(*****2333): *****2333 faalt de elfproef" in html  # B's finding: value and message
    assert "SystemException: page.timeout for BSN *****2333" in html  # D's error.txt


def test_html_embeds_each_system_failure_screenshot_and_names_page_and_trace(
        sqlite_db: Database, sqlite_built: HandBuilt) -> None:
    html = build_report(sqlite_db, sqlite_built.settings, "R1").read_text(encoding="utf-8")
    d = sqlite_built.ids["D"]
    # the screenshot of D's last attempt (what it failed on) is embedded; the two before are linked
    assert html.count("data:image/png;base64," + base64.b64encode(PNG).decode()) == 1
    assert html.index("data:image/png") > html.index("<b>attempt 3</b>")
    for n in (1, 2):
        assert f'<a href="failures/{d}/attempt-{n}/screenshot.png">' in html
    for n in (1, 2, 3):
        assert f'<a href="failures/{d}/attempt-{n}/page.html">' in html
        trace = (sqlite_built.run_folder / "failures" / str(d) / f"attempt-{n}" / "trace.zip").resolve()
        assert f"playwright show-trace {trace}" in html
    assert "<link" not in html and "<script" not in html  # self-contained: inline CSS, nothing fetched


def test_html_chart_has_one_bar_per_timed_item(sqlite_db: Database, sqlite_built: HandBuilt) -> None:
    html = build_report(sqlite_db, sqlite_built.settings, "R1").read_text(encoding="utf-8")
    ids = sqlite_built.ids
    assert html.count("<rect ") == 5  # A B C D E; H was never timed
    assert f"<title>item {ids['D']}: 90.0 s (system)</title>" in html
    assert "median 30.0 s" in html  # of 10, 15, 30, 60, 90


def test_html_trend_table_shows_the_bots_last_runs(sqlite_db: Database, sqlite_built: HandBuilt) -> None:
    html = build_report(sqlite_db, sqlite_built.settings, "R1").read_text(encoding="utf-8")
    assert "the last 2 runs of tonk" in html
    # R0: F done, 1 of 1 = 100 %; R1: 3 of 6 = 50 %
    r0 = html[html.index("<td>R0</td>"):]
    assert '<td class="n">1</td>' in r0[:600] and "100.0 %" in r0[:600]
    assert "50.0 %" in html[html.index('<td>R1</td>'):][:600]


def test_html_escapes_what_citizens_typed(sqlite_db: Database, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", runs_dir=tmp_path / "runs")
    (tmp_path / "runs/R2").mkdir(parents=True)
    add_run(sqlite_db, "R2", T0, T0 + timedelta(minutes=1), tmp_path / "runs/R2")
    queue = WorkQueue(sqlite_db, "tonk", BlobStore(tmp_path / "blobs"), clock=Clock(T0))
    queue.add(NewItem(reference="<script>alert(1)</script>", payload={}, failure=Failure(
        FailureKind.BUSINESS, ["unreadable"], "<img src=x onerror=alert(1)>")), actor="producer", run_id="R2")
    html = build_report(sqlite_db, settings, "R2").read_text(encoding="utf-8")
    assert "<script>alert" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img src=x" not in html


# -- the exports ------------------------------------------------------------------------------------

def test_items_csv_holds_one_masked_row_per_item(sqlite_db: Database, sqlite_built: HandBuilt) -> None:
    report = write_report(sqlite_db, sqlite_built.settings, "R1")
    with report.csv.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == EXPORT_COLUMNS
    ids = sqlite_built.ids
    assert [int(r["item_id"]) for r in rows] == [ids[ref] for ref in "HABCDE"]  # H was never started: first
    by_ref = {r["reference"]: r for r in rows}
    assert by_ref["A"]["outcome"] == "done" and by_ref["A"]["zaak"] == "ZAAK-A"
    assert by_ref["A"]["started_utc"] == "2021-10-12 08:01:00+00:00" and by_ref["A"]["duration_seconds"] == "30.0"
    assert by_ref["B"]["reason_codes"] == "bsn_invalid; iban_invalid" and by_ref["B"]["zaak"] == ""
    assert by_ref["B"]["message"] == "BSN *****2333 klopt niet (IBAN: NL91 **** **** **43 00)"
    assert by_ref["H"]["outcome"] == "human" and by_ref["H"]["state_now"] == "resolved"
    assert BSN not in report.csv.read_text(encoding="utf-8")


def test_items_xlsx_has_the_items_and_a_summary(sqlite_db: Database, sqlite_built: HandBuilt) -> None:
    report = write_report(sqlite_db, sqlite_built.settings, "R1")
    book = openpyxl.load_workbook(report.xlsx)
    items = list(book["items"].iter_rows(values_only=True))
    assert list(items[0]) == EXPORT_COLUMNS
    assert len(items) == 7  # header + H A B C D E
    columns = {name: i for i, name in enumerate(items[0])}
    d_row = next(r for r in items[1:] if r[columns["reference"]] == "D")
    assert d_row[columns["outcome"]] == "system" and d_row[columns["duration_seconds"]] == 90.0
    assert d_row[columns["started_utc"]] == datetime(2021, 10, 12, 8, 5)  # UTC; Excel has no zones
    summary = dict(book["summary"].iter_rows(min_row=2, values_only=True))
    assert summary["stp_rate"] == "0.5" and summary["handled"] == "6" and summary["duplicates"] == "1"


# -- errors and the latest run ----------------------------------------------------------------------

def test_unknown_run_and_missing_folder_are_named(sqlite_db: Database, sqlite_built: HandBuilt) -> None:
    with pytest.raises(ReportError, match="no run 'R7'"):
        build_report(sqlite_db, sqlite_built.settings, "R7")
    add_run(sqlite_db, "R8", T0, T0, sqlite_built.run_folder.parent / "R8")
    with pytest.raises(ReportError) as caught:
        build_report(sqlite_db, sqlite_built.settings, "R8")
    assert caught.value.code == "report.no_folder"


def test_latest_run_by_start_time_and_bot(sqlite_db: Database, sqlite_built: HandBuilt) -> None:
    assert latest_run_id(sqlite_db) == "R1"
    assert latest_run_id(sqlite_db, "tonk") == "R1"
    with pytest.raises(ReportError, match="no runs recorded for bot 'wabo'"):
        latest_run_id(sqlite_db, "wabo")


def test_cli_report_latest_prints_the_headline_figures(sqlite_db: Database, sqlite_built: HandBuilt,
                                                      tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from common.commands import app

    config = tmp_path / "softbot.yaml"
    config.write_text(json.dumps({"data_dir": str(tmp_path / "data"), "runs_dir": str(tmp_path / "runs"),
                                  "database_url": sqlite_db.url}), encoding="utf-8")
    monkeypatch.setenv("SOFTBOT_CONFIG", str(config))
    result = CliRunner().invoke(app, ["report", "--latest", "--bot", "tonk"])
    assert result.exit_code == 0, result.output
    assert "Run R1" in result.output
    assert "handled 6: done 3, business 1, system 1, to a human at intake 1; duplicates 1, retries 3" in result.output
    assert "straight-through rate 50.0 %" in result.output and "0.60 items/min" in result.output
    assert (tmp_path / "runs/R1/report.html").exists()
    figures = json.loads(CliRunner().invoke(app, ["report", "R1", "--json"]).output)
    assert figures["stp_rate"] == 0.5 and figures["duration_seconds"] == 600.0
    assert CliRunner().invoke(app, ["report", "R404"]).exit_code == 2
    assert CliRunner().invoke(app, ["report"]).exit_code == 2  # neither a run id nor --latest


# -- with the real runner ---------------------------------------------------------------------------

class _Consumer:
    """Fails per reference as scripted; writes a screenshot for each failed attempt."""

    def __init__(self) -> None:
        self.script: dict[str, list[Exception]] = {
            "B": [BusinessException("bsn_invalid", f"BSN {BSN} klopt niet")],
            "C": [SystemException("page.timeout", "te traag")],
            "D": [SystemException("page.timeout", "te traag") for _ in range(2)]}

    def process(self, item: WorkItem, steps: ItemSteps) -> ItemOutcome:
        if self.script.get(item.reference):
            raise self.script[item.reference].pop(0)
        return ItemOutcome(result={}, result_ref=f"ZAAK-{item.reference}")

    def reset(self) -> None:
        pass

    def capture_failure(self, folder: Path) -> list[Path]:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "screenshot.png").write_bytes(PNG)
        return [folder / "screenshot.png"]

    def close(self) -> None:
        pass


class _Source:
    name = "list"

    def __init__(self, inputs: list[tuple[str, bytes]]) -> None:
        self.inputs = inputs

    def read(self) -> Iterator[Incoming]:
        for key, raw in self.inputs:
            yield Incoming(source="list", kind="mail", key=key, raw=raw)

    def acknowledge(self, incoming: Incoming) -> None:
        pass

    def close(self) -> None:
        pass


def _to_item(incoming: Incoming, ctx: object) -> NewItem:
    failure = Failure(FailureKind.BUSINESS, ["not_an_application"], "Geen aanvraag") if incoming.raw == b"spam" \
        else None
    return NewItem(reference=incoming.key, payload={}, failure=failure)


def test_report_of_a_real_run_agrees_with_the_runners_own_tally(sqlite_db: Database, tmp_path: Path) -> None:
    module = types.ModuleType("reportbot_for_tests")
    module.BOT = BotDefinition(name="reportbot", description="test", to_work_item=_to_item,  # type: ignore[attr-defined]
                               open_consumer=lambda ctx: _Consumer())
    sys.modules["reportbot_for_tests"] = module
    settings = Settings(data_dir=tmp_path / "data", runs_dir=tmp_path / "runs",
                        bots={"reportbot": BotSettings(module="reportbot_for_tests", max_attempts=2,
                                                       backoff=BackoffSettings(initial=0.01, maximum=0.02))})
    source = _Source([("A", b"a"), ("B", b"b"), ("C", b"c"), ("D", b"d"), ("S", b"spam"), ("A", b"a")])
    summary = service.run_once(settings, sqlite_db, "reportbot", sources=[source])
    report = write_report(sqlite_db, settings, summary["run_id"])
    c, tally = report.figures.counts, summary["counts"]
    # A done, B business, C done after one retry, D system after 2 attempts, S to a human, A again a duplicate
    assert (c["done"], c["business"], c["system"], c["human"], c["duplicates"]) == (2, 1, 1, 1, 1)
    assert (c["done"], c["business"], c["system"], c["human"], c["duplicates"]) == (
        tally["done"], tally["business"], tally["system"], tally["to_human"], tally["duplicates"])
    assert c["retries"] == 2  # C once, D once (its second failure is final, not a retry)
    html = report.html.read_text(encoding="utf-8")
    assert BSN not in html
    assert "attempt 1" in html and "attempt 2" in html  # D's two attempts, each with its screenshot
