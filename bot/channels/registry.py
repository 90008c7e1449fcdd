"""Which channel adapters run, decided by configuration alone.

An adapter provides: `name`, `routes()` (its webhook), `start()`/`stop()` (e.g. polling), and
`send(address, reply)` for the outbox worker.
"""

from __future__ import annotations

from typing import Any

import httpx

from bot.config import Settings
from bot.core.gateway import Gateway


def enabled_channels(settings: Settings, gateway: Gateway, http: httpx.AsyncClient) -> list[Any]:
    channels: list[Any] = []
    if settings.telegram_enabled:
        from bot.channels.telegram import TelegramChannel

        channels.append(TelegramChannel(settings, gateway))
    if settings.whatsapp_enabled:
        from bot.channels.whatsapp import WhatsAppChannel

        channels.append(WhatsAppChannel(settings, gateway, http))
    return channels
