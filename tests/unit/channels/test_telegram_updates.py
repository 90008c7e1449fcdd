"""Telegram: updates (parsed by PTB's Update.de_json) to Inbound, and PTB errors to SendError.
No network: the Bot's send_message is replaced by a stub."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from telegram import Update
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.channels import render
from bot.channels.telegram import TelegramChannel, update_to_inbound
from bot.core.gateway import SendError
from bot.core.messages import Choice, InboundKind, Location, Reply
from bot.testing.telegram_api import callback_update, message_update, text_update, voice_update

# PTB itself reads RetryAfter.retry_after while building the error (v22.2 transition warning).
pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")

CHAT = 7301234567


def inbound_of(data: dict):
    return update_to_inbound(Update.de_json(data, None))


def test_text():
    inbound = inbound_of(text_update(CHAT, "Bonjour", update_id=11))
    assert (inbound.kind, inbound.text) == (InboundKind.TEXT, "Bonjour")
    assert (inbound.channel_message_id, inbound.address) == ("11", str(CHAT))


@pytest.mark.parametrize("text, kind, value", [
    ("/start", InboundKind.TEXT, "bonjour"),
    ("/start campagne-kedougou", InboundKind.TEXT, "bonjour"),
    ("/menu", InboundKind.CHOICE, "menu:main"),
    ("/menu@fake_bot", InboundKind.CHOICE, "menu:main"),
    ("/langue", InboundKind.TEXT, "changer de langue"),
    ("/aide", InboundKind.TEXT, "aide"),
    ("/inconnue", InboundKind.TEXT, "/inconnue"),
    ("/", InboundKind.TEXT, "/"),
])
def test_commands(text, kind, value):
    inbound = inbound_of(text_update(CHAT, text))
    assert inbound.kind == kind
    assert (inbound.choice_id if kind == InboundKind.CHOICE else inbound.text) == value


def test_callback_query_is_a_choice():
    inbound = inbound_of(callback_update(CHAT, "answer:mercury_health", update_id=12))
    assert (inbound.kind, inbound.choice_id) == (InboundKind.CHOICE, "answer:mercury_health")
    assert (inbound.channel_message_id, inbound.address) == ("12", str(CHAT))


def test_hashed_callback_carries_the_button_title():
    key = render.callback_data_for("answer:" + "x" * 90)
    inbound = inbound_of(callback_update(CHAT, key, buttons=[("Menu", "menu:main"),
                                                             ("Très long", key)]))
    assert (inbound.choice_id, inbound.text) == (key, "Très long")


def test_voice_and_audio():
    inbound = inbound_of(voice_update(CHAT, file_id="AwACAgQ", duration=7))
    assert inbound.kind == InboundKind.VOICE
    assert (inbound.media.kind, inbound.media.ref, inbound.media.duration) == ("voice",
                                                                               "AwACAgQ", 7)
    audio = inbound_of(message_update(CHAT, {"audio": {"file_id": "A1", "file_unique_id": "u",
                                                       "duration": 60}}))
    assert (audio.kind, audio.media.kind) == (InboundKind.VOICE, "audio")


@pytest.mark.parametrize("fields, kind, media_kind", [
    ({"photo": [{"file_id": "small", "file_unique_id": "s", "width": 90, "height": 90},
                {"file_id": "large", "file_unique_id": "l", "width": 1280, "height": 960}],
      "caption": "ma carte"}, InboundKind.MEDIA, "photo"),
    ({"document": {"file_id": "D", "file_unique_id": "d", "mime_type": "application/pdf"}},
     InboundKind.MEDIA, "document"),
    ({"video": {"file_id": "V", "file_unique_id": "v", "width": 1, "height": 1,
                "duration": 3}}, InboundKind.MEDIA, "video"),
    ({"sticker": {"file_id": "S", "file_unique_id": "s", "width": 1, "height": 1,
                  "is_animated": False, "is_video": False, "type": "regular"}},
     InboundKind.UNSUPPORTED, None),
    ({"contact": {"phone_number": "+22370000000", "first_name": "Moussa"}},
     InboundKind.CONTACT, None),
    ({"dice": {"emoji": "🎲", "value": 3}}, InboundKind.UNSUPPORTED, None),
])
def test_other_kinds(fields, kind, media_kind):
    inbound = inbound_of(message_update(CHAT, fields))
    assert inbound.kind == kind
    assert (inbound.media.kind if inbound.media else None) == media_kind
    assert "+22370000000" not in repr(inbound)


def test_photo_takes_the_largest_size_and_the_caption():
    inbound = inbound_of(message_update(CHAT, {"photo": [
        {"file_id": "small", "file_unique_id": "s", "width": 90, "height": 90},
        {"file_id": "large", "file_unique_id": "l", "width": 1280, "height": 960}],
        "caption": "ma carte"}))
    assert (inbound.media.ref, inbound.text) == ("large", "ma carte")


def test_location():
    inbound = inbound_of(message_update(CHAT, {"location": {"latitude": 12.65,
                                                            "longitude": -8.0}}))
    assert (inbound.kind, inbound.location) == (InboundKind.LOCATION, Location(12.65, -8.0))


def test_updates_that_are_not_a_user_writing_to_us():
    edited = text_update(CHAT, "corrigé")
    edited["edited_message"] = edited.pop("message")
    assert inbound_of(edited) is None
    assert inbound_of(text_update(-100123, "groupe", chat_type="supergroup")) is None
    assert inbound_of({"update_id": 5}) is None


# ----------------------------------------------------------------------------- sending
class StubBot:
    def __init__(self, *outcomes):
        self.outcomes = list(outcomes)
        self.calls = []

    async def send_message(self, **kwargs):
        self.calls.append(kwargs)
        outcome = self.outcomes.pop(0) if self.outcomes else None
        if isinstance(outcome, Exception):
            raise outcome
        return SimpleNamespace(message_id=len(self.calls))


def channel_with(bot: StubBot) -> TelegramChannel:
    settings = SimpleNamespace(
        telegram_bot_token="1:T", telegram_api_base_url="https://telegram.test/bot",
        telegram_api_file_url="https://telegram.test/file/bot", telegram_webhook_url=None,
        media_dir="/nonexistent", media_max_bytes=64 * 1024 * 1024)
    channel = TelegramChannel(settings, gateway=None)
    channel.bot = bot
    return channel


async def test_send_builds_the_inline_keyboard():
    bot = StubBot()
    reply = Reply("Menu", [Choice("menu:main", "Menu principal"), Choice("back", "Retour")])
    assert await channel_with(bot).send(str(CHAT), reply) == "1"
    [call] = bot.calls
    assert call["chat_id"] == CHAT and call["text"] == "Menu"
    assert call["reply_markup"].to_dict() == {"inline_keyboard": [
        [{"text": "Menu principal", "callback_data": "menu:main"}],
        [{"text": "Retour", "callback_data": "back"}]]}


@pytest.mark.parametrize("error, retryable, retry_after", [
    (lambda: RetryAfter(5), True, 5.0),
    (TimedOut, True, None),
    (lambda: NetworkError("connection reset"), True, None),
    (lambda: BadRequest("Chat not found"), False, None),
    (lambda: Forbidden("bot was blocked by the user"), False, None),
])
async def test_errors_map_to_send_error(error, retryable, retry_after):
    with pytest.raises(SendError) as raised:
        await channel_with(StubBot(error())).send(str(CHAT), Reply("Bonjour"))
    assert (raised.value.retryable, raised.value.retry_after) == (retryable, retry_after)


async def test_a_split_reply_resumes_where_it_stopped():
    text = "\n\n".join("mot " * 900 for _ in range(2))  # two messages
    bot = StubBot(None, TimedOut())
    channel = channel_with(bot)
    with pytest.raises(SendError):
        await channel.send(str(CHAT), Reply(text))
    await channel.send(str(CHAT), Reply(text))
    assert len(bot.calls) == 3
    assert bot.calls[1]["text"] == bot.calls[2]["text"]


class OfferingGateway:
    def __init__(self, offered):
        self.offered = offered

    def offered_choices(self, _channel, _address):
        return self.offered


def test_hashed_key_resolves_to_the_offered_choice_or_to_the_title():
    long_id = "answer:" + "x" * 90
    key = render.callback_data_for(long_id)
    inbound = inbound_of(callback_update(CHAT, key, buttons=[("Très long", key)]))
    channel = channel_with(StubBot())
    channel.gateway = OfferingGateway([{"id": "menu:main", "title": "Menu"},
                                       {"id": long_id, "title": "Très long"}])
    resolved = channel._resolve_hashed(inbound)
    assert (resolved.kind, resolved.choice_id) == (InboundKind.CHOICE, long_id)
    channel.gateway = OfferingGateway([])  # an old keyboard: the title goes to the NLU
    resolved = channel._resolve_hashed(inbound)
    assert (resolved.kind, resolved.text) == (InboundKind.TEXT, "Très long")
