"""config/schedules.yaml: validation with lines, `schedule check`, and `list`'s next run honouring calendars."""

from __future__ import annotations

import textwrap
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner

from common.commands import app
from common.config import BotSettings, Settings
from common.errors import ConfigError
from common.scheduler.listing import next_run
from common.scheduler.schedules import load_schedules

AMS = ZoneInfo("Europe/Amsterdam")
REPO = Path(__file__).resolve().parents[2]

SETTINGS = Settings(bots={"tonk": BotSettings(), "post": BotSettings(enabled=False)})

GOOD = """\
timezone: Europe/Amsterdam
calendars:
  kantoor:
    hours:
      mon-fri: ["08:00-12:00", "13:00-17:00"]
    open_on_holidays: [Goede vrijdag]
    closed:
      - 2021-04-01
      - {date: 2021-12-24, reason: kerstavond}
jobs:
  tonk-intake:
    bot: tonk
    runs: intake
    interval: {minutes: 15}
  tonk-process:
    bot: tonk
    runs: process
    cron: "0 9,14 * * 1-5"
    calendar: kantoor
    misfire_grace_seconds: 120
  post-both:
    bot: post
    cron: "30 2 * * *"
    timezone: Europe/London
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "schedules.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_good_file_loads_with_defaults_applied(tmp_path: Path) -> None:
    schedules = load_schedules(write(tmp_path, GOOD), SETTINGS)
    assert list(schedules.jobs) == ["tonk-intake", "tonk-process", "post-both"]
    intake, process, post = schedules.jobs.values()
    assert (intake.produce, intake.consume, intake.when, intake.calendar) == (True, False, "every 15m", None)
    assert (process.produce, process.consume, process.misfire_grace_seconds) == (False, True, 120)
    assert process.calendar is not None and process.calendar.name == "kantoor"
    assert (post.runs, post.timezone, post.misfire_grace_seconds) == ("both", "Europe/London", 600)
    assert schedules.poll_seconds == 5.0
    # bot `post` is disabled in the settings: a warning, not an error (its firings are skipped)
    assert len(schedules.warnings) == 1 and "jobs.post-both.bot: bot 'post' is disabled" in schedules.warnings[0]


BAD = """\
jobs:
  tonk-intake:
    bot: tonk
    cron: "61 * * * *"
  mail:
    bot: tonkk
    interval: {minutes: 5}
  night:
    bot: tonk
    cron: "30 2 * * *"
    timezone: Europe/Amsterdan
"""


def test_wrong_cron_unknown_bot_and_bad_time_zone_are_all_reported_with_lines(tmp_path: Path) -> None:
    path = write(tmp_path, BAD)
    with pytest.raises(ConfigError) as caught:
        load_schedules(path, SETTINGS)
    lines = caught.value.message.splitlines()
    assert lines == [
        f"{path}:4: jobs.tonk-intake.cron: '61 * * * *': minute '61': the last value (61) is higher "
        "than the maximum value (59)",
        f"{path}:6: jobs.mail.bot: unknown bot 'tonkk' (bots in the settings file: post, tonk)",
        f"{path}:11: jobs.night.timezone: unknown time zone 'Europe/Amsterdan' (use an IANA name "
        "such as Europe/Amsterdam)",
    ]


def test_check_command_exits_2_naming_all_three_problems(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "softbot.yaml"
    config.write_text("bots:\n  tonk: {}\n", encoding="utf-8")
    path = write(tmp_path, BAD)
    monkeypatch.setenv("SOFTBOT_CONFIG", str(config))
    monkeypatch.delenv("SOFTBOT_SCHEDULES", raising=False)
    result = CliRunner().invoke(app, ["schedule", "check"])  # the schedules file next to the settings file
    assert result.exit_code == 2
    text = " ".join(result.output.split())
    assert f"{path}:4: jobs.tonk-intake.cron" in text
    assert f"{path}:6: jobs.mail.bot: unknown bot 'tonkk'" in text
    assert f"{path}:11: jobs.night.timezone: unknown time zone 'Europe/Amsterdan'" in text


def test_check_command_accepts_the_shipped_schedules_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOFTBOT_CONFIG", str(REPO / "config" / "softbot.yaml"))
    monkeypatch.delenv("SOFTBOT_SCHEDULES", raising=False)
    result = CliRunner().invoke(app, ["schedule", "check"])
    assert result.exit_code == 0, result.output
    assert "ok (3 job(s), 2 enabled: tonk-intake, tonk-process)" in " ".join(result.output.split())


@pytest.mark.parametrize(("snippet", "where", "message"), [
    ("jobs:\n  a:\n    bot: tonk\n", "3: jobs.a", "give exactly one of `cron` and `interval`"),
    ("jobs:\n  a:\n    bot: tonk\n    cron: '0 9 * * *'\n    calendar: office\n", "5: jobs.a.calendar",
     "unknown calendar 'office' (calendars in this file: none)"),
    ("jobs:\n  a:\n    bot: tonk\n    interval: {minutes: 0}\n", "4: jobs.a.interval",
     "an interval must be longer than 0 seconds"),
    ("jobs:\n  A b:\n    bot: tonk\n    interval: {minutes: 5}\n", "3: jobs.A b.[key]",
     "job id 'A b': use lower-case letters, digits, '-' and '_'"),
    ("calendars:\n  c:\n    hours: {mon-fri: '9-17'}\n", "3: calendars.c.hours", "is not a time HH:MM"),
    ("calendars:\n  c:\n    hours: {mon-fri: '09:00-17:00', fri: '09:00-12:00'}\n", "3: calendars.c.hours",
     "'fri' repeats a day already given by 'mon-fri'"),
    ("calendars:\n  c:\n    open_on_holidays: [Good Friday]\n", "3: calendars.c.open_on_holidays",
     "unknown holiday name(s) 'Good Friday'"),
    ("jobs:\n  a:\n    bot: tonk\n    runs: all\n    interval: {hours: 1}\n", "4: jobs.a.runs",
     "Input should be 'intake', 'process' or 'both'"),
    ("calendars:\n  c:\n    closed: [2021-12-24, 2021-12-32]\n", "3: calendars.c.closed[1]",
     "Input should be a valid date or datetime, day value is outside expected range"),
])
def test_each_mistake_names_its_line_and_field(tmp_path: Path, snippet: str, where: str, message: str) -> None:
    path = write(tmp_path, snippet)
    with pytest.raises(ConfigError) as caught:
        load_schedules(path, SETTINGS)
    assert f"{path}:{where}" in caught.value.message
    assert message in caught.value.message


def test_next_run_passes_over_weekend_and_easter_monday(tmp_path: Path) -> None:
    job = load_schedules(write(tmp_path, GOOD), SETTINGS).jobs["tonk-process"]
    # Thursday 2021-04-01 is a closing day in the file, Good Friday is worked (open_on_holidays),
    # then the weekend and Easter Monday (5 April) are skipped: from Thursday 08:00 the next run that
    # starts is Friday 2 April 09:00 CEST.
    assert next_run(job, datetime(2021, 4, 1, 8, 0, tzinfo=AMS)).isoformat() == "2021-04-02T09:00:00+02:00"
    # from Friday 15:00: Saturday, Sunday and Tweede paasdag pass, so Tuesday 6 April 09:00
    assert next_run(job, datetime(2021, 4, 2, 15, 0, tzinfo=AMS)).isoformat() == "2021-04-06T09:00:00+02:00"


def test_next_run_is_none_when_the_calendar_never_opens(tmp_path: Path) -> None:
    path = write(tmp_path, """\
        calendars:
          never: {hours: {sat: "08:00-09:00"}}
        jobs:
          weekdays: {bot: tonk, cron: "30 10 * * 1-5", calendar: never}
        """)
    job = load_schedules(path, SETTINGS).jobs["weekdays"]
    assert next_run(job, datetime(2021, 4, 1, 8, 0, tzinfo=AMS)) is None
