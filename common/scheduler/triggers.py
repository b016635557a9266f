"""When a job fires: crontab expressions read as wall-clock times, and fixed intervals of elapsed time.

APScheduler 3's own `CronTrigger` is not used directly, for three reasons found by testing 3.11.3:

- weekday numbers: APScheduler 3 counts 0 as Monday, crontab counts 0 (and 7) as Sunday, so
  `0 9 * * 1-5` would run Tuesday to Saturday. We translate the weekday field to names.
- day of month and day of week both restricted: crontab runs when *either* matches, APScheduler when
  *both* do. We refuse such an expression with a clear message instead of guessing.
- daylight saving: in Europe/Amsterdam its next-fire-time search returned a non-existent time for
  02:30 on 2021-03-28 and then looped. `WallClockCronTrigger` reads the expression as wall-clock
  times and maps each to one instant by a written rule (PEP 495, `fold=0`):

  * a wall-clock time in the skipped spring hour fires at the instant it names under the offset
    before the change: 02:30 on 2021-03-28 fires at 03:30 CEST (01:30 UTC). When that instant is also
    a regular firing (an hourly job at :30), the job fires once.
  * a wall-clock time in the repeated autumn hour fires once, at its first occurrence: 02:30 on
    2021-10-31 fires at 02:30 CEST (00:30 UTC), not again at 02:30 CET.

Intervals (`IntervalTrigger`) are elapsed time, anchored at `INTERVAL_ANCHOR` in the job's time zone,
so a 15-minute job fires at :00, :15, :30, :45 and keeps doing so across a restart and across DST.
Both triggers pickle (the service's job store keeps them).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

CRON_FIELDS = ("minute", "hour", "day of month", "month", "day of week")
WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")  # crontab numbering: 0 (and 7) = Sunday
INTERVAL_ANCHOR = datetime(2021, 1, 4)  # a Monday, 00:00 wall-clock time in the job's time zone
_SEARCH_MARGIN = timedelta(hours=3)  # larger than any DST shift (at most 2 h anywhere)
_NEVER_CHECK_FROM = datetime(2021, 1, 1, tzinfo=UTC)


def _weekday_number(token: str) -> int:
    """0-7 or a name (sun..sat) -> 0..6 with Sunday 0. Raises ValueError."""
    token = token.strip().lower()
    if token.isdigit():
        number = int(token)
        if not 0 <= number <= 7:
            raise ValueError(f"day of week {token!r}: use 0-7 (0 and 7 are Sunday) or sun..sat")
        return number % 7
    if token[:3] in WEEKDAYS and len(token) == 3:
        return WEEKDAYS.index(token)
    raise ValueError(f"day of week {token!r}: use 0-7 (0 and 7 are Sunday) or sun..sat")


def weekday_field(field: str) -> str:
    """A crontab day-of-week field as APScheduler day names: `1-5` -> `mon,tue,wed,thu,fri`.

    Supports `*`, lists, ranges and steps (`*/2`, `1-5/2`); 0 and 7 are Sunday. Raises ValueError.
    """
    if field == "*":
        return "*"
    days: set[int] = set()
    for part in field.split(","):
        span, _, step_text = part.partition("/")
        step = 1
        if step_text:
            if not step_text.isdigit() or int(step_text) == 0:
                raise ValueError(f"day of week {part!r}: the step after '/' must be a positive number")
            step = int(step_text)
        if span == "*":
            first, last = 0, 6
        elif "-" in span:
            start, _, end = span.partition("-")
            first, last = _weekday_number(start), _weekday_number(end)
            if last == 0 and first > 0:
                last = 7  # `5-7`, `fri-sun`: up to Sunday
            if last < first:
                raise ValueError(f"day of week {part!r}: a range must go upwards (e.g. 1-5)")
        else:
            first = _weekday_number(span)
            last = 6 if step_text else first
        days.update(n % 7 for n in range(first, last + 1, step))
    return ",".join(WEEKDAYS[(n + 1) % 7] for n in sorted((d - 1) % 7 for d in days))  # mon first


def utc_cron(expression: str) -> CronTrigger:
    """Parse a 5-field crontab expression into an APScheduler CronTrigger over UTC "wall" times.

    Raises:
        ValueError: wrong number of fields, a value out of range (naming the field), day of month and
            day of week both restricted, or an expression that never fires.
    """
    fields = expression.split()
    if len(fields) != 5:
        raise ValueError(f"a cron expression has 5 fields (minute hour day-of-month month day-of-week), "
                         f"got {len(fields)}: {expression!r}")
    minute, hour, day, month, dow = fields
    if day != "*" and dow != "*":
        raise ValueError(f"{expression!r} restricts both day of month and day of week; crontab runs when either "
                         "matches, which surprises people: use two jobs")
    days = weekday_field(dow)
    try:
        trigger = CronTrigger(minute=minute, hour=hour, day=day, month=month, day_of_week=days, timezone=UTC)
    except ValueError as exc:
        raise ValueError(f"{expression!r}: {_explain(fields, str(exc))}") from None
    if trigger.get_next_fire_time(None, _NEVER_CHECK_FROM) is None:
        raise ValueError(f"{expression!r} never fires")
    return trigger


def _explain(fields: list[str], message: str) -> str:
    """APScheduler's `Error validating expression '25': ...` as `hour '25': ...` when the field is clear."""
    quoted = re.match(r"Error validating expression '([^']*)': (.*)", message)
    if quoted:
        named = [name for name, value in zip(CRON_FIELDS, fields, strict=True) if value == quoted.group(1)]
        if len(named) == 1:
            return f"{named[0]} {quoted.group(1)!r}: {quoted.group(2)}"
    return message


class WallClockCronTrigger(BaseTrigger):
    """A crontab expression (standard numbering) read as wall-clock times in `timezone`.

    Args:
        expression: 5 fields, e.g. `"*/15 7-17 * * 1-5"`.
        timezone: an IANA name, e.g. `"Europe/Amsterdam"`.

    `get_next_fire_time` returns aware datetimes in `timezone`; the DST rules are in the module's
    docstring. Raises ValueError (from `utc_cron`) on a bad expression.
    """

    def __init__(self, expression: str, timezone: str) -> None:
        self.expression = expression
        self.timezone_name = timezone
        self.timezone: tzinfo = ZoneInfo(timezone)
        self._cron = utc_cron(expression)

    def __getstate__(self) -> dict[str, str]:
        return {"expression": self.expression, "timezone": self.timezone_name}

    def __setstate__(self, state: dict[str, str]) -> None:
        self.__init__(state["expression"], state["timezone"])  # type: ignore[misc]

    def __str__(self) -> str:
        return f"cron[{self.expression}, {self.timezone_name}]"

    def __repr__(self) -> str:
        return f"<WallClockCronTrigger ({self.expression!r}, timezone={self.timezone_name!r})>"

    def instant(self, wall: datetime) -> datetime:
        """The UTC instant of naive wall-clock time `wall` (PEP 495 fold=0: see the module docstring)."""
        return wall.replace(tzinfo=self.timezone, fold=0).astimezone(UTC)

    def _next_wall(self, wall: datetime, inclusive: bool) -> datetime | None:
        start = wall.replace(tzinfo=UTC) + (timedelta(0) if inclusive else timedelta(microseconds=1))
        found = self._cron.get_next_fire_time(None, start)
        return found.replace(tzinfo=None) if found is not None else None

    def _stable(self, instant: datetime) -> bool:
        """No DST change within _SEARCH_MARGIN of `instant` (transitions are months apart)."""
        before = (instant - _SEARCH_MARGIN).astimezone(self.timezone).utcoffset()
        return before == (instant + _SEARCH_MARGIN).astimezone(self.timezone).utcoffset()

    def get_next_fire_time(self, previous_fire_time: datetime | None, now: datetime) -> datetime | None:
        """The first firing after `previous_fire_time`, or at/after `now` when there was none."""
        lower = (previous_fire_time or now).astimezone(UTC)
        strict = previous_fire_time is not None

        def after_lower(at: datetime) -> bool:
            return at > lower or (at == lower and not strict)

        if self._stable(lower):  # the usual case: wall-clock order is time order around here
            candidate = self._next_wall(lower.astimezone(self.timezone).replace(tzinfo=None), inclusive=True)
            while candidate is not None and not after_lower(self.instant(candidate)):
                candidate = self._next_wall(candidate, inclusive=False)
            if candidate is None:
                return None
            if self._stable(self.instant(candidate)):
                return self.instant(candidate).astimezone(self.timezone)
        # near a DST change: wall-clock order is not time order; look at every candidate that can matter
        offsets = self._offsets(lower)
        candidate = self._next_wall(lower.replace(tzinfo=None) + min(offsets), inclusive=True)
        best: datetime | None = None
        while candidate is not None:
            if best is not None and candidate - max(offsets) > best.replace(tzinfo=None):
                break  # this and every later wall-clock time maps after `best`
            at = self.instant(candidate)
            if after_lower(at) and (best is None or at < best):
                best = at
                offsets = offsets | self._offsets(at)
            candidate = self._next_wall(candidate, inclusive=False)
        return best.astimezone(self.timezone) if best is not None else None

    def _offsets(self, instant: datetime) -> frozenset[timedelta]:
        """The UTC offsets in force within _SEARCH_MARGIN of `instant`."""
        return frozenset(offset for offset in ((instant + d).astimezone(self.timezone).utcoffset()
                                              for d in (-_SEARCH_MARGIN, _SEARCH_MARGIN)) if offset is not None)


def interval_trigger(timezone: str, *, days: int = 0, hours: int = 0, minutes: int = 0,
                     seconds: int = 0) -> IntervalTrigger:
    """Every so much elapsed time, anchored at INTERVAL_ANCHOR in `timezone`. Raises ValueError if zero."""
    if days * 86400 + hours * 3600 + minutes * 60 + seconds <= 0:
        raise ValueError("an interval must be longer than 0 seconds")
    zone = ZoneInfo(timezone)
    return IntervalTrigger(days=days, hours=hours, minutes=minutes, seconds=seconds,
                           start_date=INTERVAL_ANCHOR.replace(tzinfo=zone), timezone=zone)


def fire_times(trigger: BaseTrigger, start: datetime, end: datetime) -> list[datetime]:
    """Every firing of `trigger` in [start, end), in order (for `list`, the guide and tests)."""
    times: list[datetime] = []
    at = trigger.get_next_fire_time(None, start)
    while at is not None and at < end:
        times.append(at)
        at = trigger.get_next_fire_time(at, at)
    return times
