"""Deployable bots: one small module per bot, wiring a domain package to the framework."""
