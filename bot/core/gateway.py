"""The core pipeline: inbox -> dialogue -> outbox, shared by every channel.

A thin facade over `bot/core/delivery/` (one job per module; docs/DESIGN.md, "Delivery
guarantees"), for the app and the channel adapters:

1. `accept()` stores an inbound message and its contact before the channel's webhook is
   answered (`delivery.intake`);
2. `run_inbox_worker()` answers each contact's pending messages in order (`delivery.inbox`);
3. `run_outbox_worker()` sends the replies through the channels' senders (`delivery.outbox`);
   a channel without a sender (the web chat) collects its replies itself, told by
   `on_settled` when this process has answered or acknowledged a message;
4. `run_housekeeping()`: dead workers' leases, notifications, erasures, retention
   (`delivery.housekeeping`), a task of its own next to the workers.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

import httpx

from bot.config import Settings
from bot.core.answering import Answerer
from bot.core.delivery.housekeeping import Housekeeping
from bot.core.delivery.inbox import InboxWorker
from bot.core.delivery.intake import Accepted, Intake
from bot.core.delivery.media_files import MediaFiles
from bot.core.delivery.outbox import OutboxWorker, Sender, SendError, Sent, backoff_seconds
from bot.core.delivery.outbox import record_delivery_status as _record_delivery_status
from bot.core.delivery.ready import ReadyContacts
from bot.core.delivery.shared import Settled, SettledListener, Shared
from bot.core.delivery.statements import aware
from bot.core.messages import Channel, Inbound
from bot.core.notify import PartnerNotifier
from bot.core.rasa_client import RasaClient
from bot.store.db import Database
from bot.store.models import Contact, MediaFile

__all__ = ["Accepted", "Gateway", "ReadyContacts", "SendError", "Sender", "Sent", "Settled",
           "backoff_seconds"]


class Gateway:
    def __init__(self, settings: Settings, db: Database, rasa: RasaClient,
                 senders: dict[str, Sender] | None = None, worker_id: str | None = None,
                 http: httpx.AsyncClient | None = None):
        """`http`: the client for partner notifications (default: Rasa's)."""
        self.settings = settings
        self.db = db
        self.rasa = rasa
        self.shared = Shared(settings, db, dict(senders or {}), worker_id)
        self.senders = self.shared.senders  # the app adds its channels' senders here
        self.vault = self.shared.vault
        self.worker_id = self.shared.worker_id
        # Follow-up requests: notifying partners (docs/REQUESTS.md).
        self.notifier = PartnerNotifier.from_settings(settings, db, http or rasa.http)
        self.intake = Intake(self.shared)
        self.outbox = OutboxWorker(self.shared)
        self.inbox = InboxWorker(self.shared, rasa, Answerer(rasa, db), self.outbox)
        self.media = MediaFiles(db)
        self.housekeeping = Housekeeping(settings, db, self.notifier)

    @property
    def rasa_up(self) -> bool:
        return self.inbox.rasa_up

    @rasa_up.setter
    def rasa_up(self, value: bool) -> None:
        self.inbox.rasa_up = value

    def accept(self, inbound: Inbound) -> Accepted:
        return self.intake.accept(inbound)

    def on_settled(self, listener: SettledListener) -> None:
        self.shared.on_settled(listener)

    async def run_inbox_worker(self, stop: asyncio.Event) -> None:
        await self.inbox.run(stop)

    async def run_outbox_worker(self, stop: asyncio.Event) -> None:
        await self.outbox.run(stop)

    async def run_housekeeping(self, stop: asyncio.Event) -> None:
        await self.housekeeping.run(stop)

    # --------------------------------------------------- what channel adapters ask
    def record_delivery_status(self, channel: Channel, provider_message_id: str, status: str,
                               error: str | None = None) -> bool:
        return _record_delivery_status(self.shared, channel, provider_message_id, status,
                                       error)

    def offered_choices(self, channel: Channel, address: str) -> list[dict[str, str]]:
        """The choices last offered to this user (to resolve a hashed button key)."""
        with self.db.session() as session:
            contact_id = self.vault.find_contact_id(session, channel.value, address)
            contact = session.get(Contact, contact_id) if contact_id else None
            return list(contact.last_choices or []) if contact else []

    def last_inbound_at(self, channel: Channel, address: str) -> datetime | None:
        with self.db.session() as session:
            contact_id = self.vault.find_contact_id(session, channel.value, address)
            contact = session.get(Contact, contact_id) if contact_id else None
            return aware(contact.last_inbound_at) if contact else None

    def due_media(self, channel: Channel, limit: int = 10) -> list[MediaFile]:
        return self.media.due(channel, limit)

    def media_stored(self, media_id: int, path: str, size: int, sha256: str,
                     mime_type: str | None = None) -> bool:
        return self.media.stored(media_id, path, size, sha256, mime_type)

    def media_failed(self, media_id: int, error: str, *, retryable: bool = True,
                     max_attempts: int = 20) -> None:
        self.media.failed(media_id, error, retryable=retryable, max_attempts=max_attempts)
