"""What the parts of one process's gateway share: the settings and the database, the wake-up
events, the queue of ready contacts, two caches, and the "settled" event a channel that
collects its own replies (the web chat) listens to."""

from __future__ import annotations

import asyncio
import os
import secrets
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, TypeVar

from bot.config import Settings
from bot.core.delivery.ready import ReadyContacts
from bot.store.db import Database
from bot.store.identities import IdentityVault

if TYPE_CHECKING:
    from bot.core.delivery.outbox import Sender

CACHE_SIZE = 50_000
K = TypeVar("K")
V = TypeVar("V")


class LRU(OrderedDict[K, V], Generic[K, V]):
    """A bounded map: the least recently used entries go first."""

    def __init__(self, size: int):
        super().__init__()
        self.size = size

    def get_fresh(self, key: K) -> V | None:
        value = self.get(key)
        if value is not None:
            self.move_to_end(key)
        return value

    def put(self, key: K, value: V) -> None:
        self[key] = value
        self.move_to_end(key)
        while len(self) > self.size:
            self.popitem(last=False)


@dataclass
class Settled:
    """How a message ended in this process: answered, or only acknowledged (`pending`: still
    to be answered). `outbox_ids`: its replies, when its channel collects them itself (a
    channel without a sender); [] otherwise."""

    outbox_ids: list[int]
    pending: bool


SettledListener = Callable[[int, Settled], None]


class Shared:
    def __init__(self, settings: Settings, db: Database, senders: dict[str, Sender],
                 worker_id: str | None = None):
        self.settings = settings
        self.db = db
        self.vault = IdentityVault(settings.data_key)
        # The channels that send their replies (the app adds them after construction); a
        # channel without a sender collects its replies itself (the web chat's requests).
        self.senders = senders
        self.worker_id = worker_id or f"{os.uname().nodename}:{os.getpid()}:{secrets.token_hex(3)}"
        self.wake_inbox = asyncio.Event()
        self.wake_outbox = asyncio.Event()
        # Contacts with a message stored by this process: claimed without scanning the inbox.
        # The periodic scan still finds everything else (other processes, retries, restarts).
        self.ready = ReadyContacts()
        # In memory only, to spare a query per message: (channel, address hash) -> contact id
        # and contact id -> address (personal data: never logged, never written anywhere).
        self.contact_ids: LRU[tuple[str, str], str] = LRU(CACHE_SIZE)
        self.addresses: LRU[str, str] = LRU(CACHE_SIZE)
        self._listeners: list[SettledListener] = []

    def holds_replies(self, channel: str) -> bool:
        """Whether the channel's sender may hold replies until the user writes (WhatsApp)."""
        return channel in self.senders and self.senders[channel].holds_replies

    def on_settled(self, listener: SettledListener) -> None:
        """Call `listener(inbox_id, Settled)` whenever this process answers or acknowledges a
        message (the web chat's waiting requests)."""
        self._listeners.append(listener)

    def settle(self, inbox_id: int, channel: str, outbox_ids: list[int], pending: bool) -> None:
        if not self._listeners:
            return
        settled = Settled(outbox_ids if channel not in self.senders else [], pending)
        for listener in self._listeners:
            listener(inbox_id, settled)

    def address(self, contact_id: str, channel: str) -> str | None:
        """The contact's address on the channel (None once erased), cached."""
        address = self.addresses.get_fresh(contact_id)
        if address is None:
            with self.db.session() as session:
                address = self.vault.address_of(session, contact_id, channel)
            if address is not None:
                self.addresses.put(contact_id, address)
        return address
