"""An in-memory channel for tests and the bench, in the style of Errbot's test backend.

It is a `ChannelAdapter` like the others, with the real gateway, store and dialogue behind
it: a test pushes what a user writes (`push`, `say`, `press`) and reads what the outbox
"sent" (`replies`, `take`). Nothing leaves the process.

    channel = MemoryChannel(gateway, Channel.WHATSAPP)
    async with channel.connected():         # the channel's sender, the inbox and outbox workers
        replies = await channel.say("+22370000001", "bonjour")
        replies = await channel.press("+22370000001", "menu:main")

It stands in for one real channel (`channel`, Telegram by default) and has its capabilities
unless told otherwise, so that the gateway treats it as that channel (a WhatsApp stand-in
holds replies). A test can script what the next sends do (`fail_next`, `hold_next`), as a
throttling or closed channel would.

`send` may be called from several gateways, each in its own thread and event loop (the
multi-worker tests): the record is kept under a lock and nothing here binds to one loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import threading
import uuid
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from starlette.routing import BaseRoute

from bot.channels import base
from bot.core.gateway import Accepted, Gateway, SendError, Sent
from bot.core.messages import Channel, Inbound, InboundKind, Location, Media, Reply
from bot.store.models import InboxMessage, OutboxMessage

HELD_NOTE = "memory channel: held (scripted)"


@dataclass(frozen=True)
class Delivered:
    """One reply the outbox handed to the channel."""

    address: str
    reply: Reply
    provider_message_id: str
    last_inbound_at: datetime | None


class MemoryChannel(base.ChannelAdapter):
    def __init__(self, gateway: Gateway, channel: Channel = Channel.TELEGRAM, *,
                 capabilities: base.Capabilities | None = None, send_delay: float = 0.0):
        if channel == Channel.WEB:
            raise ValueError("the web chat's replies are not pushed; stand in for a channel "
                             "that sends (telegram or whatsapp)")
        self.gateway = gateway
        self.channel = channel
        self.name = channel.value
        self.capabilities = capabilities or base.CAPABILITIES[channel]
        self.send_delay = send_delay  # seconds each send takes, as a real API's round trip
        self.delivered: list[Delivered] = []
        self.attempts = 0  # every call of send, delivered or not
        self._script: deque[SendError | Sent] = deque()
        self._read: dict[str, int] = {}  # per address, how many replies `take` returned
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    # --------------------------------------------------------------- the interface
    def routes(self) -> list[BaseRoute]:
        return []

    async def send(self, address: str, reply: Reply, *,
                   last_inbound_at: datetime | None = None) -> str | Sent | None:
        if self.send_delay:
            await asyncio.sleep(self.send_delay)
        with self._lock:
            self.attempts += 1
            outcome = self._script.popleft() if self._script else None
            if isinstance(outcome, SendError):
                raise outcome
            if outcome is not None:
                return outcome  # scripted: nothing delivered (a template went instead)
            provider_id = f"{self.name}-memory-{next(self._ids)}"
            self.delivered.append(Delivered(address, reply, provider_id, last_inbound_at))
        return provider_id

    # ------------------------------------------------------------------ scripting
    def fail_next(self, error: SendError, times: int = 1) -> None:
        """The next `times` sends raise `error` (retryable or not, as built)."""
        with self._lock:
            self._script.extend([error] * times)

    def hold_next(self, times: int = 1, note: str = HELD_NOTE) -> None:
        """The next `times` sends are held, as WhatsApp's adapter holds a reply outside the
        24-hour window (a template goes instead): the gateway sends them again when the user
        writes. Only for a channel whose capabilities say it holds replies."""
        if not self.capabilities.held_replies:
            raise ValueError(f"{self.name}: this channel does not hold replies")
        with self._lock:
            self._script.extend([Sent(None, note, held=True)] * times)

    # ------------------------------------------------------------- the user's side
    def push(self, address: str, text: str | None = None, *, choice: str | None = None,
             kind: InboundKind | None = None, media: Media | None = None,
             location: Location | None = None, message_id: str | None = None) -> Accepted:
        """Deliver one message from `address` to the gateway (stored in the inbox); the kind
        follows from what is given (a choice, a voice note, a location, text)."""
        if kind is None:
            kind = InboundKind.TEXT
            if choice is not None:
                kind = InboundKind.CHOICE
            elif location is not None:
                kind = InboundKind.LOCATION
            elif media is not None:
                kind = InboundKind.VOICE if media.kind == "voice" else InboundKind.MEDIA
        inbound = Inbound(self.channel, message_id or f"memory-{uuid.uuid4().hex}", address,
                          kind, text=text, choice_id=choice, media=media, location=location)
        return self.gateway.accept(inbound)

    async def say(self, address: str, text: str, *, timeout: float = 10.0) -> list[Reply]:
        """Write `text` and wait for the answer: the replies delivered to `address` since."""
        return await self.exchange(address, lambda: self.push(address, text), timeout)

    async def press(self, address: str, choice: str, *, timeout: float = 10.0) -> list[Reply]:
        """Press the button (or list row) of `choice` and wait for the answer."""
        return await self.exchange(address, lambda: self.push(address, choice=choice), timeout)

    async def exchange(self, address: str, deliver: Callable[[], Accepted],
                       timeout: float = 10.0) -> list[Reply]:
        """Run `deliver` (one push) and wait for the answer (`wait_answered`); return the
        replies delivered to `address` meanwhile."""
        before = len(self.replies(address))
        await self.wait_answered(deliver(), timeout)
        replies = self.replies(address)
        self._read[address] = len(replies)
        return replies[before:]

    async def wait_processed(self, accepted: Accepted, timeout: float = 10.0) -> None:
        """Wait until the gateway has answered a message, or acknowledged it (Rasa away)."""
        await self._until(lambda: self._processed(accepted.inbox_id), timeout,
                          f"message {accepted.inbox_id} not answered")

    async def wait_answered(self, accepted: Accepted, timeout: float = 10.0) -> None:
        """Wait until the gateway has answered a message and the outbox is done with every
        reply of that answer (delivered, held or failed for good)."""
        await self.wait_processed(accepted, timeout)
        await self._until(lambda: not self._unsent(accepted.inbox_id), timeout,
                          f"the replies to message {accepted.inbox_id} not sent")

    @staticmethod
    async def _until(condition: Callable[[], bool], timeout: float, what: str) -> None:
        # The database says, whichever process or worker did the work: polled, as a test
        # that waits on another thread's event loop could not await its events.
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not condition():
            if loop.time() > deadline:
                raise TimeoutError(f"{what} in {timeout} s")
            await asyncio.sleep(0.01)

    def _processed(self, inbox_id: int) -> bool:
        with self.gateway.db.session() as session:
            row = session.execute(select(InboxMessage.status, InboxMessage.acknowledged)
                                  .where(InboxMessage.id == inbox_id)).first()
        return row is None or row.status != "pending" or bool(row.acknowledged)

    def _unsent(self, inbox_id: int) -> int:
        with self.gateway.db.session() as session:
            return session.scalar(select(func.count()).select_from(OutboxMessage).where(
                OutboxMessage.inbox_id == inbox_id, OutboxMessage.status == "pending")) or 0

    def replies(self, address: str | None = None) -> list[Reply]:
        """Every reply delivered (to `address`, or to anyone), in the order sent."""
        with self._lock:
            return [d.reply for d in self.delivered if address is None or d.address == address]

    def take(self, address: str) -> list[Reply]:
        """The replies delivered to `address` that no `take` or `exchange` returned yet."""
        replies = self.replies(address)
        start, self._read[address] = self._read.get(address, 0), len(replies)
        return replies[start:]

    # ------------------------------------------------------------------ running
    @contextlib.asynccontextmanager
    async def connected(self) -> AsyncIterator[MemoryChannel]:
        """Be the gateway's sender for this channel and run its inbox and outbox workers
        (what the app's lifespan does for a real channel) until the block ends."""
        self.gateway.senders[self.name] = self
        stop = asyncio.Event()
        workers = [asyncio.create_task(self.gateway.run_inbox_worker(stop)),
                   asyncio.create_task(self.gateway.run_outbox_worker(stop))]
        await self.start()
        try:
            yield self
        finally:
            stop.set()
            await self.stop()
            await asyncio.gather(*workers)
            if self.gateway.senders.get(self.name) is self:
                del self.gateway.senders[self.name]

