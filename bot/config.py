"""The one settings object: every value comes from an environment variable of the same name.

`Settings` is a pydantic-settings model: each field reads the variable named like it in
upper case (`gateway_concurrency` <- `GATEWAY_CONCURRENCY`; `data_key` <- `DATA_ENCRYPTION_KEY`),
an empty variable counts as unset, and a bad value stops the process with a
`ConfigurationError` naming the variable. Secrets are `SecretStr`: they print as `**********`
and are read with `.get_secret_value()`. The names are listed in .env.example and
docker-compose.yml.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import (
    AliasChoices,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR") or ROOT / "var")
_LOOPBACK = ("127.0.0.1", "localhost", "::1")


class ConfigurationError(RuntimeError):
    """A setting is missing, malformed or unsafe: the process refuses to start."""


def local_secret(path: Path, make: Callable[[], str | bytes]) -> str:
    """A development secret kept in a file so that a local run survives restarts.

    Private from its first byte: written to a temporary file created 0600 (os.open, so no
    umask or later chmod is involved), then linked into place, which fails if another
    process got there first; every process then reads the one file. Production sets the
    variable instead (docs/SECURITY.md).
    """
    path = Path(path)
    existing = _read_secret(path)
    if existing:
        return existing
    path.parent.mkdir(parents=True, exist_ok=True)
    value = make()
    data = value if isinstance(value, bytes) else value.encode()
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)  # atomic, and never replaces another process's key
    finally:
        temporary.unlink(missing_ok=True)
    return _read_secret(path) or data.decode().strip()


def _read_secret(path: Path) -> str | None:
    try:
        return path.read_text().strip() or None
    except FileNotFoundError:
        return None


def _data_key(database_url: str) -> str:
    """The key when DATA_ENCRYPTION_KEY is unset: a local file, for a local SQLite run only."""
    if not database_url.startswith("sqlite"):
        # A key made up inside a container is lost with it, and with it every stored number.
        raise ConfigurationError(
            "DATA_ENCRYPTION_KEY is not set: a deployment must give every process the same "
            "key (see .env.example and docs/SECURITY.md)")
    return local_secret(VAR_DIR / "data.key", _fernet_key)


def _fernet_key() -> str:
    import base64

    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


class Settings(BaseSettings):
    model_config = SettingsConfigDict(frozen=True, env_ignore_empty=True, extra="forbid",
                                      populate_by_name=True)

    database_url: str = Field(default_factory=lambda: f"sqlite:///{VAR_DIR / 'assistant.db'}",
                              repr=False)  # may carry a password
    rasa_port: int = Field(default=5005, ge=1, le=65535)  # only makes the default rasa_url
    rasa_url: str = Field(default_factory=lambda data: f"http://127.0.0.1:{data['rasa_port']}")
    rasa_token: SecretStr | None = None
    port: int = Field(default=8000, ge=0, le=65535)
    host: str = "127.0.0.1"
    # Fernet key(s) for phone numbers and chat ids at rest (docs/SECURITY.md).
    data_key: SecretStr = Field(
        default_factory=lambda data: SecretStr(_data_key(data["database_url"])),
        validation_alias=AliasChoices("DATA_ENCRYPTION_KEY", "data_key"))
    # Telegram
    telegram_bot_token: SecretStr | None = None
    telegram_api_base_url: str = "https://api.telegram.org/bot"
    telegram_api_file_url: str = "https://api.telegram.org/file/bot"
    telegram_webhook_secret: SecretStr | None = None
    # Set in production (the public https URL of /webhooks/telegram); unset: long polling.
    telegram_webhook_url: str | None = None
    # WhatsApp Cloud API
    whatsapp_access_token: SecretStr | None = None
    whatsapp_phone_number_id: str | None = None
    whatsapp_app_secret: SecretStr | None = None
    whatsapp_verify_token: SecretStr | None = None
    whatsapp_api_base_url: str = "https://graph.facebook.com/v21.0"
    whatsapp_template_name: str = "reprise_conversation"
    # Partner notifications by e-mail (bot/core/notify.py): unset SMTP_HOST, no e-mail.
    # STARTTLS with a verified certificate unless the operator turns it off explicitly
    # (SMTP_STARTTLS=0): a relay that does not offer it gets nothing (docs/SECURITY.md).
    smtp_host: str | None = None
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_from: str = "assistant@localhost"
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = True
    # The partners' dashboard's public address, linked in notifications.
    dashboard_url: str | None = None
    # Delivery behaviour
    rasa_timeout: float = Field(default=30.0, gt=0)
    web_wait_seconds: float = Field(default=90.0, ge=0)
    ack_after_seconds: float = Field(default=20.0, ge=0)
    worker_poll_seconds: float = Field(default=0.5, gt=0)
    # Messages in Rasa at once: a few per Rasa worker keep it busy; more only queue inside
    # Rasa and cost the app CPU (docs/BENCH.md: 17 -> 12 ms a message from 32 to 8, same
    # throughput). Replies sent at once: the channels' APIs are far away, so many more.
    gateway_concurrency: int = Field(default=8, ge=1)
    # While another channel has work, one channel holds at most this share of those slots
    # (a web flood cannot starve Telegram and WhatsApp users; docs/BENCH.md).
    gateway_channel_share: float = Field(default=0.5, ge=0.0, le=1.0)
    outbox_concurrency: int = Field(default=32, ge=1)
    media_dir: Path = Field(default_factory=lambda: VAR_DIR / "media")
    # A download is cut off once this many bytes have arrived (docs/SECURITY.md, door 7).
    media_max_bytes: int = Field(default=64 * 1024 * 1024, ge=1)
    # Retention (bot/core/retention.py, docs/SECURITY.md): days; 0 keeps forever.
    retention_message_days: int = Field(default=90, ge=0)
    retention_closed_request_days: int = Field(default=365, ge=0)
    retention_tracker_days: int = Field(default=90, ge=0)
    retention_every_minutes: int = Field(default=60, ge=1)
    # The web chat (/api/chat, the test page): off unless asked for (docs/SECURITY.md). On:
    # each browser gets its sender from a signed cookie and is rate-limited per address and
    # per sender. Open (`make run`, tests, bench; loopback only): the client names its sender.
    web_chat_enabled: bool = False
    web_chat_open: bool = False
    web_chat_secret: SecretStr | None = None  # default: derived from data_key
    web_chat_cookie_secure: bool = True
    web_chat_rate_per_address: str = "120/minute;1200/hour"
    web_chat_rate_per_sender: str = "20/minute;300/hour"
    # Shared state of several app processes (the web chat's rate limits); unset: in memory.
    redis_url: str | None = Field(default=None, repr=False)  # may carry a password
    # The partners' dashboard (/dashboard, docs/DASHBOARD.md). Cookies are Secure unless the
    # app listens on loopback only (a local run over http); behind HTTPS leave it true.
    dashboard_secret: SecretStr | None = None  # default: derived from data_key
    dashboard_cookie_secure: bool = Field(
        default_factory=lambda data: data.get("host", "127.0.0.1") not in _LOOPBACK)
    dashboard_idle_minutes: int = Field(default=30, ge=1)
    # `DEMO_USERS=1 DEMO_PASSWORD=...`: demo-<partner>-<role> accounts (no second factor).
    demo_users: bool = False
    demo_password: SecretStr | None = None

    @field_validator("rasa_url", "whatsapp_api_base_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @model_validator(mode="after")
    def _demo_users_need_a_password(self) -> Settings:
        if self.demo_users and not self.demo_password:
            raise ConfigurationError("DEMO_USERS=1 needs DEMO_PASSWORD: demo accounts are never "
                                     "made with a default password")
        return self

    @property
    def telegram_enabled(self) -> bool:
        return bool(self.telegram_bot_token)

    @property
    def whatsapp_enabled(self) -> bool:
        return bool(self.whatsapp_access_token and self.whatsapp_phone_number_id)


def reveal(secret: SecretStr | str | None) -> str | None:
    """The text of an optional secret (None stays None), for the one place that uses it.

    A plain string passes through (a test's stand-in settings)."""
    return secret.get_secret_value() if isinstance(secret, SecretStr) else secret


def variable(field: str) -> str:
    """The environment variable that sets ``field``."""
    alias = Settings.model_fields[field].validation_alias
    return str(alias.choices[0]) if isinstance(alias, AliasChoices) else field.upper()


def _hidden(field: str) -> bool:
    """A secret, or a value that may carry one (a URL with a password): never echoed."""
    info = Settings.model_fields[field]
    return "SecretStr" in str(info.annotation) or not info.repr


def _explain(error: ValidationError) -> ConfigurationError:
    lines = []
    for item in error.errors():
        if item["type"] == "default_factory_not_called":
            continue  # follows from another error in the list
        name = str(item["loc"][0]) if item["loc"] else ""
        field = next((f for f in Settings.model_fields
                      if name in (f, variable(f)) or name.lower() == variable(f).lower()), None)
        if field is None:  # not a setting at all (a typo in `replace`)
            lines.append(f"{name}: {item['msg']}")
            continue
        shown = "" if _hidden(field) else f" (got {item['input']!r})"
        lines.append(f"{variable(field)}: {item['msg']}{shown}")
    return ConfigurationError("bad settings: " + "; ".join(lines))


def load_settings() -> Settings:
    """Read every setting from the environment (a `ConfigurationError` names a bad one)."""
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    try:
        return Settings()
    except ValidationError as error:
        raise _explain(error) from None


class GivenSettings(Settings):
    """Settings that read nothing but what they are given (and the defaults)."""

    @classmethod
    def settings_customise_sources(cls, settings_cls: type[BaseSettings],
                                   init_settings: PydanticBaseSettingsSource,
                                   env_settings: PydanticBaseSettingsSource,
                                   dotenv_settings: PydanticBaseSettingsSource,
                                   file_secret_settings: PydanticBaseSettingsSource,
                                   ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)


def given(**values: Any) -> Settings:
    """Settings from ``values`` and the defaults only, whatever the environment holds: a
    test's settings must not change with the developer's shell."""
    try:
        return GivenSettings(**values)
    except ValidationError as error:
        raise _explain(error) from None


def replace(settings: Settings, **changes: Any) -> Settings:
    """A copy of ``settings`` with ``changes``, validated like the environment's values."""
    values = {name: getattr(settings, name) for name in Settings.model_fields}
    try:
        return type(settings)(**{**values, **changes})
    except ValidationError as error:
        raise _explain(error) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
