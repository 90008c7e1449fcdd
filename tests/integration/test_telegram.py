"""Telegram end to end: the real app (its dialogue included) and the real python-telegram-bot
against a fake Bot API and a fake Rasa NLU server, both on loopback."""

from __future__ import annotations

import json
import logging
import time

import httpx
import pytest

from bot.channels.telegram import TelegramChannel
from bot.store.models import OutboxMessage
from bot.testing.harness import RunningApp, make_settings
from bot.testing.server import wait_for
from bot.testing.telegram_api import (
    FakeTelegramAPI,
    callback_update,
    message_update,
    text_update,
    voice_update,
)

# PTB itself reads RetryAfter.retry_after while building the error (v22.2 transition warning).
pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")

TOKEN = "123456:TEST-token"
SECRET = "webhook-secret-1"
CHAT = 7301234567  # a chat id: must never reach a log line


@pytest.fixture(scope="module")
def telegram_api():
    fake = FakeTelegramAPI(TOKEN).start()
    yield fake
    fake.stop()


@pytest.fixture
def fakes(telegram_api, rasa):
    telegram_api.reset()
    rasa.reset()
    return telegram_api, rasa


def _settings(tmp_path, telegram_api, rasa, **overrides):
    values = {"telegram_bot_token": TOKEN,
                  "telegram_api_base_url": f"{telegram_api.url}/bot",
                  "telegram_api_file_url": f"{telegram_api.url}/file/bot",
                  "telegram_webhook_secret": SECRET,
                  "telegram_webhook_url": "https://bot.example.org/webhooks/telegram"}
    values.update(overrides)
    return make_settings(tmp_path, rasa.url, **values)


@pytest.fixture
def app(tmp_path, fakes, monkeypatch):
    telegram_api, rasa = fakes
    monkeypatch.setattr(TelegramChannel, "SEND_TIMEOUT", 1.0)
    with RunningApp(_settings(tmp_path, telegram_api, rasa)) as running:
        yield running


async def post_update(app, update, secret: str | None = SECRET) -> httpx.Response:
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret else {}
    async with httpx.AsyncClient() as client:
        return await client.post(f"{app.url}/webhooks/telegram", json=update, headers=headers)


async def test_text_in_reply_out_with_inline_keyboard(app, fakes, caplog):
    telegram_api, rasa = fakes
    caplog.set_level(logging.INFO)
    update = text_update(CHAT, "Bonjour")
    response = await post_update(app, update)
    assert response.status_code == 200
    # Stored before the 200.
    [row] = app.inbox()
    assert (row.channel, row.channel_message_id, row.kind) == ("telegram",
                                                               str(update["update_id"]), "text")
    [sent] = await wait_for(telegram_api.sent_messages)
    assert sent["chat_id"] == str(CHAT)
    assert sent["text"] == "Bonjour ! Je suis l'assistant des orpailleurs. Choisissez un thème :"
    assert sent["reply_markup"] == {"inline_keyboard": [
        [{"text": "Formalisation", "callback_data": "menu:formalisation"}],
        [{"text": "Licences et règles", "callback_data": "menu:licensing"}],
        [{"text": "Pratiques sans mercure", "callback_data": "menu:safe_practice"}],
        [{"text": "Problèmes et plaintes", "callback_data": "menu:protection"}]]}
    [out] = await wait_for(lambda: app.outbox(OutboxMessage.status == "sent"))
    assert out.provider_message_id and out.attempts == 1
    # Set up at start: the command menu in French and the webhook with its secret.
    [commands] = await wait_for(lambda: telegram_api.calls("setMyCommands"))
    assert [c["command"] for c in commands.body["commands"]] == ["start", "menu", "langue", "aide"]
    [hook] = await wait_for(lambda: telegram_api.calls("setWebhook"))
    assert hook.body["url"] == "https://bot.example.org/webhooks/telegram"
    assert hook.body["secret_token"] == SECRET
    assert hook.body["allowed_updates"] == ["message", "callback_query"]
    assert str(CHAT) not in caplog.text


async def test_secret_token_is_checked(app, fakes):
    assert (await post_update(app, text_update(CHAT, "salut"), secret=None)).status_code == 403
    assert (await post_update(app, text_update(CHAT, "salut"), secret="wrong")).status_code == 403
    assert app.inbox() == []


async def test_callback_query_is_a_choice_and_is_answered(app, fakes):
    telegram_api, rasa = fakes
    response = await post_update(app, callback_update(CHAT, "answer:mercury_health"))
    assert response.status_code == 200
    [answer] = await wait_for(lambda: telegram_api.calls("answerCallbackQuery"))
    assert answer.body["callback_query_id"]
    [sent] = await wait_for(telegram_api.sent_messages)
    assert sent["text"].startswith("Le mercure rend malade.")
    assert rasa.messages() == []  # a pressed button needs no NLU


async def test_commands_become_what_the_nlu_understands(app, fakes):
    telegram_api, rasa = fakes
    for text in ("/start", "/menu@fake_bot", "/langue", "/aide"):
        assert (await post_update(app, text_update(CHAT, text))).status_code == 200
    await wait_for(lambda: len(telegram_api.sent_messages()) == 4)
    # /menu is the main menu's choice: no NLU for it.
    assert rasa.messages() == ["bonjour", "changer de langue", "aide"]


async def test_duplicate_delivery_is_answered_once(app, fakes):
    telegram_api, rasa = fakes
    update = text_update(CHAT, "Bonjour", update_id=424242)
    for _ in range(3):
        assert (await post_update(app, update)).status_code == 200
    await wait_for(telegram_api.sent_messages)
    time.sleep(0.5)
    assert len(app.inbox()) == 1
    assert len(rasa.messages()) == 1
    assert len(telegram_api.sent_messages()) == 1


async def test_flood_control_retry_after_is_honoured(app, fakes):
    telegram_api, _ = fakes
    telegram_api.fail_next(1, status=429, retry_after=1, match="sendMessage")
    await post_update(app, text_update(CHAT, "Bonjour"))
    [out] = await wait_for(lambda: app.outbox(OutboxMessage.status == "sent"))
    assert out.attempts == 2
    assert len(telegram_api.sent_messages()) == 2


async def test_flood_control_waits_at_least_retry_after(app, fakes):
    telegram_api, _ = fakes
    telegram_api.fail_next(1, status=429, retry_after=2, match="sendMessage")
    await post_update(app, text_update(CHAT, "Bonjour"))
    await wait_for(lambda: app.outbox())
    await wait_for(lambda: app.outbox()[0].attempts == 1)
    started = time.monotonic()
    await wait_for(lambda: app.outbox()[0].status == "sent")
    assert time.monotonic() - started >= 1.5  # retry_after 2 s, minus the polling slack


async def test_server_errors_and_timeouts_are_retried(app, fakes):
    telegram_api, _ = fakes
    telegram_api.fail_next(1, status=500, match="sendMessage")
    telegram_api.hang_next(1, seconds=3, match="sendMessage")
    await post_update(app, text_update(CHAT, "Bonjour"))
    [out] = await wait_for(lambda: [r for r in app.outbox() if r.status == "sent"], timeout=20)
    assert out.attempts == 3
    assert len(telegram_api.sent_messages()) == 3


async def test_a_refused_reply_is_visible_as_failed(app, fakes):
    telegram_api, _ = fakes
    telegram_api.fail_next(1, status=403, match="sendMessage")
    await post_update(app, text_update(CHAT, "Bonjour"))
    [out] = await wait_for(lambda: [r for r in app.outbox() if r.status == "failed"])
    assert "Forbidden" in out.last_error
    assert out.attempts == 1


async def test_voice_note_is_acknowledged_and_downloaded(app, fakes):
    telegram_api, rasa = fakes
    telegram_api.files["voice-42"] = b"OggS\x00fake-opus-bytes"
    await post_update(app, voice_update(CHAT, file_id="voice-42"))
    [inbox] = app.inbox()
    assert inbox.kind == "voice" and inbox.payload["media"]["ref"] == "voice-42"
    [sent] = await wait_for(telegram_api.sent_messages)
    assert "vocal" in sent["text"]
    assert rasa.messages() == []  # nothing for the NLU to read
    [media] = await wait_for(lambda: [m for m in app.media() if m.status == "stored"])
    assert media.inbox_id == inbox.id
    stored = app.settings.media_dir / media.path
    assert stored.read_bytes() == b"OggS\x00fake-opus-bytes"
    assert str(CHAT) not in media.path


@pytest.mark.parametrize("update, kind", [
    (lambda: message_update(CHAT, {"sticker": {
        "file_id": "st1", "file_unique_id": "ust1", "width": 512, "height": 512,
        "is_animated": False, "is_video": False, "type": "regular"}}), "unsupported"),
    (lambda: message_update(CHAT, {"location": {"latitude": 12.65, "longitude": -8.0}}),
     "location"),
    (lambda: message_update(CHAT, {"contact": {"phone_number": "+22370000000",
                                               "first_name": "Moussa"}}), "contact"),
    (lambda: text_update(CHAT, "😀😀"), "text"),
])
async def test_other_message_kinds_are_stored_and_answered(app, fakes, update, kind):
    telegram_api, _ = fakes
    assert (await post_update(app, update())).status_code == 200
    [row] = app.inbox()
    assert row.kind == kind
    assert "+22370000000" not in json.dumps(row.payload)
    await wait_for(telegram_api.sent_messages)


async def test_bad_input_is_refused_without_crashing(app, fakes):
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET, "Content-Type": "application/json"}
    url = f"{app.url}/webhooks/telegram"
    async with httpx.AsyncClient() as client:
        assert (await client.post(url, content=b"{not json", headers=headers)).status_code == 400
        assert (await client.post(url, content=b'{"update_id": "\xff"}',
                                  headers=headers)).status_code == 400
        assert (await client.post(url, content=b"[1, 2]", headers=headers)).status_code == 400
        big = b'{"update_id": 1, "x": "' + b"a" * (1024 * 1024) + b'"}'
        assert (await client.post(url, content=big, headers=headers)).status_code == 413
        # Valid updates that are not someone writing to us: acknowledged, nothing stored.
        edited = text_update(CHAT, "edited")
        edited["edited_message"] = edited.pop("message")
        assert (await client.post(url, json=edited, headers=headers)).status_code == 200
        group = text_update(CHAT, "in a group", chat_type="group")
        assert (await client.post(url, json=group, headers=headers)).status_code == 200
        assert (await client.post(url, json={"update_id": 99, "message": {"junk": 1}},
                                  headers=headers)).status_code == 200
        assert (await client.get(f"{app.url}/healthz")).status_code == 200
    assert app.inbox() == []


async def test_polling_mode_stores_updates_then_advances_the_offset(tmp_path, fakes, monkeypatch):
    telegram_api, rasa = fakes
    monkeypatch.setattr(TelegramChannel, "POLL_TIMEOUT", 1)
    first, second = text_update(CHAT, "Bonjour", update_id=5001), \
        callback_update(CHAT, "menu:main", update_id=5002)
    telegram_api.queue_update(first)
    telegram_api.queue_update(second)
    settings = _settings(tmp_path, telegram_api, rasa, telegram_webhook_url=None,
                         telegram_webhook_secret=None)
    with RunningApp(settings) as app:
        await wait_for(lambda: len(telegram_api.sent_messages()) == 2, timeout=15)
        assert [r.channel_message_id for r in app.inbox()] == ["5001", "5002"]
        assert telegram_api.calls("deleteWebhook")
        offsets = [c.body.get("offset") for c in telegram_api.calls("getUpdates")]
        await wait_for(lambda: "5003" in [c.body.get("offset")
                                          for c in telegram_api.calls("getUpdates")])
    assert offsets[0] in (None, "")
    assert rasa.messages() == ["bonjour"]  # the button needed no NLU


async def test_failure_after_the_last_retry_is_visible(app, fakes):
    telegram_api, _ = fakes
    await post_update(app, text_update(CHAT, "Bonjour"))
    await wait_for(lambda: app.outbox(OutboxMessage.status == "sent"))
    [contact] = app.contacts()
    with app.db.session() as session:  # a reply that has already been tried 11 times
        session.add(OutboxMessage(contact_id=contact.id, channel="telegram", attempts=11,
                                  payload={"text": "Encore une fois", "choices": []}))
    telegram_api.fail_next(1, status=500, match="sendMessage")
    [out] = await wait_for(lambda: app.outbox(OutboxMessage.status == "failed"))
    assert out.attempts == 12 and out.last_error


async def test_a_download_larger_than_the_limit_is_cut_off_as_bytes_arrive(tmp_path, fakes):
    """Issue 14, door 7: getFile says 2 kB, the file server streams on without
    Content-Length; the download stops once MEDIA_MAX_BYTES (1 MB here) has arrived."""
    telegram_api, rasa = fakes
    limit, total = 1024 * 1024, 1 << 40  # a terabyte: endless in practice
    telegram_api.streams["voice-big"] = (total, 2048)
    settings = _settings(tmp_path, telegram_api, rasa, media_max_bytes=limit)
    with RunningApp(settings) as app:
        await post_update(app, voice_update(CHAT, file_id="voice-big"))
        [media] = await wait_for(lambda: [m for m in app.media() if m.status == "failed"],
                                 timeout=20)
    assert "too large" in media.last_error and media.path is None
    # Stopped by our side: the server would have streamed on (bytes it pushed into socket
    # buffers before seeing the disconnect are counted too).
    assert telegram_api.streamed["voice-big"] < 1 << 30
    assert not [p for p in settings.media_dir.rglob("*") if p.is_file()]
