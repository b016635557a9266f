"""The `softbot` Typer application, assembled from one module per command group."""

from common.commands import bots, queue
from common.commands.base import app

app.add_typer(queue.app, name="queue")
bots.register(app)

__all__ = ["app"]
