"""Logging: structlog, as a pipeline of small processors.

Each run writes JSON lines to `runs/<run-id>/log.jsonl` and a readable line to
the console (stderr). `run_id`, `bot` and `item_id` are bound with contextvars
(`bind_run`, `bind_item`) and appear on every line below them.

Privacy: `redact` replaces secrets by key and masks BSNs, IBANs and personal
fields (common.masking) in every event before any renderer sees it.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import structlog

from common.masking import mask_value

_FILE_HANDLER_NAME = "softbot-run-file"


def redact(_logger: Any, _method: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor: mask secrets and personal data in every value (not in `event`'s key names)."""
    for key, value in list(event.items()):
        if key in {"timestamp", "level", "logger", "run_id", "item_id", "bot"}:
            continue
        event[key] = mask_value(key, value)
    return event


_SHARED: list[Any] = [
    structlog.contextvars.merge_contextvars,
    structlog.processors.add_log_level,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
    redact,
]


def configure(level: str = "INFO", console: bool = True, console_level: str = "WARNING") -> None:
    """Set up structlog over stdlib logging with a console handler (stderr). Idempotent.

    Run log files get every line from `level` up; the console only from `console_level` up
    (a command prints its own summary), unless a command asks for more (`--verbose`).
    """
    structlog.configure(
        processors=[*_SHARED, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    root = logging.getLogger()
    root.setLevel(level)
    for handler in [h for h in root.handlers if getattr(h, "name", "") == "softbot-console"]:
        root.removeHandler(handler)
    if console:
        handler = logging.StreamHandler(sys.stderr)
        handler.name = "softbot-console"
        handler.setLevel(console_level)
        handler.setFormatter(structlog.stdlib.ProcessorFormatter(
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                        structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())],
            foreign_pre_chain=_SHARED,
        ))
        root.addHandler(handler)
    for noisy in ("httpx", "httpcore", "alembic", "apscheduler", "uvicorn.access", "asyncio"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def ensure_configured() -> None:
    """Configure with the defaults unless a command (or test) already did."""
    if not structlog.is_configured():
        configure()


class _OfRun(logging.Filter):
    """Pass only the lines of one run: those logged where `run_id` is bound to it (contextvars)."""

    def __init__(self, run_id: str) -> None:
        super().__init__()
        self.run_id = run_id

    def filter(self, record: logging.LogRecord) -> bool:
        bound_here = structlog.contextvars.get_contextvars().get("run_id")
        event = record.msg if isinstance(record.msg, dict) else {}
        return event.get("run_id", bound_here) == self.run_id


@contextmanager
def run_log_file(path: Path, run_id: str | None = None) -> Iterator[None]:
    """Write log lines, as JSON, to `path` (the run's `log.jsonl`) while the block runs.

    With `run_id`, only that run's lines (several runs may share a process, e.g. the scheduler);
    threads a run starts must carry its context (`contextvars.copy_context`) to be included.
    """
    ensure_configured()
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.name = _FILE_HANDLER_NAME
    if run_id is not None:
        handler.addFilter(_OfRun(run_id))
    handler.setFormatter(structlog.stdlib.ProcessorFormatter(
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    structlog.processors.dict_tracebacks,
                    structlog.processors.JSONRenderer(ensure_ascii=False)],
        foreign_pre_chain=_SHARED,
    ))
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield
    finally:
        root.removeHandler(handler)
        handler.close()


def get_logger(name: str | None = None) -> structlog.stdlib.BoundLogger:
    """A structlog logger; bind context with `bind_run` / `bind_item`."""
    return structlog.get_logger(name)


@contextmanager
def bound(**values: Any) -> Iterator[None]:
    """Bind `values` (e.g. run_id, bot, item_id) to every log line inside the block."""
    with structlog.contextvars.bound_contextvars(**values):
        yield
