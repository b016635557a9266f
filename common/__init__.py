"""softbot's framework: work queue, runner, sources, browser, logging, scheduling, reports.

Nothing in this package knows about a particular benefit or case type; a bot
(see `bots/`) wires a domain package such as `tonk_bot` to it.
"""
