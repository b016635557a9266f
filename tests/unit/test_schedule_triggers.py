"""Triggers: crontab numbering, refused expressions, and the written DST rules (Europe/Amsterdam, 2021)."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from common.scheduler.triggers import WallClockCronTrigger, fire_times, interval_trigger, utc_cron, weekday_field

AMS = ZoneInfo("Europe/Amsterdam")


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=AMS)  # type: ignore[misc]


def iso(times: list[datetime]) -> list[str]:
    return [t.isoformat() for t in times]


@pytest.mark.parametrize(("field", "names"), [
    ("1-5", "mon,tue,wed,thu,fri"),   # crontab 1-5 is Monday..Friday (APScheduler 3 would read Tue..Sat)
    ("0", "sun"),
    ("7", "sun"),                     # 7 is Sunday too
    ("5-7", "fri,sat,sun"),
    ("mon-sun", "mon,tue,wed,thu,fri,sat,sun"),
    ("*/2", "tue,thu,sat,sun"),       # 0, 2, 4, 6 = Sunday, Tuesday, Thursday, Saturday
    ("1-5/2", "mon,wed,fri"),
    ("sat,sun", "sat,sun"),
])
def test_weekday_field_uses_crontab_numbering(field: str, names: str) -> None:
    assert weekday_field(field) == names


def test_monday_to_friday_cron_fires_on_monday_first() -> None:
    trigger = WallClockCronTrigger("0 9 * * 1-5", "Europe/Amsterdam")
    # from Saturday 2021-03-27: the next weekday 09:00 is Monday 2021-03-29, already CEST (+02:00)
    assert trigger.get_next_fire_time(None, local(2021, 3, 27, 12, 0)).isoformat() == "2021-03-29T09:00:00+02:00"


@pytest.mark.parametrize(("expression", "message"), [
    ("61 * * * *", "minute '61': the last value (61) is higher than the maximum value (59)"),
    ("0 25 * * *", "hour '25'"),
    ("* * * *", "a cron expression has 5 fields"),
    ("0 9 1 * 1", "restricts both day of month and day of week"),
    ("0 0 30 2 *", "never fires"),
    ("0 9 * * 8", "day of week '8'"),
])
def test_bad_cron_expressions_are_refused_with_the_field(expression: str, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        utc_cron(expression)


def test_spring_forward_moves_a_skipped_time_one_hour_on() -> None:
    trigger = WallClockCronTrigger("30 2 * * *", "Europe/Amsterdam")
    # 2021-03-28 02:00 CET -> 03:00 CEST: 02:30 does not exist; it fires at 03:30 CEST = 01:30 UTC
    assert iso(fire_times(trigger, local(2021, 3, 27, 0, 0), local(2021, 3, 30, 0, 0))) == [
        "2021-03-27T02:30:00+01:00",
        "2021-03-28T03:30:00+02:00",
        "2021-03-29T02:30:00+02:00",
    ]


def test_spring_forward_hourly_job_fires_once_per_real_hour() -> None:
    trigger = WallClockCronTrigger("30 * * * *", "Europe/Amsterdam")
    # wall times 01:30, 02:30 (-> 03:30 CEST), 03:30: the moved 02:30 and the real 03:30 are one firing
    assert iso(fire_times(trigger, local(2021, 3, 28, 1, 0), local(2021, 3, 28, 5, 0))) == [
        "2021-03-28T01:30:00+01:00",   # 00:30 UTC
        "2021-03-28T03:30:00+02:00",   # 01:30 UTC, one hour later
        "2021-03-28T04:30:00+02:00",   # 02:30 UTC
    ]


def test_spring_forward_every_twenty_minutes_in_the_skipped_hour_still_fires_three_times() -> None:
    trigger = WallClockCronTrigger("*/20 2 * * *", "Europe/Amsterdam")
    assert iso(fire_times(trigger, local(2021, 3, 28, 0, 0), local(2021, 3, 28, 6, 0))) == [
        "2021-03-28T03:00:00+02:00", "2021-03-28T03:20:00+02:00", "2021-03-28T03:40:00+02:00",
    ]


def test_fall_back_fires_a_repeated_time_once_at_its_first_occurrence() -> None:
    trigger = WallClockCronTrigger("30 2 * * *", "Europe/Amsterdam")
    # 2021-10-31 03:00 CEST -> 02:00 CET: 02:30 happens twice; only the first (CEST, 00:30 UTC) fires
    assert iso(fire_times(trigger, local(2021, 10, 30, 0, 0), local(2021, 11, 2, 0, 0))) == [
        "2021-10-30T02:30:00+02:00",
        "2021-10-31T02:30:00+02:00",
        "2021-11-01T02:30:00+01:00",
    ]


def test_fall_back_hourly_cron_skips_the_repeated_wall_clock_hour() -> None:
    trigger = WallClockCronTrigger("0 * * * *", "Europe/Amsterdam")
    assert iso(fire_times(trigger, local(2021, 10, 31, 1, 0), local(2021, 10, 31, 5, 0))) == [
        "2021-10-31T01:00:00+02:00",   # 23:00 UTC
        "2021-10-31T02:00:00+02:00",   # 00:00 UTC
        "2021-10-31T03:00:00+01:00",   # 02:00 UTC: wall 02:00 CET (01:00 UTC) is not a second firing
        "2021-10-31T04:00:00+01:00",
    ]


def test_interval_is_elapsed_time_and_repeats_the_autumn_hour() -> None:
    trigger = interval_trigger("Europe/Amsterdam", hours=1)
    assert iso(fire_times(trigger, local(2021, 10, 31, 1, 0), local(2021, 10, 31, 4, 0))) == [
        "2021-10-31T01:00:00+02:00",
        "2021-10-31T02:00:00+02:00",
        "2021-10-31T02:00:00+01:00",   # one hour later by the clock on the wall: elapsed time
        "2021-10-31T03:00:00+01:00",
    ]


def test_interval_is_anchored_at_midnight_so_quarter_hours_stay_on_the_quarter() -> None:
    trigger = interval_trigger("Europe/Amsterdam", minutes=15)
    assert trigger.get_next_fire_time(None, local(2021, 6, 1, 9, 7)).isoformat() == "2021-06-01T09:15:00+02:00"


def test_interval_of_zero_is_refused() -> None:
    with pytest.raises(ValueError, match="longer than 0 seconds"):
        interval_trigger("Europe/Amsterdam")


def _brute_force(expression: str, start: datetime, end: datetime) -> list[datetime]:
    """Every matching wall-clock minute mapped by fold=0, deduplicated, sorted: the rule, done slowly."""
    found: set[datetime] = set()
    wall = start.astimezone(AMS).replace(tzinfo=None) - timedelta(hours=3)
    stop = end.astimezone(AMS).replace(tzinfo=None) + timedelta(hours=3)
    cron = utc_cron(expression)
    while wall < stop:
        if cron.get_next_fire_time(None, wall.replace(tzinfo=UTC)) == wall.replace(tzinfo=UTC):
            at = wall.replace(tzinfo=AMS, fold=0).astimezone(UTC)
            if start <= at < end:
                found.add(at)
        wall += timedelta(minutes=1)
    return sorted(found)


@pytest.mark.parametrize("expression", ["*/7 * * * *", "*/30 2-3 * * *", "0,30 1-4 * * *", "59 1 * * *"])
@pytest.mark.parametrize("day", [datetime(2021, 3, 27, 22, tzinfo=UTC), datetime(2021, 10, 30, 22, tzinfo=UTC)])
def test_trigger_agrees_with_the_rule_applied_minute_by_minute(expression: str, day: datetime) -> None:
    trigger = WallClockCronTrigger(expression, "Europe/Amsterdam")
    end = day + timedelta(hours=8)
    assert [t.astimezone(UTC) for t in fire_times(trigger, day, end)] == _brute_force(expression, day, end)


def test_trigger_survives_pickling_as_the_job_store_does() -> None:
    trigger = pickle.loads(pickle.dumps(WallClockCronTrigger("0 9 * * 1-5", "Europe/Amsterdam")))
    assert str(trigger) == "cron[0 9 * * 1-5, Europe/Amsterdam]"
    assert trigger.get_next_fire_time(None, local(2021, 4, 2, 10, 0)).isoformat() == "2021-04-05T09:00:00+02:00"
