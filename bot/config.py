"""The one settings object. Every value comes from the environment (names in ARCHITECTURE.md)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR", ROOT / "var"))


class ConfigurationError(RuntimeError):
    """A setting is missing or unsafe: the process refuses to start rather than run open."""


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _int(name: str, default: int) -> int:
    value = _env(name)
    return int(value) if value is not None else default


def _float(name: str, default: float) -> float:
    value = _env(name)
    return float(value) if value is not None else default


def _bool(name: str, default: bool) -> bool:
    value = _env(name)
    if value is None:
        return default
    if value.strip().lower() in ("1", "true", "yes", "on"):
        return True
    if value.strip().lower() in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"{name} must be true or false, not {value!r}")


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
        try:
            os.link(temporary, path)  # atomic, and never replaces another process's key
        except FileExistsError:
            pass
    finally:
        temporary.unlink(missing_ok=True)
    return _read_secret(path) or data.decode().strip()


def _read_secret(path: Path) -> str | None:
    try:
        return path.read_text().strip() or None
    except FileNotFoundError:
        return None


def _data_key(database_url: str) -> str:
    key = _env("DATA_ENCRYPTION_KEY")
    if key:
        return key
    if not database_url.startswith("sqlite"):
        # A key made up inside a container is lost with it, and with it every stored number.
        raise ConfigurationError(
            "DATA_ENCRYPTION_KEY is not set: a deployment must give every process the same "
            "key (see .env.example and docs/SECURITY.md)")
    return local_secret(VAR_DIR / "data.key", _fernet_key)


def _fernet_key() -> str:
    import base64

    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


@dataclass(frozen=True)
class Settings:
    database_url: str
    rasa_url: str
    rasa_token: str | None
    port: int
    host: str
    data_key: str = field(repr=False)
    # Telegram
    telegram_bot_token: str | None = field(default=None, repr=False)
    telegram_api_base_url: str = "https://api.telegram.org/bot"
    telegram_api_file_url: str = "https://api.telegram.org/file/bot"
    telegram_webhook_secret: str | None = field(default=None, repr=False)
    # Set in production (the public https URL of /webhooks/telegram); unset: long polling.
    telegram_webhook_url: str | None = None
    # WhatsApp Cloud API
    whatsapp_access_token: str | None = field(default=None, repr=False)
    whatsapp_phone_number_id: str | None = None
    whatsapp_app_secret: str | None = field(default=None, repr=False)
    whatsapp_verify_token: str | None = field(default=None, repr=False)
    whatsapp_api_base_url: str = "https://graph.facebook.com/v21.0"
    whatsapp_template_name: str = "reprise_conversation"
    # Delivery behaviour
    rasa_timeout: float = 30.0
    web_wait_seconds: float = 90.0
    ack_after_seconds: float = 20.0
    worker_poll_seconds: float = 0.5
    # Messages in Rasa at once: a few per Rasa worker keep it busy; more only queue inside
    # Rasa and cost the app CPU (docs/BENCH.md: 17 -> 12 ms a message from 32 to 8, same
    # throughput). Replies sent at once: the channels' APIs are far away, so many more.
    gateway_concurrency: int = 8
    # While another channel has work, one channel holds at most this share of those slots
    # (a web flood cannot starve Telegram and WhatsApp users; docs/BENCH.md).
    gateway_channel_share: float = 0.5
    outbox_concurrency: int = 32
    media_dir: Path = VAR_DIR / "media"
    # A download is cut off once this many bytes have arrived (docs/SECURITY.md, door 7).
    media_max_bytes: int = 64 * 1024 * 1024
    # Retention (bot/core/retention.py, docs/SECURITY.md): days; 0 keeps forever.
    retention_message_days: int = 90
    retention_closed_request_days: int = 365
    retention_tracker_days: int = 90
    retention_every_minutes: int = 60
    # The web chat (/api/chat, the test page): off unless asked for (docs/SECURITY.md). On:
    # each browser gets its sender from a signed cookie and is rate-limited per address and
    # per sender. Open (`make run`, tests, bench; loopback only): the client names its sender.
    web_chat_enabled: bool = False
    web_chat_open: bool = False
    web_chat_secret: str | None = field(default=None, repr=False)  # default: from data_key
    web_chat_cookie_secure: bool = True
    web_chat_rate_per_address: str = "120/minute;1200/hour"
    web_chat_rate_per_sender: str = "20/minute;300/hour"
    # Shared state of several app processes (the web chat's rate limits); unset: in memory.
    redis_url: str | None = field(default=None, repr=False)
    # The partners' dashboard (/dashboard, docs/DASHBOARD.md). Cookies are Secure unless the
    # app listens on loopback only (a local run over http); behind HTTPS leave it true.
    dashboard_secret: str | None = field(default=None, repr=False)  # default: from data_key
    dashboard_cookie_secure: bool = True
    dashboard_idle_minutes: int = 30
    # `DEMO_USERS=1 DEMO_PASSWORD=...`: demo-<partner>-<role> accounts (no second factor).
    demo_users: bool = False
    demo_password: str | None = field(default=None, repr=False)

    @property
    def telegram_enabled(self) -> bool:
        return bool(self.telegram_bot_token)

    @property
    def whatsapp_enabled(self) -> bool:
        return bool(self.whatsapp_access_token and self.whatsapp_phone_number_id)


def load_settings() -> Settings:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    database_url = _env("DATABASE_URL", f"sqlite:///{VAR_DIR / 'assistant.db'}")
    return Settings(
        database_url=database_url,
        rasa_url=_env("RASA_URL", f"http://127.0.0.1:{_int('RASA_PORT', 5005)}").rstrip("/"),
        rasa_token=_env("RASA_TOKEN"),
        port=_int("PORT", 8000),
        host=_env("HOST", "127.0.0.1"),
        data_key=_data_key(database_url),
        telegram_bot_token=_env("TELEGRAM_BOT_TOKEN"),
        telegram_api_base_url=_env("TELEGRAM_API_BASE_URL", "https://api.telegram.org/bot"),
        telegram_api_file_url=_env("TELEGRAM_API_FILE_URL", "https://api.telegram.org/file/bot"),
        telegram_webhook_secret=_env("TELEGRAM_WEBHOOK_SECRET"),
        telegram_webhook_url=_env("TELEGRAM_WEBHOOK_URL"),
        whatsapp_access_token=_env("WHATSAPP_ACCESS_TOKEN"),
        whatsapp_phone_number_id=_env("WHATSAPP_PHONE_NUMBER_ID"),
        whatsapp_app_secret=_env("WHATSAPP_APP_SECRET"),
        whatsapp_verify_token=_env("WHATSAPP_VERIFY_TOKEN"),
        whatsapp_api_base_url=_env(
            "WHATSAPP_API_BASE_URL", "https://graph.facebook.com/v21.0"
        ).rstrip("/"),
        whatsapp_template_name=_env("WHATSAPP_TEMPLATE_NAME", "reprise_conversation"),
        rasa_timeout=_float("RASA_TIMEOUT", 30.0),
        web_wait_seconds=_float("WEB_WAIT_SECONDS", 90.0),
        ack_after_seconds=_float("ACK_AFTER_SECONDS", 20.0),
        worker_poll_seconds=_float("WORKER_POLL_SECONDS", 0.5),
        gateway_concurrency=max(1, _int("GATEWAY_CONCURRENCY", 8)),
        gateway_channel_share=min(1.0, max(0.0, _float("GATEWAY_CHANNEL_SHARE", 0.5))),
        outbox_concurrency=max(1, _int("OUTBOX_CONCURRENCY", 32)),
        media_dir=Path(_env("MEDIA_DIR", str(VAR_DIR / "media"))),
        media_max_bytes=max(1, _int("MEDIA_MAX_BYTES", 64 * 1024 * 1024)),
        retention_message_days=max(0, _int("RETENTION_MESSAGE_DAYS", 90)),
        retention_closed_request_days=max(0, _int("RETENTION_CLOSED_REQUEST_DAYS", 365)),
        retention_tracker_days=max(0, _int("RETENTION_TRACKER_DAYS", 90)),
        retention_every_minutes=max(1, _int("RETENTION_EVERY_MINUTES", 60)),
        web_chat_enabled=_bool("WEB_CHAT_ENABLED", False),
        web_chat_open=_bool("WEB_CHAT_OPEN", False),
        web_chat_secret=_env("WEB_CHAT_SECRET"),
        web_chat_cookie_secure=_bool("WEB_CHAT_COOKIE_SECURE", True),
        web_chat_rate_per_address=_env("WEB_CHAT_RATE_PER_ADDRESS", "120/minute;1200/hour"),
        web_chat_rate_per_sender=_env("WEB_CHAT_RATE_PER_SENDER", "20/minute;300/hour"),
        redis_url=_env("REDIS_URL"),
        dashboard_secret=_env("DASHBOARD_SECRET"),
        dashboard_cookie_secure=_bool("DASHBOARD_COOKIE_SECURE",
                                      _env("HOST", "127.0.0.1") not in _LOOPBACK),
        dashboard_idle_minutes=max(1, _int("DASHBOARD_IDLE_MINUTES", 30)),
        demo_users=_demo_users(),
        demo_password=_env("DEMO_PASSWORD"),
    )


_LOOPBACK = ("127.0.0.1", "localhost", "::1")


def _demo_users() -> bool:
    demo = _bool("DEMO_USERS", False)
    if demo and not _env("DEMO_PASSWORD"):
        raise ConfigurationError("DEMO_USERS=1 needs DEMO_PASSWORD: demo accounts are never "
                                 "made with a default password")
    return demo


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
