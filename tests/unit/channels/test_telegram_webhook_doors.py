"""Issue 14, door 1: the Telegram webhook never fails open.

Webhook mode (TELEGRAM_WEBHOOK_URL set) refuses to start without TELEGRAM_WEBHOOK_SECRET, and
the route exists only in webhook mode: in polling mode nobody can post updates at all.
"""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from bot.app import create_app
from bot.config import ConfigurationError
from bot.testing.harness import make_settings
from bot.testing.telegram_api import text_update

TOKEN = "123456:TEST-token"


def _settings(tmp_path, **overrides):
    return make_settings(tmp_path, "http://rasa.invalid", telegram_bot_token=TOKEN, **overrides)


def test_webhook_mode_refuses_to_start_without_a_secret(tmp_path):
    settings = _settings(tmp_path, telegram_webhook_url="https://bot.example.org/webhooks/telegram",
                         telegram_webhook_secret=None)
    with pytest.raises(ConfigurationError, match="TELEGRAM_WEBHOOK_SECRET"):
        create_app(settings, run_workers=False)


def test_no_webhook_route_in_polling_mode_so_updates_cannot_be_forged(tmp_path):
    app = create_app(_settings(tmp_path, telegram_webhook_url=None, telegram_webhook_secret=None),
                     run_workers=False)
    client = TestClient(app)  # no lifespan: nothing is polled, no network
    response = client.post("/webhooks/telegram", json=text_update(4242, "effacer mes données",
                                                                  update_id=10**9))
    assert response.status_code == 404
    assert app.state.gateway.db is not None
    with app.state.gateway.db.session() as session:
        from sqlalchemy import func, select

        from bot.store.models import InboxMessage
        assert session.scalar(select(func.count(InboxMessage.id))) == 0


def test_webhook_mode_checks_the_secret_on_every_call(tmp_path):
    app = create_app(_settings(tmp_path, telegram_webhook_url="https://bot.example.org/hook",
                               telegram_webhook_secret="s3cret-value"), run_workers=False)
    client = TestClient(app)
    update = text_update(4242, "bonjour", update_id=5)
    assert client.post("/webhooks/telegram", json=update).status_code == 403
    assert client.post("/webhooks/telegram", json=update, headers={
        "X-Telegram-Bot-Api-Secret-Token": "wrong"}).status_code == 403
    assert client.post("/webhooks/telegram", json=update, headers={
        "X-Telegram-Bot-Api-Secret-Token": "s3cret-value"}).status_code == 200
