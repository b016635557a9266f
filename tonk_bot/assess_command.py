"""`softbot assess tonk [--policy FILE] [--db] application.json`: judge one application from a file.

The file holds one application as the portal sends it: an object with the form's keys and
the raw strings citizens typed, plus ``"documents": [{"type": ..., "filename": ...}]`` and
``"received": "YYYY-MM-DD"`` (the form's keys may also sit under ``"fields"``, as in a work
item's payload). The verdict comes from `tonk_bot.intake.evaluate`, the consumer's own code path.

Output: ``{"findings": [...], "assessment": {...} | null}`` with BSN and IBAN values masked, plus
``"ignored_keys": [...]`` when the file holds keys that are not the form's (e.g. a misspelling);
exit code 0 complete (no findings), 1 intake checks failed, 2 unusable input (unreadable
file, bad ``received`` or ``documents``, unknown or invalid policy, ambiguous policy
selection): then the output is ``{"error": {"code": ..., "message": ...}}``.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from common.errors import ConfigError
from common.workqueue import WorkQueue
from tonk_bot.duplicates import QueueDuplicates
from tonk_bot.form import BY_KEY
from tonk_bot.intake import evaluate
from tonk_bot.model import DocumentRef
from tonk_bot.policy import Policy, load_policies, load_policy, select_policy

EXIT_COMPLETE, EXIT_FINDINGS, EXIT_UNUSABLE = 0, 1, 2
_NOT_FIELDS = frozenset({"documents", "received", "fields"})


class UnusableInput(Exception):
    """The application file cannot be judged at all (exit code 2); `code` says why."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def read_application(path: Path) -> tuple[dict[str, Any], list[DocumentRef], date]:
    """(fields, documents, received) from an application file.

    Raises:
        UnusableInput: unreadable or not JSON, not an object, ``received`` missing or not
            ``YYYY-MM-DD``, ``documents`` not a list of ``{"type", "filename"}``.
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UnusableInput("input.unreadable", f"{path}: cannot read: {exc.strerror}") from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UnusableInput("input.unreadable", f"{path}: not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise UnusableInput("input.invalid", f"{path}: expected a JSON object with the form's fields")
    received_text = data.get("received")
    try:
        received = date.fromisoformat(received_text) if isinstance(received_text, str) else None
    except ValueError:
        received = None
    if received is None:
        seen = "it is missing" if received_text is None else f"got {received_text!r}"
        raise UnusableInput("input.invalid", f"{path}: received: expected a date \"YYYY-MM-DD\"; {seen}")
    raw_docs = data.get("documents", [])
    try:
        if not isinstance(raw_docs, list):
            raise TypeError
        documents = [DocumentRef.model_validate(d) for d in raw_docs]
    except (TypeError, ValidationError) as exc:
        raise UnusableInput("input.invalid", f"{path}: documents: expected a list of "
                                             f"{{\"type\": ..., \"filename\": ...}}") from exc
    fields = data.get("fields") if isinstance(data.get("fields"), dict) else {
        k: v for k, v in data.items() if k not in _NOT_FIELDS}
    return fields, documents, received


def choose_policy(received: date, *, policy_path: Path | None, policies_dir: Path,
                  municipality: str | None) -> Policy | None:
    """The given policy file, else the one in force on `received` in `policies_dir` (None: none).

    Raises:
        ConfigError: the policy file or folder is missing or invalid, or the selection is ambiguous.
    """
    if policy_path is not None:
        return load_policy(policy_path)
    return select_policy(load_policies(policies_dir), received, municipality)


def assess_file(path: Path, *, policy_path: Path | None, policies_dir: Path, queue: WorkQueue | None,
                municipality: str | None = None) -> tuple[dict[str, Any], int]:
    """Judge the application in `path`; returns (JSON-ready output, exit code).

    Args:
        path: the application file (see the module docstring).
        policy_path: a policy file to use; None selects from `policies_dir` by the date received.
        policies_dir: the policy folder (``config/policies``).
        queue: the bot's work queue for the duplicate check (``--db``), or None to skip it. Read
            only: nothing is recorded in it.
        municipality: the bot option deciding between policies of several municipalities in force
            on the same date.

    Returns:
        (``{"findings": [...], "assessment": {...} | None[, "ignored_keys": [...]]}``, 0 or 1), or
        (``{"error": {"code", "message"}}``, 2) on unusable input. Never raises on a bad file.
    """
    try:
        fields, documents, received = read_application(path)
        policy = choose_policy(received, policy_path=policy_path, policies_dir=policies_dir,
                               municipality=municipality)
    except (UnusableInput, ConfigError) as exc:
        return {"error": {"code": exc.code, "message": exc.message}}, EXIT_UNUSABLE
    result = evaluate(fields, documents, received, policy,
                      QueueDuplicates(queue) if queue is not None else None)
    output: dict[str, Any] = {
        "findings": [finding.masked() for finding in result.findings],
        "assessment": result.assessment.model_dump(mode="json") if result.assessment else None,
    }
    ignored = sorted(key for key in fields if key not in BY_KEY)
    if ignored:  # a misspelt key is not read: say so, or a typo silently changes the verdict
        output["ignored_keys"] = ignored
    return output, EXIT_COMPLETE if result.complete else EXIT_FINDINGS
