"""One channel interface (bot/channels/base.py): the registry returns adapters that implement
it, each with the capabilities of its channel, and the app hands the outbox only the ones
whose replies are pushed."""

from __future__ import annotations

import httpx
import pytest
from starlette.routing import Route

from bot.app import create_app
from bot.channels import base
from bot.channels.registry import enabled_channels
from bot.channels.telegram import TelegramChannel
from bot.channels.web import WebChat
from bot.channels.whatsapp import WhatsAppChannel
from bot.core.gateway import SendError
from bot.core.messages import Channel, Reply
from bot.testing.harness import make_settings

EVERY_CHANNEL = {"web_chat_enabled": True, "telegram_bot_token": "123456:TEST-token",
                 "whatsapp_access_token": "token", "whatsapp_phone_number_id": "1055"}


def paths(routes) -> list[tuple[str, tuple[str, ...]]]:
    return [(route.path, tuple(sorted(route.methods or ()))) for route in routes
            if isinstance(route, Route)]


async def test_the_registry_returns_every_enabled_channel_as_an_adapter(tmp_path):
    settings = make_settings(tmp_path, "http://rasa.invalid", **EVERY_CHANNEL)
    async with httpx.AsyncClient() as http:
        channels = enabled_channels(settings, gateway=None, http=http)  # type: ignore[arg-type]
        assert [type(c) for c in channels] == [WebChat, TelegramChannel, WhatsAppChannel]
        for channel in channels:
            assert isinstance(channel, base.ChannelAdapter)
            assert channel.capabilities is base.CAPABILITIES[Channel(channel.name)]
        web, telegram, whatsapp = channels
        assert ("/api/chat", ("POST",)) in paths(web.routes())
        assert telegram.routes() == []  # polling: no webhook to forge updates through
        assert paths(whatsapp.routes()) == [("/webhooks/whatsapp", ("GET", "HEAD")),
                                            ("/webhooks/whatsapp", ("POST",))]
        await telegram.stop()  # closes the clients it made (never started: no network)


def test_no_channel_is_enabled_by_default(tmp_path):
    settings = make_settings(tmp_path, "http://rasa.invalid")
    assert enabled_channels(settings, gateway=None, http=None) == []  # type: ignore[arg-type]


def test_capabilities_say_what_each_channel_can_do():
    assert base.WHATSAPP.held_replies and not base.TELEGRAM.held_replies
    assert (base.WHATSAPP.buttons, base.WHATSAPP.list_rows) == (3, 10)
    assert base.TELEGRAM.list_rows == 0 and base.TELEGRAM.buttons is None
    assert base.TELEGRAM.text_limit == base.WHATSAPP.text_limit == 4096
    assert base.TELEGRAM.voice and base.WHATSAPP.voice and not base.WEB.voice
    assert base.TELEGRAM.pushed and base.WHATSAPP.pushed and not base.WEB.pushed


async def test_the_web_chat_is_never_sent_to(tmp_path):
    chat = WebChat(make_settings(tmp_path, "http://rasa.invalid"), gateway=None)  # type: ignore[arg-type]
    assert chat.routes() == []  # off by default
    with pytest.raises(SendError) as refused:
        await chat.send("web-1", Reply("x"))
    assert not refused.value.retryable


def test_the_outbox_sends_through_pushed_channels_only(tmp_path):
    app = create_app(make_settings(tmp_path, "http://rasa.invalid", **EVERY_CHANNEL),
                     run_workers=False)
    senders = app.state.gateway.senders
    assert sorted(senders) == ["telegram", "whatsapp"]
    assert senders["whatsapp"].holds_replies and not senders["telegram"].holds_replies
    assert ("/api/chat", ("POST",)) in paths(app.routes)
