"""Build the configured sources of a bot (config `bots.<name>.sources`).

Building opens no connection (a source connects when read or checked), but reads every secret
from the environment, so a missing variable is reported before anything is read.
"""

from __future__ import annotations

from pathlib import Path

from common.config import (
    BotSettings,
    ImapSourceSettings,
    MaildirSourceSettings,
    PortalSourceSettings,
    Settings,
    SourceSettings,
    secret_from_env,
)
from common.errors import ConfigError
from common.sources.base import Source
from common.sources.maildir import MaildirSource


def build_sources(settings: Settings, bot_settings: BotSettings) -> list[Source]:
    """One Source per configured entry, in config order.

    Raises:
        ConfigError: a kind this installation cannot open, or a secret's environment variable is not
            set (named with the source's name and the variable, never a value).
    """
    return [build_source(conf) for conf in bot_settings.sources]


def build_source(conf: SourceSettings) -> Source:
    """The Source for one configured entry. Raises ConfigError (see `build_sources`)."""
    if isinstance(conf, MaildirSourceSettings):
        return MaildirSource(conf.name, conf.path, conf.processed_folder)
    if isinstance(conf, ImapSourceSettings):
        return _imap(conf)
    if isinstance(conf, PortalSourceSettings):
        from common.sources.portal import PortalSource

        token = secret_from_env(conf.token_env, f"source {conf.name}: token_env")
        return PortalSource(conf.name, conf.base_url, token, conf.form, timeout_seconds=conf.timeout_seconds,
                            retries=conf.retries, retry_wait_seconds=conf.retry_wait_seconds, ca_file=conf.ca_file)
    raise ConfigError("config.source_kind", f"source {conf.name!r}: kind {conf.kind!r} is not available")


def _imap(conf: ImapSourceSettings) -> Source:
    from common.sources.imap import ImapSource
    from common.sources.oauth2 import ClientCredentials

    password = None
    oauth2 = None
    if conf.password_env is not None:
        password = secret_from_env(conf.password_env, f"source {conf.name}: password_env")
    if conf.oauth2 is not None:
        secret = secret_from_env(conf.oauth2.client_secret_env, f"source {conf.name}: oauth2.client_secret_env")
        oauth2 = ClientCredentials(conf.oauth2.endpoint(), conf.oauth2.client_id, secret, conf.oauth2.scope,
                                   timeout_seconds=conf.timeout_seconds, ca_file=conf.oauth2.ca_file)
    return ImapSource(conf.name, conf.host, conf.port, tls=conf.tls, user=conf.user, password=password,
                      oauth2=oauth2, folder=conf.folder, processed_folder=conf.processed_folder,
                      ca_file=conf.ca_file, timeout_seconds=conf.timeout_seconds, fetch_batch=conf.fetch_batch)


def source_from_path(path: Path) -> Source:
    """A read-only source over `path`: a Maildir (has cur/ new/ tmp/), a folder of .eml files, or one .eml.
    Acknowledging moves nothing: the input is the administrator's.

    Raises:
        ConfigError("intake.path"): the path does not exist or is none of these.
    """
    from common.sources.emlfiles import EmlFilesSource

    if not path.exists():
        raise ConfigError("intake.path", f"{path}: no such file or folder")
    if path.is_dir() and (path / "cur").is_dir() and (path / "new").is_dir():
        return MaildirSource(f"maildir:{path}", path, read_only=True)
    if path.is_dir() or path.suffix.lower() == ".eml":
        return EmlFilesSource(f"files:{path}", path)
    raise ConfigError("intake.path", f"{path}: not a Maildir, a folder of .eml files, or an .eml file")
