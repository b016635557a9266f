"""The `softbot` command (Typer + rich).

Exit codes (DESIGN.md): 0 the run completed (business exceptions are a normal
outcome), 1 it completed with system failures, 2 usage or configuration error,
3 another run of this bot holds its lock.

Each command is a thin layer over a service function (common.app, the work
queue); sub-commands live in `common/commands/`.
"""

from __future__ import annotations

from common.commands import app


def main() -> None:
    """Entry point of the `softbot` console script."""
    app()


if __name__ == "__main__":
    main()
