"""Working calendars: whether a firing at a given moment runs, or is skipped and why.

A calendar has working-hours windows per weekday, Dutch public holidays (the `holidays`
package, Dutch names) with exceptions the office works on, and extra closing days listed in
`config/schedules.yaml`. Windows are wall-clock times in the job's time zone; a window includes
its start and excludes its end (`07:00-18:00` runs a firing at 07:00, skips one at 18:00).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

import holidays

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # index = datetime.weekday()
DAY_WORDS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True)
class Window:
    """Working hours on one day, in seconds since local midnight: start <= t < end (end may be 86400)."""

    start: int
    end: int

    def __str__(self) -> str:
        return f"{_hhmm(self.start)}-{_hhmm(self.end)}"

    def contains(self, seconds: float) -> bool:
        return self.start <= seconds < self.end


def _hhmm(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"


def parse_window(text: str) -> Window:
    """`"07:30-18:00"` -> Window. `24:00` is allowed as an end. Raises ValueError naming the problem."""
    start_text, sep, end_text = text.replace(" ", "").partition("-")
    if not sep:
        raise ValueError(f"{text!r}: write a window as HH:MM-HH:MM, e.g. 07:00-18:00")
    start, end = _seconds(start_text, text), _seconds(end_text, text)
    if start >= 86400:
        raise ValueError(f"{text!r}: a window cannot start at 24:00")
    if end <= start:
        raise ValueError(f"{text!r}: the end must be later than the start (windows do not cross midnight)")
    return Window(start, end)


def _seconds(hhmm: str, whole: str) -> int:
    hours, sep, minutes = hhmm.partition(":")
    if not (sep and hours.isdigit() and minutes.isdigit() and len(minutes) == 2 and len(hours) <= 2):
        raise ValueError(f"{whole!r}: {hhmm!r} is not a time HH:MM")
    h, m = int(hours), int(minutes)
    if h > 24 or m > 59 or (h == 24 and m):
        raise ValueError(f"{whole!r}: {hhmm!r} is not a time of day")
    return h * 3600 + m * 60


def parse_days(key: str) -> list[int]:
    """`"mon"` -> [0]; `"mon-fri"` -> [0..4]; `"sat-sun"` -> [5, 6]. Raises ValueError."""
    first, sep, last = key.strip().lower().partition("-")
    if first not in DAY_NAMES or (sep and last not in DAY_NAMES):
        raise ValueError(f"{key!r}: use a day (mon, tue, wed, thu, fri, sat, sun) or a range like mon-fri")
    a = DAY_NAMES.index(first)
    b = DAY_NAMES.index(last) if sep else a
    if b < a:
        raise ValueError(f"{key!r}: a range goes from Monday towards Sunday, e.g. mon-fri or sat-sun")
    return list(range(a, b + 1))


def dutch_holiday_names() -> set[str]:
    """Every Dutch public holiday name the holidays package knows (Dutch), e.g. `Goede vrijdag`."""
    return set(holidays.country_holidays("NL", years=range(2020, 2031), language="nl").values())


@dataclass
class WorkingCalendar:
    """When firings run.

    Args:
        name: the calendar's name in the schedules file.
        hours: working-hours windows per weekday (0 = Monday); None means all day, every day.
            A weekday missing from a given mapping is a closed day.
        public_holidays: skip Dutch public holidays.
        open_on_holidays: holiday names (Dutch, as the holidays package spells them) that are working days.
        closed: extra closing days with their reason.
    """

    name: str
    hours: Mapping[int, Sequence[Window]] | None = None
    public_holidays: bool = True
    open_on_holidays: frozenset[str] = frozenset()
    closed: Mapping[date, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._holidays = holidays.country_holidays("NL", language="nl")
        self._lock = threading.Lock()  # the holidays dict fills itself per year on first lookup

    def holiday(self, day: date) -> str | None:
        """The Dutch public holiday on `day` that closes the office, or None."""
        if not self.public_holidays:
            return None
        with self._lock:
            name = self._holidays.get(day)
        return name if name and name not in self.open_on_holidays else None

    def closed_reason(self, local: datetime) -> str | None:
        """Why a firing at wall-clock time `local` (aware, in the job's zone) is skipped; None when it runs.

        Order: extra closing day, public holiday, working hours.
        """
        day = local.date()
        if day in self.closed:
            return f"closing day {day.isoformat()}: {self.closed[day]} (calendar {self.name})"
        holiday = self.holiday(day)
        if holiday:
            return f"public holiday: {holiday} (calendar {self.name})"
        if self.hours is None:
            return None
        windows = self.hours.get(local.weekday(), ())
        if not windows:
            return f"no working hours on {DAY_WORDS[local.weekday()]} (calendar {self.name})"
        seconds = local.hour * 3600 + local.minute * 60 + local.second + local.microsecond / 1e6
        if any(w.contains(seconds) for w in windows):
            return None
        shown = ", ".join(str(w) for w in windows)
        return f"outside working hours ({DAY_WORDS[local.weekday()]} {shown}; calendar {self.name})"

    def describe(self) -> str:
        """One line for `schedule list`, e.g. `mon-fri 07:00-18:00; holidays; 2 closing days`."""
        parts = []
        if self.hours is not None:
            by_text: dict[str, list[int]] = {}
            for day in range(7):
                text = ", ".join(str(w) for w in self.hours.get(day, ()))
                if text:
                    by_text.setdefault(text, []).append(day)
            for text, days in by_text.items():
                parts.append(f"{_day_span(days)} {text}")
        parts.append("Dutch holidays off" if self.public_holidays else "open on holidays")
        if self.closed:
            parts.append(f"{len(self.closed)} closing day(s)")
        return "; ".join(parts)


def _day_span(days: list[int]) -> str:
    if len(days) > 1 and days == list(range(days[0], days[-1] + 1)):
        return f"{DAY_NAMES[days[0]]}-{DAY_NAMES[days[-1]]}"
    return ",".join(DAY_NAMES[d] for d in days)
