"""The diagnostics of failed attempts in a run folder (written by `common/runner.py`'s `_capture`).

Layout: `runs/<run-id>/failures/<item-id>/attempt-<n>/` with `screenshot.png`, `page.html`,
`trace.zip` (each when the consumer could make it) and `error.txt` (always).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from common.logging import get_logger

log = get_logger(__name__)

FAILURES = "failures"
_ATTEMPT = re.compile(r"attempt-(\d+)")


@dataclass(frozen=True)
class FailedAttempt:
    """One failed attempt's files; a file the consumer did not (or could not) write is None."""

    item_id: int
    attempt: int
    folder: Path
    screenshot: Path | None
    page_html: Path | None
    trace: Path | None
    error: str | None  # the text of error.txt (not masked: mask before showing)


def _file(folder: Path, name: str) -> Path | None:
    path = folder / name
    return path if path.is_file() else None


def failed_attempts(run_folder: Path) -> dict[int, list[FailedAttempt]]:
    """Failed attempts per item id, each item's attempts in order; `{}` when there are none.

    Entries that do not follow the layout (not an item id, not `attempt-<n>`) are skipped with a
    warning in the log, since a report should not fail on a stray file.
    """
    root = run_folder / FAILURES
    found: dict[int, list[FailedAttempt]] = {}
    if not root.is_dir():
        return found
    for item_dir in sorted(root.iterdir()):
        if not (item_dir.is_dir() and item_dir.name.isdigit()):
            log.warning("report_unexpected_failure_entry", path=str(item_dir))
            continue
        attempts = []
        for attempt_dir in item_dir.iterdir():
            match = _ATTEMPT.fullmatch(attempt_dir.name)
            if not (attempt_dir.is_dir() and match):
                log.warning("report_unexpected_failure_entry", path=str(attempt_dir))
                continue
            error = _file(attempt_dir, "error.txt")
            attempts.append(FailedAttempt(
                item_id=int(item_dir.name), attempt=int(match.group(1)), folder=attempt_dir,
                screenshot=_file(attempt_dir, "screenshot.png"), page_html=_file(attempt_dir, "page.html"),
                trace=_file(attempt_dir, "trace.zip"),
                error=error.read_text(encoding="utf-8", errors="replace").strip() if error else None))
        if attempts:
            found[int(item_dir.name)] = sorted(attempts, key=lambda a: a.attempt)
    return found
