"""The `softbot` Typer application, assembled from one module per command group."""

from common.commands import bots, config, queue
from common.commands.base import app

app.add_typer(queue.app, name="queue")
app.add_typer(config.app, name="config")
bots.register(app)

__all__ = ["app"]
