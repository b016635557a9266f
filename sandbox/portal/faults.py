"""Switchable faults of the sandbox portal: the ones portal-api.md says a client must survive.

- `error_rate` (0..1) with `error_statuses`: that share of API requests answers one of the
  statuses (502/503/504), drawn from a generator seeded with `seed`;
- `fail_next`: the next N API requests fail with the first of `error_statuses`;
- `delay_seconds` with `slow_rate`: that share of API requests waits before answering;
- `missing_attachments`: attachment ids or filenames whose download answers 404;
- `size_mismatch`: attachments whose listed `size` is one byte more than the bytes;
- `truncate_attachments`: attachments whose download stops after half the bytes;
- `ack_between_pages`: after each list page that has a `next`, "another runner"
  acknowledges that many of the page's submissions, so the following pages shift.

Lists accept `"*"` for every attachment. Faults come from the command line (`--faults`,
inline JSON or a JSON/YAML file) or, with `--control`, from `PUT /_control/faults`.
"""

from __future__ import annotations

import json
import random
import threading
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator

OTHER_RUNNER = "other-runner"


class Faults(BaseModel):
    """The fault settings (see the module docstring). All off by default."""

    model_config = ConfigDict(extra="forbid")

    error_rate: float = Field(0.0, ge=0.0, le=1.0)
    error_statuses: list[int] = Field(default_factory=lambda: [502, 503])
    seed: int = 0
    fail_next: int = Field(0, ge=0)
    delay_seconds: float = Field(0.0, ge=0.0, le=600.0)
    slow_rate: float = Field(1.0, ge=0.0, le=1.0)
    missing_attachments: list[str] = Field(default_factory=list)
    size_mismatch: list[str] = Field(default_factory=list)
    truncate_attachments: list[str] = Field(default_factory=list)
    ack_between_pages: int = Field(0, ge=0)

    @field_validator("error_statuses")
    @classmethod
    def _server_errors(cls, statuses: list[int]) -> list[int]:
        if not statuses or any(not 500 <= s <= 599 for s in statuses):
            raise ValueError("error_statuses must be a non-empty list of 5xx codes, e.g. [502, 503, 504]")
        return statuses


def load_faults(value: str) -> Faults:
    """`--faults` value: inline JSON (starts with `{`) or the path of a JSON or YAML file.

    Raises ValueError (pydantic's ValidationError is one) naming the bad setting, or
    FileNotFoundError.
    """
    text = value if value.lstrip().startswith("{") else Path(value).read_text(encoding="utf-8")
    data = json.loads(text) if text.lstrip().startswith("{") else yaml.safe_load(text)
    return Faults.model_validate(data or {})


def _matches(names: list[str], attachment_id: str, filename: str) -> bool:
    return "*" in names or attachment_id in names or filename in names


class FaultState:
    """The faults in force plus their random generator and counter; thread-safe."""

    def __init__(self, faults: Faults | None = None) -> None:
        self._lock = threading.Lock()
        self.replace(faults or Faults())

    def replace(self, faults: Faults) -> None:
        """Switch to `faults`; the generator restarts from its seed."""
        with self._lock:
            self.faults = faults
            self._rng = random.Random(faults.seed)
            self._fail_next = faults.fail_next

    def request_outcome(self) -> tuple[float, int | None]:
        """For one API request: (seconds to wait, status to fail with or None)."""
        with self._lock:
            f = self.faults
            delay = f.delay_seconds if f.delay_seconds and self._rng.random() < f.slow_rate else 0.0
            if self._fail_next > 0:
                self._fail_next -= 1
                return delay, f.error_statuses[0]
            if f.error_rate and self._rng.random() < f.error_rate:
                return delay, self._rng.choice(f.error_statuses)
            return delay, None

    def attachment_missing(self, attachment_id: str, filename: str) -> bool:
        """True when this attachment's download must answer 404."""
        return _matches(self.faults.missing_attachments, attachment_id, filename)

    def listed_size(self, attachment_id: str, filename: str, size: int) -> int:
        """The `size` to list: the true size, or one more when the size must mismatch."""
        return size + 1 if _matches(self.faults.size_mismatch, attachment_id, filename) else size

    def served_bytes(self, attachment_id: str, filename: str, data: bytes) -> bytes:
        """The bytes to send: all, or the first half when the download must be cut short."""
        return data[: len(data) // 2] if _matches(self.faults.truncate_attachments, attachment_id, filename) else data
