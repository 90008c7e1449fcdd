"""bot/config.py: defaults, the environment's names and values, secrets, refusals."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from pydantic import SecretStr

from bot.config import (
    VAR_DIR,
    ConfigurationError,
    Settings,
    given,
    load_settings,
    replace,
    reveal,
    variable,
)

KEY = "k" * 43 + "="
SECRET_FIELDS = sorted(name for name, info in Settings.model_fields.items()
                       if "SecretStr" in str(info.annotation))


@pytest.fixture
def env(monkeypatch):
    """A clean environment: none of the settings' variables, a data key."""
    for name in Settings.model_fields:
        monkeypatch.delenv(variable(name), raising=False)
    monkeypatch.setenv("DATA_ENCRYPTION_KEY", KEY)
    return monkeypatch


def test_defaults(env):
    settings = load_settings()
    assert settings.database_url == f"sqlite:///{VAR_DIR / 'assistant.db'}"
    assert settings.rasa_url == "http://127.0.0.1:5005"
    assert (settings.port, settings.host) == (8000, "127.0.0.1")
    assert settings.data_key.get_secret_value() == KEY
    assert settings.rasa_token is None and settings.telegram_bot_token is None
    assert not settings.telegram_enabled and not settings.whatsapp_enabled
    assert settings.telegram_api_base_url == "https://api.telegram.org/bot"
    assert settings.whatsapp_api_base_url == "https://graph.facebook.com/v21.0"
    assert settings.whatsapp_template_name == "reprise_conversation"
    assert (settings.smtp_host, settings.smtp_port, settings.smtp_from) == (
        None, 587, "assistant@localhost")
    assert settings.smtp_starttls is True and settings.dashboard_url is None
    assert (settings.gateway_concurrency, settings.gateway_channel_share,
            settings.outbox_concurrency) == (8, 0.5, 32)
    assert settings.media_dir == VAR_DIR / "media"
    assert settings.media_max_bytes == 64 * 1024 * 1024
    assert (settings.retention_message_days, settings.retention_closed_request_days,
            settings.retention_tracker_days, settings.retention_every_minutes) == (90, 365, 90, 60)
    assert not settings.web_chat_enabled and not settings.web_chat_open
    assert settings.web_chat_cookie_secure is True
    assert settings.web_chat_rate_per_sender == "20/minute;300/hour"
    # Loopback: a local run over http; anything else gets Secure dashboard cookies.
    assert settings.dashboard_cookie_secure is False
    assert (settings.dashboard_idle_minutes, settings.demo_users) == (30, False)


def test_every_variable_keeps_its_name(env):
    """The names deployments use (.env.example, docker-compose.yml) reach their fields."""
    values = {
        "DATABASE_URL": "postgresql://u:p@db/assistant", "RASA_URL": "http://rasa:5005/",
        "RASA_TOKEN": "rt", "PORT": "9000", "HOST": "0.0.0.0", "TELEGRAM_BOT_TOKEN": "1:T",
        "TELEGRAM_WEBHOOK_SECRET": "ws", "TELEGRAM_WEBHOOK_URL": "https://bot.example/wh",
        "WHATSAPP_ACCESS_TOKEN": "wa", "WHATSAPP_PHONE_NUMBER_ID": "42",
        "WHATSAPP_APP_SECRET": "as", "WHATSAPP_VERIFY_TOKEN": "vt",
        "WHATSAPP_API_BASE_URL": "https://graph.example/v1/", "SMTP_HOST": "smtp.example",
        "SMTP_PORT": "2525", "SMTP_FROM": "bot@example", "SMTP_USERNAME": "bot",
        "SMTP_PASSWORD": "sp", "SMTP_STARTTLS": "0", "DASHBOARD_URL": "https://dash.example",
        "GATEWAY_CONCURRENCY": "3", "GATEWAY_CHANNEL_SHARE": "0.25", "MEDIA_DIR": "/srv/media",
        "MEDIA_MAX_BYTES": "1000", "RETENTION_MESSAGE_DAYS": "0", "WEB_CHAT_ENABLED": "yes",
        "WEB_CHAT_SECRET": "wcs", "REDIS_URL": "redis://cache:6379/0", "DASHBOARD_SECRET": "ds",
        "DASHBOARD_COOKIE_SECURE": "false", "DEMO_USERS": "1", "DEMO_PASSWORD": "demo",
    }
    for name, value in values.items():
        env.setenv(name, value)
    s = load_settings()
    assert s.database_url == "postgresql://u:p@db/assistant"
    assert s.rasa_url == "http://rasa:5005"  # no trailing slash
    assert s.whatsapp_api_base_url == "https://graph.example/v1"
    assert (s.port, s.host, s.whatsapp_phone_number_id) == (9000, "0.0.0.0", "42")
    assert s.telegram_enabled and s.whatsapp_enabled
    assert s.telegram_webhook_url == "https://bot.example/wh"
    assert (s.smtp_host, s.smtp_port, s.smtp_from, s.smtp_username, s.smtp_starttls) == (
        "smtp.example", 2525, "bot@example", "bot", False)
    assert s.dashboard_url == "https://dash.example"
    assert (s.gateway_concurrency, s.gateway_channel_share) == (3, 0.25)
    assert (s.media_dir, s.media_max_bytes) == (Path("/srv/media"), 1000)
    assert s.retention_message_days == 0 and s.web_chat_enabled
    assert s.redis_url == "redis://cache:6379/0" and not s.dashboard_cookie_secure
    assert s.demo_users
    assert {name: reveal(getattr(s, name)) for name in SECRET_FIELDS} == {
        "dashboard_secret": "ds", "data_key": KEY, "demo_password": "demo", "rasa_token": "rt",
        "smtp_password": "sp", "telegram_bot_token": "1:T", "telegram_webhook_secret": "ws",
        "web_chat_secret": "wcs", "whatsapp_access_token": "wa", "whatsapp_app_secret": "as",
        "whatsapp_verify_token": "vt"}


def test_derived_defaults(env):
    env.setenv("RASA_PORT", "5099")
    env.setenv("HOST", "0.0.0.0")
    settings = load_settings()
    assert settings.rasa_url == "http://127.0.0.1:5099"
    assert settings.dashboard_cookie_secure is True


def test_an_empty_variable_counts_as_unset(env):
    """docker compose passes `${SMTP_PORT}` as "" when the operator left it out."""
    env.setenv("SMTP_PORT", "")
    env.setenv("TELEGRAM_BOT_TOKEN", "")
    settings = load_settings()
    assert settings.smtp_port == 587 and settings.telegram_bot_token is None


def test_secrets_never_show_in_repr_str_or_logs(env, caplog):
    values = {variable(name): f"secret-{name}-value" for name in SECRET_FIELDS}
    for name, value in values.items():
        env.setenv(name, value)
    env.setenv("DATABASE_URL", "sqlite:///var/pass-in-url.db")
    env.setenv("REDIS_URL", "redis://:hunter2@cache:6379/0")
    settings = load_settings()
    with caplog.at_level(logging.INFO):
        logging.getLogger("test").info("settings: %s / %r", settings, settings)
    shown = repr(settings) + str(settings) + caplog.text + repr(settings.model_dump())
    for value in values.values():
        assert value not in shown
    printed = repr(settings) + str(settings) + caplog.text  # URLs may carry a password
    assert "hunter2" not in printed and "pass-in-url" not in printed
    assert all(isinstance(getattr(settings, name), SecretStr) for name in SECRET_FIELDS)


@pytest.mark.parametrize(("name", "value", "why"), [
    ("PORT", "eighty", "valid integer"),
    ("GATEWAY_CONCURRENCY", "0", "greater than or equal to 1"),
    ("GATEWAY_CHANNEL_SHARE", "1.5", "less than or equal to 1"),
    ("RETENTION_MESSAGE_DAYS", "-1", "greater than or equal to 0"),
    ("WEB_CHAT_ENABLED", "maybe", "valid boolean"),
    ("SMTP_STARTTLS", "perhaps", "valid boolean"),
    ("WORKER_POLL_SECONDS", "0", "greater than 0"),
])
def test_a_bad_value_names_its_variable(env, name, value, why):
    env.setenv(name, value)
    with pytest.raises(ConfigurationError) as error:
        load_settings()
    assert name in str(error.value) and why in str(error.value)
    assert repr(value) in str(error.value)


def test_a_bad_secret_is_named_but_not_shown(env):
    env.setenv("DATABASE_URL", "postgresql://u:hunter2@db/assistant")
    with pytest.raises(ConfigurationError, match="bad settings") as error:
        replace(load_settings(), rasa_token=12345, database_url=["hunter2"])
    assert "RASA_TOKEN" in str(error.value) and "DATABASE_URL" in str(error.value)
    assert "12345" not in str(error.value) and "hunter2" not in str(error.value)


def test_a_deployment_without_the_data_key_is_refused(env):
    env.setenv("DATA_ENCRYPTION_KEY", "")
    env.setenv("DATABASE_URL", "postgresql://u:p@db.invalid/assistant")
    with pytest.raises(ConfigurationError, match="DATA_ENCRYPTION_KEY is not set"):
        load_settings()


def test_demo_users_need_a_password(env):
    env.setenv("DEMO_USERS", "true")
    with pytest.raises(ConfigurationError, match="DEMO_PASSWORD"):
        load_settings()


def test_replace_validates_and_wraps_secrets(env):
    settings = replace(load_settings(), telegram_bot_token="1:T", port="8081")
    assert isinstance(settings.telegram_bot_token, SecretStr) and settings.port == 8081
    assert settings.telegram_enabled
    with pytest.raises(ConfigurationError, match="GATEWAY_CONCURRENCY"):
        replace(settings, gateway_concurrency=0)
    with pytest.raises(ConfigurationError, match="DEMO_PASSWORD"):
        replace(settings, demo_users=True)
    with pytest.raises(ConfigurationError, match="telegram_bot_tokn"):  # a typo is refused
        replace(settings, telegram_bot_tokn="1:T")


def test_other_variables_are_left_alone(env):
    env.setenv("POSTGRES_PASSWORD", "not ours")
    env.setenv("RASA_WORKERS", "2")
    assert load_settings().port == 8000


def test_given_settings_ignore_the_environment(env):
    env.setenv("PORT", "1234")
    env.setenv("TELEGRAM_BOT_TOKEN", "1:from-the-shell")
    settings = given(data_key=KEY, host="0.0.0.0")
    assert (settings.port, settings.telegram_bot_token, settings.host) == (8000, None, "0.0.0.0")
    assert isinstance(settings, Settings) and settings.dashboard_cookie_secure
    changed = replace(settings, telegram_webhook_url="https://bot.example/wh")
    assert changed.port == 8000 and changed.telegram_bot_token is None  # still not the shell's
    assert load_settings().port == 1234
    with pytest.raises(ConfigurationError, match="PORT"):
        given(data_key=KEY, port=-1)


def test_settings_are_frozen(env):
    settings = load_settings()
    with pytest.raises(ValueError, match="frozen"):
        settings.port = 1  # type: ignore[misc]


def test_reveal():
    assert reveal(None) is None
    assert reveal(SecretStr("x")) == "x"
    assert reveal("plain") == "plain"
