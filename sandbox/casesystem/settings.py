"""The sandbox case system's settings: users, data location, behaviour and switchable faults.

Faults are off by default. They come from a YAML or JSON file (`--faults FILE`), from
flags, or, when the server runs with `--control`, from `POST /_sandbox/faults` (tests).

Example faults file::

    slow_ms: 400                 # every page answers 400 ms later
    error_rate: 0.1              # 10 % of requests answer HTTP 500 ...
    seed: 7                      # ... drawn from a seeded generator (repeatable)
    session_expiry_requests: 8   # a session ends after 8 requests; the 9th goes to the login page
    validation_error: {field: omschrijving, message: "Omschrijving bevat ongeldige tekens"}
    layout: alternate            # the reskinned layout: other order, other ids and classes
    search_delay_ms: 1500        # not a fault: how long the kenmerk search takes to show results
    hold: {method: POST, path: "/zaken", after_commit: true}   # hang on the 1st matching request (crash tests)
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

DEFAULT_DB = Path("runs/sandbox/casesystem.db")
USERS_ENV = "SANDBOX_CASESYSTEM_USERS"
#: the demo account of `make demo` and the tests; a sandbox secret, never a real one
DEFAULT_USERS = "robot-tonk:demo-wachtwoord"


class ValidationFault(BaseModel):
    """Refuse every form that has `field` with `message` next to that field."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    field: str = Field(min_length=1, description="form field name, e.g. 'omschrijving' or 'postcode'")
    message: str = "Deze waarde wordt niet geaccepteerd"


class HoldFault(BaseModel):
    """Hold the `nth` request matching `method` and `path` (a regular expression, matched whole) open.

    With `after_commit`, the request is handled (its change is stored) and only its answer is held;
    without, it is held before it is handled, and dropped unhandled when its browser went away in
    the meantime. The hold shows in `GET /_sandbox/holds` the moment it starts (so a test can kill
    the robot right then), and ends when the faults are replaced (`POST /_sandbox/faults`) or after
    `max_seconds`. One request is held per fault setting: later matches pass.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    method: str = Field("POST", pattern=r"^[A-Z]+$")
    path: str = Field(min_length=1, description="regular expression for the whole path, e.g. '/zaken/[^/]+/afronden'")
    after_commit: bool = True
    nth: int = Field(1, ge=1, description="hold the nth matching request (1 = the first)")
    max_seconds: float = Field(120.0, gt=0, le=3600)

    @field_validator("path")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a regular expression: {exc}") from exc
        return value


class Faults(BaseModel):
    """The sandbox's behaviour knobs. Every fault is off by default.

    `search_delay_ms` is no fault: it is how long the kenmerk search shows
    "Bezig met zoeken..." before the results arrive (a real system's slow index).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    slow_ms: int = Field(0, ge=0, le=60_000, description="extra delay for every page, in milliseconds")
    error_rate: float = Field(0.0, ge=0.0, le=1.0, description="share of requests answered with HTTP 500")
    seed: int = Field(0, description="seed of the generator that picks the failing requests")
    session_expiry_requests: int | None = Field(
        None, ge=1, description="a session ends after this many requests (the next one goes to the login page)"
    )
    validation_error: ValidationFault | None = None
    layout: Literal["default", "alternate"] = "default"
    search_delay_ms: int = Field(500, ge=0, le=60_000, description="delay before search results appear")
    hold: HoldFault | None = None


class FaultsFileError(ValueError):
    """A faults file that cannot be read or does not validate; the message names the file and field."""


def load_faults(path: Path) -> Faults:
    """Read a faults file (YAML, or JSON, which is YAML too).

    Raises:
        FaultsFileError: unreadable file, invalid YAML, or an unknown/invalid field (named).
    """
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise FaultsFileError(f"{path}: cannot read faults: {exc}") from exc
    try:
        return Faults.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or '(top)'}: {e['msg']}" for e in exc.errors())
        raise FaultsFileError(f"{path}: {problems}") from exc


def parse_users(spec: str) -> dict[str, str]:
    """`"robot-tonk:demo-wachtwoord,jan:geheim"` -> `{"robot-tonk": "demo-wachtwoord", "jan": "geheim"}`.

    Raises:
        ValueError: an entry without `name:password`, or an empty name or password.
    """
    users: dict[str, str] = {}
    for entry in filter(None, (part.strip() for part in spec.split(","))):
        name, sep, password = entry.partition(":")
        if not sep or not name.strip() or not password:
            raise ValueError(f"users: expected name:password, got an entry for {name.strip() or '(empty)'!r}")
        users[name.strip()] = password
    if not users:
        raise ValueError("users: no user given")
    return users


def users_from_env_or_default(spec: str | None = None) -> dict[str, str]:
    """Users from `spec` (the `--users` flag), else `$SANDBOX_CASESYSTEM_USERS`, else `robot-tonk:demo-wachtwoord`."""
    return parse_users(spec or os.environ.get(USERS_ENV) or DEFAULT_USERS)


@dataclass
class SandboxConfig:
    """How one case system instance runs.

    Attributes:
        db_path: its SQLite database; uploaded files go to `<db stem>-bestanden/` beside it.
        users: name -> password of the accounts that may log in.
        faults: the current behaviour (replaced at run time through `/_sandbox/faults`).
        control: whether `GET/POST /_sandbox/faults` exist (tests and demos only).
        session_idle_seconds: a session unused this long is gone (login page again).
        number_year: the year inside zaak numbers, `ZAAK-<year>-NNNNNNNNNN`.
        max_upload_bytes: larger uploads are refused on the page.
    """

    db_path: Path = DEFAULT_DB
    users: dict[str, str] = field(default_factory=lambda: parse_users(DEFAULT_USERS))
    faults: Faults = field(default_factory=Faults)
    control: bool = False
    session_idle_seconds: int = 30 * 60
    number_year: int = 2021
    max_upload_bytes: int = 25 * 1024 * 1024

    @property
    def files_dir(self) -> Path:
        """Where uploaded files are kept, by sha256."""
        return self.db_path.with_name(f"{self.db_path.stem}-bestanden")


def faults_from_json(text: str) -> Faults:
    """Parse the body of `POST /_sandbox/faults`. Raises ValueError (invalid JSON) or ValidationError."""
    return Faults.model_validate(json.loads(text))
