"""The `softbot` Typer application, assembled from one module per command group."""

from common.commands import bots, config, health, purge, queue, report, schedule
from common.commands.base import app

app.add_typer(queue.app, name="queue")
app.add_typer(config.app, name="config")
app.add_typer(schedule.app, name="schedule")
bots.register(app)
report.register(app)
purge.register(app)
health.register(app)

__all__ = ["app"]
