"""Working calendars: windows, Dutch holidays, closing days, and the reason given for a skip."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from common.scheduler.calendars import WorkingCalendar, parse_days, parse_window

AMS = ZoneInfo("Europe/Amsterdam")


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=AMS)  # type: ignore[misc]


@pytest.fixture
def office() -> WorkingCalendar:
    return WorkingCalendar(
        name="kantoor",
        hours={d: [parse_window("07:00-12:30"), parse_window("13:00-18:00")] for d in range(5)},
        public_holidays=True,
        open_on_holidays=frozenset({"Goede vrijdag"}),
        closed={date(2021, 12, 24): "kerstavond"},
    )


def test_inside_a_window_runs(office: WorkingCalendar) -> None:
    assert office.closed_reason(at(2021, 3, 29, 7, 0)) is None   # start is included (Monday)
    assert office.closed_reason(at(2021, 3, 29, 17, 59)) is None


def test_window_end_and_lunch_break_are_skipped(office: WorkingCalendar) -> None:
    assert office.closed_reason(at(2021, 3, 29, 18, 0)) == (
        "outside working hours (Monday 07:00-12:30, 13:00-18:00; calendar kantoor)")
    assert office.closed_reason(at(2021, 3, 29, 12, 45)) is not None


def test_weekend_day_without_hours_is_skipped(office: WorkingCalendar) -> None:
    assert office.closed_reason(at(2021, 3, 27, 10, 0)) == "no working hours on Saturday (calendar kantoor)"


def test_dutch_public_holiday_is_skipped_with_its_dutch_name(office: WorkingCalendar) -> None:
    # Easter Monday 2021 fell on 5 April
    assert office.closed_reason(at(2021, 4, 5, 10, 0)) == "public holiday: Tweede paasdag (calendar kantoor)"


def test_holiday_the_office_works_on_runs(office: WorkingCalendar) -> None:
    assert office.holiday(date(2021, 4, 2)) is None  # Goede vrijdag is listed in open_on_holidays
    assert office.closed_reason(at(2021, 4, 2, 10, 0)) is None


def test_extra_closing_day_wins_over_everything(office: WorkingCalendar) -> None:
    assert office.closed_reason(at(2021, 12, 24, 10, 0)) == "closing day 2021-12-24: kerstavond (calendar kantoor)"


def test_calendar_without_hours_only_skips_holidays() -> None:
    calendar = WorkingCalendar(name="dag-en-nacht")
    assert calendar.closed_reason(at(2021, 3, 28, 3, 0)) is None           # a Sunday night runs
    assert calendar.closed_reason(at(2021, 4, 27, 3, 0)) == "public holiday: Koningsdag (calendar dag-en-nacht)"


def test_describe_groups_days(office: WorkingCalendar) -> None:
    assert office.describe() == "mon-fri 07:00-12:30, 13:00-18:00; Dutch holidays off; 1 closing day(s)"


@pytest.mark.parametrize(("text", "message"), [
    ("7-18", "is not a time HH:MM"),
    ("18:00-07:00", "the end must be later than the start"),
    ("07:00", "write a window as HH:MM-HH:MM"),
    ("07:00-25:00", "is not a time of day"),
])
def test_bad_windows_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_window(text)


def test_window_may_end_at_midnight() -> None:
    assert parse_window("20:00-24:00").contains(23 * 3600 + 59 * 60)


def test_day_ranges() -> None:
    assert parse_days("mon-fri") == [0, 1, 2, 3, 4]
    assert parse_days("sun") == [6]
    with pytest.raises(ValueError, match="a range goes from Monday towards Sunday"):
        parse_days("sun-mon")
