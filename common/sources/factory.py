"""Build the configured sources of a bot (config `bots.<name>.sources`)."""

from __future__ import annotations

from pathlib import Path

from common.config import BotSettings, MaildirSourceSettings, Settings
from common.errors import ConfigError
from common.sources.base import Source
from common.sources.maildir import MaildirSource


def build_sources(settings: Settings, bot_settings: BotSettings) -> list[Source]:
    """One Source per configured entry, in config order.

    Raises:
        ConfigError: a kind this installation cannot open (named with the source's name).
    """
    sources: list[Source] = []
    for conf in bot_settings.sources:
        if isinstance(conf, MaildirSourceSettings):
            sources.append(MaildirSource(conf.name, conf.path, conf.processed_folder))
        else:
            raise ConfigError("config.source_kind", f"source {conf.name!r}: kind {conf.kind!r} is not available yet")
    return sources


def source_from_path(path: Path) -> Source:
    """A read-only source over `path`: a Maildir (has cur/ new/ tmp/), a folder of .eml files, or one .eml.

    Raises:
        ConfigError("intake.path"): the path does not exist or is none of these.
    """
    from common.sources.emlfiles import EmlFilesSource

    if not path.exists():
        raise ConfigError("intake.path", f"{path}: no such file or folder")
    if path.is_dir() and (path / "cur").is_dir() and (path / "new").is_dir():
        return MaildirSource(f"maildir:{path}", path)
    if path.is_dir() or path.suffix.lower() == ".eml":
        return EmlFilesSource(f"files:{path}", path)
    raise ConfigError("intake.path", f"{path}: not a Maildir, a folder of .eml files, or an .eml file")
