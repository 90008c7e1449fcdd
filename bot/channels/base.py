"""The one interface every channel adapter implements (Telegram, WhatsApp, the web chat, the
in-memory test channel).

An adapter is a `ChannelAdapter`:

* `name`: the channel's name, as in `bot.core.messages.Channel` (the outbox's rows say it);
* `capabilities`: what the channel can show and receive (`Capabilities`), read as typed
  attributes: nobody probes an adapter with `getattr`;
* `routes()`: its HTTP routes (webhooks), mounted by the app; may be empty;
* `start()` / `stop()`: its lifecycle, run by the app's lifespan (polling, media download);
* `send(address, reply, *, last_inbound_at)`: deliver one reply, the outbox worker's
  `Sender` contract (return the channel's message id or a `Sent`; raise `SendError`).

Adapters subclass it explicitly, so that mypy checks each one against the whole interface;
the registry (`bot/channels/registry.py`) returns this type. docs/CHANNELS.md says how to add
a channel.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

from starlette.routing import BaseRoute

from bot.channels import render
from bot.core.gateway import Sent
from bot.core.messages import Channel, Reply


@dataclass(frozen=True)
class Capabilities:
    """What a channel can show and receive. Limits are counts of characters (Telegram counts
    UTF-16 code units); None means the channel sets no limit of its own."""

    text_limit: int | None  # the longest text of one message (longer replies are split)
    # Choices shown as tappable buttons in one message: 0, none (numbered lines); None, any
    # number (one button per row on Telegram, one per line in the web page).
    buttons: int | None
    button_title_limit: int | None  # the longest button title shown whole
    list_rows: int  # choices a list picker can hold (0: no list picker)
    voice: bool  # voice notes come in (kept as media, listened to by a person)
    media: bool  # photos, documents, videos come in
    location: bool  # shared locations come in
    # Replies may be held (`Sent.held`) until the user writes again: WhatsApp's 24-hour
    # customer-service window. The outbox then sends nothing else to that user meanwhile.
    held_replies: bool
    # True: the outbox worker delivers replies through `send`. False: the channel takes its
    # replies itself (the web chat answers them in the HTTP response); `send` is never called.
    pushed: bool = True


TELEGRAM = Capabilities(
    text_limit=render.TELEGRAM_TEXT_LIMIT, buttons=None,
    button_title_limit=None, list_rows=0, voice=True, media=True, location=True,
    held_replies=False)
WHATSAPP = Capabilities(
    text_limit=render.WHATSAPP_TEXT_LIMIT, buttons=render.WHATSAPP_MAX_BUTTONS,
    button_title_limit=render.WHATSAPP_BUTTON_TITLE_LIMIT,
    list_rows=render.WHATSAPP_MAX_LIST_ROWS, voice=True, media=True, location=True,
    held_replies=True)
WEB = Capabilities(
    text_limit=None, buttons=None, button_title_limit=None, list_rows=0,
    voice=False, media=False, location=False, held_replies=False, pushed=False)

CAPABILITIES: dict[Channel, Capabilities] = {
    Channel.TELEGRAM: TELEGRAM, Channel.WHATSAPP: WHATSAPP, Channel.WEB: WEB}


@runtime_checkable
class ChannelAdapter(Protocol):
    """A channel: its name, capabilities, routes, lifecycle and `send`."""

    name: str
    capabilities: Capabilities

    def routes(self) -> list[BaseRoute]:
        """The adapter's HTTP routes (its webhook); [] when it has none in this mode."""
        ...

    async def start(self) -> None:
        """Begin background work (polling, media download). Must not fail because the
        channel's servers are away: retry in the background instead. Default: nothing."""
        return None

    async def stop(self) -> None:
        """End background work and close clients; safe to call once after `start`. Default:
        nothing."""
        return None

    async def send(self, address: str, reply: Reply, *,
                   last_inbound_at: datetime | None = None) -> str | Sent | None:
        """Deliver one reply (bot.core.gateway.Sender): the channel's message id, or a
        `Sent` with a note (and `held=True` when only a template went out). Raise `SendError`
        on failure, retryable or not. `last_inbound_at`: when the user last wrote, if known."""
        ...

    @property
    def holds_replies(self) -> bool:
        """The outbox's view of `capabilities.held_replies` (bot.core.gateway.Sender)."""
        return self.capabilities.held_replies
