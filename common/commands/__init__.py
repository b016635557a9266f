"""The `softbot` Typer application, assembled from one module per command group."""

from common.commands import bots, config, purge, queue, report
from common.commands.base import app

app.add_typer(queue.app, name="queue")
app.add_typer(config.app, name="config")
bots.register(app)
report.register(app)
purge.register(app)

__all__ = ["app"]
