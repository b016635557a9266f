"""Shared plumbing of the commands: the app, settings, database, error-to-exit-code mapping."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer
from rich.console import Console

from common import logging as softbot_logging
from common.config import Settings, load_settings
from common.db import Database, open_database
from common.errors import ConfigError, LockHeld

EXIT_OK, EXIT_SYSTEM_FAILURES, EXIT_USAGE, EXIT_LOCKED = 0, 1, 2, 3

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

app = typer.Typer(
    name="softbot",
    help="Software robots for benefit intake: mailboxes and portals in, cases in the case system, "
         "exceptions to a caseworker.\n\nExit codes: 0 completed (business exceptions included), "
         "1 completed with system failures, 2 usage or configuration error, 3 the bot is already running.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)


@app.callback()
def _global(
    config: Path = typer.Option(None, "--config", "-c", envvar="SOFTBOT_CONFIG",
                                help="Settings file (default: config/softbot.yaml)."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Show every log line on the console (default: "
                                 "warnings and errors; the run's log.jsonl has all)."),
) -> None:
    if config is not None:
        os.environ["SOFTBOT_CONFIG"] = str(config)
    softbot_logging.configure("DEBUG" if verbose else "INFO", console_level="DEBUG" if verbose else "WARNING")


def settings() -> Settings:
    """The settings, or exit 2 with every problem named (file:line: field: problem)."""
    try:
        return load_settings()
    except ConfigError as exc:
        fail_usage(exc.message)


def fail_usage(message: str) -> typer.Exit:
    """Print a configuration/usage problem and exit 2."""
    err.print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(EXIT_USAGE)


@contextmanager
def database(conf: Settings) -> Iterator[Database]:
    """The project database (migrated), disposed afterwards; exit 2 naming the URL when it cannot be opened."""
    try:
        db = open_database(conf.database)
    except ConfigError as exc:
        fail_usage(exc.message)
    try:
        yield db
    finally:
        db.dispose()


@contextmanager
def cli_errors() -> Iterator[None]:
    """Map ConfigError to exit 2 and LockHeld to exit 3, with the message on stderr."""
    try:
        yield
    except ConfigError as exc:
        fail_usage(exc.message)
    except LockHeld as exc:
        err.print(f"[bold yellow]busy:[/] {exc.message}", highlight=False)
        raise typer.Exit(EXIT_LOCKED) from None
