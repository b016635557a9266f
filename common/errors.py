"""The two kinds of failure a robot knows (DESIGN.md, "The way of a work item").

A `BusinessException` means the input itself is wrong or incomplete: retrying
cannot help, so the work item goes to the exception queue at once. A
`SystemException` means the world misbehaved (timeout, changed page, server
error): the runner retries it with backoff, and only after the configured number
of attempts does the item go to the exception queue, as kind ``system``.

Both carry a stable, machine-readable ``code`` (for reports and filters) and a
human message (Dutch where a caseworker reads it).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class SoftbotError(Exception):
    """Base of softbot's own errors.

    Args:
        code: stable dotted identifier, e.g. ``"intake.bsn_invalid"`` or ``"page.unexpected"``.
        message: what happened, for a human.
    """

    def __init__(self, code: str, message: str = "") -> None:
        super().__init__(f"{code}: {message}" if message else code)
        self.code = code
        self.message = message or code


class BusinessException(SoftbotError):
    """The data is wrong or incomplete; never retried.

    Args:
        code: the main reason code.
        message: Dutch text for the caseworker.
        findings: every finding behind it, each a dict with at least ``code``, ``field``,
            ``message`` (and ``value`` as seen); stored on the work item.
    """

    def __init__(self, code: str, message: str = "", findings: Sequence[dict[str, Any]] = ()) -> None:
        super().__init__(code, message)
        self.findings = list(findings)


class SystemException(SoftbotError):
    """Something outside the data failed (timeout, unexpected page, 5xx); retried with backoff."""


class ConfigError(SoftbotError):
    """Configuration is invalid or missing; the command exits with code 2 and names the file and field."""


class LockHeld(SoftbotError):
    """Another run of the same bot holds its run lock (exit code 3)."""
