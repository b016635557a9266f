"""`softbot config check`: validate the settings file and every bot's options, naming line and field."""

from __future__ import annotations

import typer

from common import app as service
from common.commands.base import cli_errors, out, settings
from common.config import config_path

app = typer.Typer(help="The settings file (config/softbot.yaml).", no_args_is_help=True)


@app.command("check")
def check() -> None:
    """Validate config/softbot.yaml (or --config) and each bot's options; exit 2 with every problem."""
    conf = settings()
    with cli_errors():
        for name in conf.bots:
            if conf.bots[name].enabled:
                service.bot_for(conf, name)
    out.print(f"{config_path()}: ok ({len(conf.bots)} bot(s): {', '.join(sorted(conf.bots)) or 'none'}; "
              f"database {'PostgreSQL' if conf.database.startswith('postgresql') else 'SQLite'})")
