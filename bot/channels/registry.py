"""Which channel adapters run, decided by configuration alone.

Every adapter is a `ChannelAdapter` (bot/channels/base.py): the app mounts its `routes()`,
runs `start()`/`stop()` in its lifespan, and gives the outbox worker the ones whose replies
are pushed (`capabilities.pushed`) as senders.
"""

from __future__ import annotations

import httpx

from bot.channels.base import ChannelAdapter
from bot.config import Settings
from bot.core.gateway import Gateway


def enabled_channels(settings: Settings, gateway: Gateway,
                     http: httpx.AsyncClient) -> list[ChannelAdapter]:
    channels: list[ChannelAdapter] = []
    if settings.web_chat_enabled or settings.web_chat_open:
        from bot.channels.web import WebChat

        channels.append(WebChat(settings, gateway))
    if settings.telegram_enabled:
        from bot.channels.telegram import TelegramChannel

        channels.append(TelegramChannel(settings, gateway))
    if settings.whatsapp_enabled:
        from bot.channels.whatsapp import WhatsAppChannel

        channels.append(WhatsAppChannel(settings, gateway, http))
    return channels
