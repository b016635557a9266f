"""Settings: `config/softbot.yaml`, overridden by `SOFTBOT_*` environment variables.

The file is what a functional administrator reads and edits; environment
variables are for secrets and for deployments (``SOFTBOT_DATABASE_URL``,
``SOFTBOT_DATA_DIR``; nested keys with ``__``, e.g.
``SOFTBOT_BROWSER__HEADLESS=false``). Secrets (passwords, tokens) are never in
the file: the file names the environment variable that holds them.

Relative paths resolve against the working directory the command runs in (the
project folder, for `make` and the README's commands).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from common.errors import ConfigError
from common.yamlfile import read_yaml, validation_messages

DEFAULT_CONFIG = Path("config/softbot.yaml")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def secret_from_env(variable: str, what: str) -> SecretStr:
    """Read a secret from environment variable `variable`.

    Raises:
        ConfigError("config.secret_missing"): the variable is not set; names the variable, never a value.
    """
    value = os.environ.get(variable)
    if not value:
        raise ConfigError("config.secret_missing", f"{what}: environment variable {variable} is not set")
    return SecretStr(value)


class BrowserSettings(_Strict):
    """How the robot's browser runs (Playwright, Chromium)."""

    headless: bool = True
    executable: str = Field("auto", description="'auto' (Playwright's own Chromium, else the system's) or a path")
    timeout_ms: int = Field(15_000, gt=0, description="Playwright's default timeout per action")
    trace: Literal["off", "on_failure", "always"] = "on_failure"
    recycle_context_after: int = Field(50, gt=0, description="new browser context after this many items")
    recycle_browser_after: int = Field(200, gt=0, description="restart Chromium after this many items: a context "
                                       "renewed frees the page, not the browser's own memory, which grows")


class RetentionSettings(_Strict):
    """How many days each kind of stored personal data is kept (`softbot purge` applies them)."""

    raw_inputs: int = Field(365, ge=1, description="the .eml/JSON as received, of closed items")
    documents: int = Field(365, ge=1, description="attachments of closed items")
    failure_artefacts: int = Field(30, ge=1, description="screenshots, page HTML, traces")
    run_logs: int = Field(90, ge=1, description="run folders: log.jsonl, summary.json, reports")
    closed_items: int = Field(730, ge=1, description="rows of done/resolved items and their events")


class LimitSettings(_Strict):
    """What the producer accepts; anything beyond goes to a human with the reason."""

    max_attachment_bytes: int = Field(20 * 1024 * 1024, gt=0)
    max_message_bytes: int = Field(50 * 1024 * 1024, gt=0)
    allowed_content_types: list[str] = ["application/pdf", "image/jpeg", "image/png"]


class MaildirSourceSettings(_Strict):
    """A Maildir on this machine (the embedded default, and for tests)."""

    kind: Literal["maildir"]
    name: str
    path: Path
    processed_folder: str = "processed"


MICROSOFT_TOKEN_URL = "https://login.microsoftonline.com/{tenant_id}/oauth2/v2.0/token"
MICROSOFT_IMAP_SCOPE = "https://outlook.office365.com/.default"


class OAuth2Settings(_Strict):
    """OAuth2 client credentials for a mailbox (Microsoft 365: an app registration with the
    `IMAP.AccessAsApp` permission and the mailbox granted to its service principal).

    The client secret comes from the environment variable `client_secret_env`, never from the file.
    """

    tenant_id: str = Field(..., min_length=1, description="the Entra ID (Azure AD) tenant id or domain")
    client_id: str = Field(..., min_length=1, description="the app registration's application (client) id")
    client_secret_env: str = Field(..., min_length=1, description="environment variable holding the client secret")
    token_url: str = Field(MICROSOFT_TOKEN_URL, description="token endpoint; {tenant_id} is filled in")
    scope: str = MICROSOFT_IMAP_SCOPE
    ca_file: Path | None = Field(None, description="CA bundle for the token endpoint (default: the system's)")

    def endpoint(self) -> str:
        """The token URL with the tenant filled in."""
        return self.token_url.replace("{tenant_id}", self.tenant_id)

    def client_secret(self) -> SecretStr:
        """The secret from `client_secret_env`. Raises ConfigError when unset."""
        return secret_from_env(self.client_secret_env, "oauth2.client_secret_env")


class ImapSourceSettings(_Strict):
    """An IMAP mailbox (Dovecot, Exchange Online, ...). The password or OAuth2 secret comes from the environment.

    TLS is always on and the server's certificate is always verified: `implicit` (IMAPS, port 993)
    or `starttls` (port 143, upgraded before login). `ca_file` names the CA of a private or
    self-signed server; without it the system's CAs are used.
    """

    kind: Literal["imap"]
    name: str
    host: str
    port: int = Field(993, gt=0, lt=65536)
    tls: Literal["implicit", "starttls"] = "implicit"
    ca_file: Path | None = Field(None, description="CA bundle for a private or self-signed server")
    user: str
    password_env: str | None = Field(None, description="environment variable holding the password")
    oauth2: OAuth2Settings | None = Field(None, description="OAuth2 client credentials instead of a password")
    folder: str = Field("INBOX", description="the folder to read")
    processed_folder: str = Field("Verwerkt", description="processed mail is moved here (created if missing)")
    timeout_seconds: float = Field(30.0, gt=0, description="per network operation")
    fetch_batch: int = Field(25, ge=1, le=500, description="messages fetched per IMAP FETCH")

    @model_validator(mode="after")
    def _one_credential(self) -> ImapSourceSettings:
        if (self.password_env is None) == (self.oauth2 is None):
            raise ValueError("give exactly one of password_env and oauth2")
        return self


class PortalSourceSettings(_Strict):
    """An e-forms portal's submissions API (`specs/portal-api.md`). The token comes from `token_env`."""

    kind: Literal["portal"]
    name: str
    base_url: str
    token_env: str
    form: str
    ca_file: Path | None = Field(None, description="CA bundle for a private or self-signed server")
    timeout_seconds: float = Field(30.0, gt=0)
    retries: int = Field(4, ge=0, description="retries of a request after 502/503/504 or a timeout")
    retry_wait_seconds: float = Field(1.0, ge=0, description="first wait between retries (doubles each time)")


SourceSettings = Annotated[
    MaildirSourceSettings | ImapSourceSettings | PortalSourceSettings, Field(discriminator="kind")
]


class CaseSystemSettings(_Strict):
    """The case system the bot registers in, through its web UI."""

    url: str
    username: str
    password_env: str = "SOFTBOT_CASESYSTEM_PASSWORD"

    def password(self) -> SecretStr:
        """The password from `password_env`. Raises ConfigError when unset."""
        return secret_from_env(self.password_env, "casesystem.password_env")


class BackoffSettings(_Strict):
    """Exponential backoff between attempts after a system exception, in seconds."""

    initial: float = Field(1.0, ge=0)
    maximum: float = Field(30.0, ge=0)


class BotSettings(_Strict):
    """One bot's deployment settings. Domain options live under `options` and the bot validates them."""

    enabled: bool = True
    module: str | None = Field(None, description="Python module with the bot's BOT; default bots.<name>")
    queue: str | None = Field(None, description="work queue name; defaults to the bot's name")
    sources: list[SourceSettings] = []
    casesystem: CaseSystemSettings | None = None
    max_attempts: int = Field(3, ge=1, description="attempts before a system exception goes to a human")
    lease_seconds: int = Field(120, ge=5, description="a reserved item returns to the queue after this")
    backoff: BackoffSettings = BackoffSettings()
    options: dict[str, Any] = {}


class AlertSettings(_Strict):
    """Mail to an administrator when a run fails or an exception waits too long (sent by the scheduler).

    Alerts are off while `smtp_host` or `to` is empty. The SMTP password comes from `password_env`.
    """

    smtp_host: str | None = None
    smtp_port: int = Field(587, gt=0, lt=65536)
    security: Literal["starttls", "tls", "none"] = Field("starttls", description="tls: implicit TLS (port 465)")
    username: str | None = None
    password_env: str | None = Field(None, description="environment variable holding the SMTP password")
    from_address: str = "softbot@localhost"
    to: list[str] = []
    exception_age_days: int = Field(5, ge=1, description="alert when a failed item waits longer than this")

    @property
    def enabled(self) -> bool:
        return bool(self.smtp_host and self.to)


class Settings(BaseSettings):
    """All of softbot's settings.

    Raises (from `load_settings`): ConfigError with `file:line: field: problem` lines.
    """

    model_config = SettingsConfigDict(env_prefix="SOFTBOT_", env_nested_delimiter="__", extra="forbid")

    data_dir: Path = Field(Path("runs/data"), description="database, documents, raw inputs: back it up")
    runs_dir: Path = Field(Path("runs"), description="one folder per run")
    database_url: str | None = Field(None, description="default: SQLite in data_dir")
    timezone: str = "Europe/Amsterdam"
    browser: BrowserSettings = BrowserSettings()
    retention: RetentionSettings = RetentionSettings()
    limits: LimitSettings = LimitSettings()
    bots: dict[str, BotSettings] = {}
    alerts: AlertSettings = AlertSettings()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return env_settings, init_settings  # environment wins over the file

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str | None) -> str | None:
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        if value is None:
            return None
        try:
            url = make_url(value)
        except ArgumentError:
            raise ValueError("not a database URL; write e.g. postgresql+psycopg://softbot@db.example.nl/softbot "
                             "(the password in SOFTBOT_DATABASE_URL, not in the file) or sqlite:///runs/data/softbot.db"
                             ) from None
        if url.get_backend_name() not in {"sqlite", "postgresql"}:
            raise ValueError(f"database {url.get_backend_name()!r} is not supported (sqlite or postgresql)")
        return value

    @property
    def database(self) -> str:
        """SQLAlchemy URL of the work queue database."""
        return self.database_url or f"sqlite:///{self.data_dir / 'softbot.db'}"

    def bot(self, name: str) -> BotSettings:
        """Settings of bot `name`. Raises ConfigError("config.unknown_bot") naming the known bots."""
        try:
            return self.bots[name]
        except KeyError:
            known = ", ".join(sorted(self.bots)) or "none"
            raise ConfigError("config.unknown_bot", f"no bot {name!r} in config (known: {known})") from None


def config_path() -> Path:
    """The settings file: `SOFTBOT_CONFIG` or `config/softbot.yaml`."""
    return Path(os.environ.get("SOFTBOT_CONFIG", DEFAULT_CONFIG))


def _environment_variable(loc: tuple[int | str, ...]) -> str | None:
    """`environment SOFTBOT_BROWSER__TIMEOUT_MS` when the value at `loc` (or a parent) came from that variable."""
    given = {name.upper(): name for name in os.environ if name.upper().startswith("SOFTBOT_")}
    for depth in range(len(loc), 0, -1):
        name = "SOFTBOT_" + "__".join(str(part).upper() for part in loc[:depth])
        if name in given:
            return f"environment {given[name]}"
    return None


def load_settings(path: Path | None = None) -> Settings:
    """Read and validate the settings file and the `SOFTBOT_*` environment.

    The file must exist: a missing `config/softbot.yaml` means softbot runs in the wrong folder,
    and running on defaults there would show an empty exception queue.

    Raises:
        ConfigError: unreadable file, invalid YAML, or invalid values (all errors, with lines).
    """
    path = path or config_path()
    if not path.exists() and path == DEFAULT_CONFIG:
        raise ConfigError("config.unreadable", f"{path}: not found in {Path.cwd()}: run softbot in the project folder, "
                                               "or name the settings file with --config or SOFTBOT_CONFIG")
    data, node = read_yaml(path)
    try:
        return Settings(**(data or {}))
    except ValidationError as exc:
        messages = validation_messages(path, node, exc, origin=_environment_variable)
        raise ConfigError("config.invalid", "\n".join(messages)) from exc
    except TypeError as exc:
        raise ConfigError("config.invalid", f"{path}: the top level must be a mapping of settings") from exc
