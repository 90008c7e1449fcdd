"""The core pipeline: inbox -> Rasa -> outbox, shared by every channel.

1. `accept()` stores an inbound message (deduplicated by the channel's message id) and its
   contact before the channel's webhook is answered.
2. The inbox worker claims a contact (a lease in the database, so several app processes can
   share one PostgreSQL inbox), and processes its pending messages in order through Rasa.
   The replies are written to the outbox in the same transaction that marks the message done,
   so a crash between the two cannot answer a message twice or lose its answer.
3. The outbox worker sends replies through the channel's sender, retrying with backoff.
   Web-chat replies are collected by the HTTP request (or a later poll) instead.

While Rasa is down or starting, messages stay pending; once one has waited
`ack_after_seconds`, the user gets a short "we received your message" in their language.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import secrets
import time
from collections import OrderedDict, deque
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from typing import Any, Protocol

import httpx
from sqlalchemy import Row, bindparam, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.core import privacy
from bot.core.answering import MAX_TEXT_CHARS, Answered, Answerer, ContactView
from bot.core.messages import Channel, Choice, Inbound, InboundKind, Reply
from bot.core.notify import PartnerNotifier
from bot.core.rasa_client import RasaClient, RasaUnavailable
from bot.i18n import translator
from bot.store.db import Database
from bot.store.identities import IdentityVault
from bot.store.models import Contact, InboxMessage, MediaFile, OutboxMessage, utcnow

log = logging.getLogger(__name__)

LEASE_SECONDS = 90
OUTBOX_LEASE_SECONDS = 120  # a reply claimed by a worker that died is sent again after this
BATCH_PER_LEASE = 5
MAX_MESSAGE_ATTEMPTS = 5
_NUMBER = re.compile(r"^\s*(\d{1,2})\s*[.)]?\s*$")
CACHE_SIZE = 50_000
_PAUSE = object()
_HELD = object()

# The hot path's statements, built once: SQLAlchemy then skips building and caching them for
# every message (measured: ~400 us -> ~80 us a statement on SQLite). Parameters are `b_*`.
_C, _I, _O = Contact.__table__, InboxMessage.__table__, OutboxMessage.__table__
_TOUCH_CONTACT = (update(_C).where(_C.c.id == bindparam("b_id"))
                  .values(last_inbound_at=bindparam("b_now"))
                  .returning(_C.c.id, _C.c.sensitive_mode, _C.c.last_choices))
_INSERT_INBOX = insert(_I).returning(_I.c.id)
_INSERT_OUTBOX = insert(_O).returning(_O.c.id)
_CLAIM_CONTACT = (
    update(_C)
    .where(_C.c.id == bindparam("b_id"),
           or_(_C.c.lease_until.is_(None), _C.c.lease_until < bindparam("b_now"),
               _C.c.lease_owner == bindparam("b_owner")))
    .values(lease_owner=bindparam("b_owner"), lease_until=bindparam("b_until"))
    .returning(_C.c.language, _C.c.country, _C.c.last_choices, _C.c.last_inbound_at))
_RELEASE_CONTACT = (update(_C)
                    .where(_C.c.id == bindparam("b_id"), _C.c.lease_owner == bindparam("b_owner"))
                    .values(lease_owner=None, lease_until=None))
_NEXT_PENDING = (select(_I.c.id, _I.c.channel, _I.c.kind, _I.c.text, _I.c.payload,
                        _I.c.attempts, _I.c.next_attempt_at)
                 .where(_I.c.contact_id == bindparam("b_contact"), _I.c.status == "pending")
                 .order_by(_I.c.id).limit(1))
_INBOX_DONE = (update(_I).where(_I.c.id == bindparam("b_id"))
               .values(status="done", processed_at=bindparam("b_now"),
                       attempts=bindparam("b_attempts")))
_INBOX_STATUS = select(_I.c.status, _I.c.acknowledged).where(_I.c.id == bindparam("b_id"))
# Replies held until the user writes again (WhatsApp's 24-hour window): due again at once.
_RELEASE_HELD = (update(_O)
                 .where(_O.c.contact_id == bindparam("b_contact"), _O.c.status == "held")
                 .values(status="pending", next_attempt_at=bindparam("b_now"), lease_owner=None))
_ANY_HELD = (select(_O.c.id)
             .where(_O.c.contact_id == bindparam("b_contact"), _O.c.status == "held").limit(1))
_PENDING_OWNERS = (select(_O.c.lease_owner)
                   .where(_O.c.contact_id == bindparam("b_contact"), _O.c.status == "pending")
                   .limit(20))
_CLAIM_REPLY = (
    update(_O)
    .where(_O.c.id == bindparam("b_id"), _O.c.status == "pending",
           _O.c.next_attempt_at <= bindparam("b_now"))
    .values(lease_owner=bindparam("b_owner"), next_attempt_at=bindparam("b_until"))
    .returning(_O.c.contact_id, _O.c.channel, _O.c.payload, _O.c.attempts))


def _take_web(by: str):
    conditions = [_O.c.contact_id == bindparam("b_contact"), _O.c.channel == Channel.WEB.value,
                  _O.c.status == "pending"]
    if by == "ids":
        conditions.append(_O.c.id.in_(bindparam("b_ids", expanding=True)))
    elif by == "inbox":
        conditions.append(_O.c.inbox_id == bindparam("b_inbox"))
    return (update(_O).where(*conditions)
            .values(status="sent", sent_at=bindparam("b_now"), attempts=_O.c.attempts + 1)
            .returning(_O.c.id, _O.c.payload))


_TAKE_WEB = {by: _take_web(by) for by in ("ids", "inbox", "contact")}


@lru_cache(maxsize=64)
def _update_by_id(table: str, columns: tuple[str, ...], returning: tuple[str, ...] = ()):
    """UPDATE <table> SET <columns> WHERE id = :b_id [RETURNING ...], built once per shape."""
    target = {"contacts": _C, "outbox": _O}[table]
    statement = (update(target).where(target.c.id == bindparam("b_id"))
                 .values({name: bindparam(f"b_{name}") for name in columns}))
    if returning:
        statement = statement.returning(*(target.c[name] for name in returning))
    return statement


_AFTER_TURN = ("language", "country", "last_choices", "last_inbound_at", "erase_requested_at")


def _run(session: Session, statement, **params: Any):
    """Execute a prebuilt Core statement in the session's transaction."""
    return session.connection().execute(statement, params)


class SendError(Exception):
    """A channel refused or failed to take a reply."""

    def __init__(self, message: str, *, retryable: bool = True, retry_after: float | None = None):
        super().__init__(message)
        self.retryable = retryable
        self.retry_after = retry_after


class Sender(Protocol):
    """What a channel adapter provides to deliver replies (bot.channels.base.ChannelAdapter
    implements it)."""

    @property
    def holds_replies(self) -> bool:
        """Replies may be held (`Sent.held`) until the user writes again (WhatsApp)."""
        ...

    async def send(self, address: str, reply: Reply, *,
                   last_inbound_at: datetime | None = None) -> str | Sent | None:
        """Deliver one reply; return the channel's message id (or a `Sent` with a note).
        Raise SendError on failure. `last_inbound_at`, when known, is when the user last
        wrote (WhatsApp's 24-hour window)."""


@dataclass
class Sent:
    """What a sender may return instead of a bare provider id, to leave a note on the row
    (e.g. "outside WhatsApp's 24-hour window: template sent instead").

    `held`: the reply itself did not go out (a template asking the user to write went in its
    place); the gateway keeps it and sends it as soon as the user writes again."""

    provider_message_id: str | None
    note: str | None = None
    held: bool = False


@dataclass
class Accepted:
    inbox_id: int
    contact_id: str
    duplicate: bool


def _aware(value: datetime | None) -> datetime | None:
    # SQLite returns naive datetimes even for timezone-aware columns.
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def backoff_seconds(attempt: int, base: float = 1.0, cap: float = 300.0) -> float:
    """Exponential backoff with jitter: 1, 2, 4, ... seconds, capped."""
    delay = min(cap, base * (2 ** max(0, attempt - 1)))
    return delay * (0.75 + secrets.randbelow(500) / 1000)


@dataclass
class Settled:
    """How a message ended, for a web request waiting on it in this process."""

    outbox_ids: list[int]
    pending: bool  # still to be answered (only acknowledged, or waiting for a retry)


@dataclass
class OutboxJob:
    """A reply this process has claimed and is about to send."""

    id: int
    contact_id: str
    channel: str
    payload: dict
    attempts: int
    last_inbound_at: datetime | None = None


class _LRU(OrderedDict):
    """A bounded map: the least recently used entries go first."""

    def __init__(self, size: int):
        super().__init__()
        self.size = size

    def get_fresh(self, key):
        value = self.get(key)
        if value is not None:
            self.move_to_end(key)
        return value

    def put(self, key, value) -> None:
        self[key] = value
        self.move_to_end(key)
        while len(self) > self.size:
            self.popitem(last=False)


class ReadyContacts:
    """Contacts with a message to answer, one queue per channel, handed out fairly.

    Within a channel, contacts go first come, first served (and a contact goes back to the
    end after `BATCH_PER_LEASE` messages). Across channels, the next free slot goes to the
    channel with the fewest contacts in Rasa right now (ties: in turn), and while another
    channel has work, no channel holds more than its share of the slots: a flood on one
    channel (thousands of web senders) cannot make Telegram or WhatsApp users wait behind it.
    A channel counts as having work for `recent` seconds after it last had any: a user who
    just got an answer writes again, and their next message must find a free slot rather than
    wait for one of the flood's to finish.
    """

    def __init__(self, recent: float = 2.0, clock=None) -> None:
        self._queues: dict[str, OrderedDict[str, None]] = {}
        self._channel: dict[str, str] = {}
        self._turn = 0
        self._recent = recent
        self._clock = clock or time.monotonic
        self._seen: dict[str, float] = {}  # channel -> when it last had work

    def add(self, contact_id: str, channel: str) -> None:
        """Queue a contact (a contact already queued keeps its place)."""
        if contact_id in self._channel:
            return
        self._channel[contact_id] = channel
        self._queues.setdefault(channel, OrderedDict())[contact_id] = None

    def discard(self, contact_id: str) -> None:
        channel = self._channel.pop(contact_id, None)
        if channel is not None:
            self._queues[channel].pop(contact_id, None)

    def __contains__(self, contact_id: object) -> bool:
        return contact_id in self._channel

    def __len__(self) -> int:
        return len(self._channel)

    def __iter__(self):
        return iter(list(self._channel))

    def pick(self, active: dict[str, str], slots: int,
             share: float) -> tuple[str, str] | None:
        """The next contact to claim and its channel, or None. `active`: contact -> channel
        of the contacts in Rasa; `slots`: the gateway's concurrency; `share`: the fraction of
        the slots one channel may hold while another channel has work waiting or in Rasa."""
        busy: dict[str, int] = {}
        for channel in active.values():
            busy[channel] = busy.get(channel, 0) + 1
        candidates: list[tuple[str, str]] = []
        for channel, queue in self._queues.items():
            for contact_id in queue:
                if contact_id not in active:  # its worker looks for new messages itself
                    candidates.append((channel, contact_id))
                    break
        now = self._clock()
        for channel in {c for c, _ in candidates} | set(busy):
            self._seen[channel] = now
        if not candidates:
            return None
        channels_with_work = {c for c, seen in self._seen.items() if now - seen <= self._recent}
        if len(channels_with_work) > 1:
            cap = max(1, int(slots * share))
            candidates = [c for c in candidates if busy.get(c[0], 0) < cap] or []
            if not candidates:
                return None
        names = sorted(c for c, _ in candidates)
        self._turn += 1
        fewest = min(busy.get(c, 0) for c in names)
        tied = [c for c in names if busy.get(c, 0) == fewest]
        channel = tied[self._turn % len(tied)]
        contact_id = next(contact for c, contact in candidates if c == channel)
        self.discard(contact_id)
        return contact_id, channel


class Gateway:
    def __init__(self, settings: Settings, db: Database, rasa: RasaClient,
                 senders: dict[str, Sender] | None = None, worker_id: str | None = None,
                 http: httpx.AsyncClient | None = None):
        """`http`: the client for partner notifications (default: Rasa's)."""
        self.settings = settings
        self.db = db
        self.rasa = rasa
        self.answerer = Answerer(rasa)
        self.vault = IdentityVault(settings.data_key)
        self.senders: dict[str, Sender] = dict(senders or {})
        self.worker_id = worker_id or f"{os.uname().nodename}:{os.getpid()}:{secrets.token_hex(3)}"
        self._wake_inbox = asyncio.Event()
        self._wake_outbox = asyncio.Event()
        self._waiters: dict[int, asyncio.Future] = {}
        self._active: set[str] = set()
        self._active_channel: dict[str, str] = {}  # contact -> channel, of those in Rasa
        # Contacts with a message stored by this process: claimed without scanning the inbox.
        # The periodic scan still finds everything else (other processes, retries, restarts).
        self._ready = ReadyContacts()
        # In memory only, to spare a query per message: (channel, address hash) -> contact id
        # and contact id -> address (personal data: never logged, never written anywhere).
        self._contact_ids = _LRU(CACHE_SIZE)
        self._addresses = _LRU(CACHE_SIZE)
        # Replies claimed by this process, per contact, in order; one sending task per contact.
        self._to_send: dict[str, deque[OutboxJob]] = {}
        self._sending: dict[str, asyncio.Task] = {}
        self._rasa_down_until: datetime | None = None
        self.rasa_up = False
        self.concurrency = settings.gateway_concurrency
        self.send_concurrency = settings.outbox_concurrency
        # Follow-up requests: erasing data after a turn, notifying partners (docs/REQUESTS.md).
        self.tracker_eraser = privacy.TrackerEraser(rasa)
        self.notifier = PartnerNotifier.from_settings(settings, db, http or rasa.http)
        self._housekeeping_due = 0.0
        self._housekeeping_task: asyncio.Task | None = None
        # Retention (bot/core/retention.py), run from housekeeping; the clock is injectable.
        self.clock = utcnow
        self._retention_due: datetime | None = None

    # ------------------------------------------------------------------ intake
    def accept(self, inbound: Inbound) -> Accepted:
        """Store the message before anything else happens. Safe to call twice."""
        for attempt in range(3):
            try:
                return self._accept_once(inbound, careful=attempt > 0)
            except IntegrityError:
                # The same message stored before (a redelivery) or concurrently, or the same
                # contact created concurrently: look again, carefully this time.
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _accept_once(self, inbound: Inbound, *, careful: bool) -> Accepted:
        channel = inbound.channel.value
        digest = self.vault.hash(channel, inbound.address)
        now = utcnow()
        with self.db.session() as session:
            if careful:
                existing = session.execute(
                    select(InboxMessage.id, InboxMessage.contact_id).where(
                        InboxMessage.channel == channel,
                        InboxMessage.channel_message_id == inbound.channel_message_id)
                ).first()
                if existing is not None:
                    return Accepted(existing.id, existing.contact_id, duplicate=True)
            contact = self._touch_contact(session, channel, digest, inbound.address, now)
            record = inbound.to_record()
            text = record.pop("text")
            keep_media = inbound.media is not None
            if contact.sensitive_mode and inbound.kind != InboundKind.CHOICE:
                # A sensitive step (protection flow): read in process, keep nothing typed.
                private = privacy.handle_private_input(
                    contact.sensitive_mode, inbound.kind.value, text, contact.last_choices,
                    self.vault.encrypt)
                if private.callback_draft:
                    session.execute(update(Contact).where(Contact.id == contact.id)
                                    .values(callback_draft=private.callback_draft)
                                    .execution_options(synchronize_session=False))
                record = {"kind": inbound.kind.value, "private": {"choice": private.choice}}
                text, keep_media = None, False
            # A redelivered message fails here on (channel, channel_message_id): see accept().
            inbox_id = _run(
                session, _INSERT_INBOX, channel=channel,
                channel_message_id=inbound.channel_message_id, contact_id=contact.id,
                kind=inbound.kind.value, text=text[:MAX_TEXT_CHARS * 2] if text else text,
                payload=record, status="pending", attempts=0, acknowledged=False,
                received_at=now).scalar_one()
            released = 0
            if channel in self.senders and self.senders[channel].holds_replies:
                released = _run(session, _RELEASE_HELD, b_contact=contact.id, b_now=now).rowcount
            if keep_media:  # fetched later by the channel; never dropped
                session.add(MediaFile(inbox_id=inbox_id, contact_id=contact.id,
                                      channel=channel, kind=inbound.media.kind,
                                      ref=inbound.media.ref, mime_type=inbound.media.mime_type))
        accepted = Accepted(inbox_id, contact.id, duplicate=False)
        self._contact_ids.put((channel, digest), contact.id)
        if channel in self.senders:
            self._addresses.put(contact.id, inbound.address)
        log.info("inbox: accepted message %s (%s, %s)", accepted.inbox_id, channel,
                 inbound.kind.value)
        self._ready.add(contact.id, channel)
        self._wake_inbox.set()
        if released:
            log.info("outbox: %d held repl%s of %s due again (the user wrote)", released,
                     "y" if released == 1 else "ies", contact.id)
            self._wake_outbox.set()
        return accepted

    def _touch_contact(self, session: Session, channel: str, digest: str, address: str,
                       now: datetime) -> Contact | Row:
        """The message's contact, created if new, with `last_inbound_at` moved to now."""
        contact_id = self._contact_ids.get_fresh((channel, digest))
        if contact_id is not None:
            row = _run(session, _TOUCH_CONTACT, b_id=contact_id, b_now=now).first()
            if row is not None:
                return row
            self._contact_ids.pop((channel, digest), None)  # erased meanwhile
        contact = self.vault.find_or_create_contact(session, channel, address)
        contact.last_inbound_at = now
        return contact

    # --------------------------------------------------------------- web wait
    def watch(self, inbox_id: int) -> asyncio.Future:
        """A future set when this process settles the message. Call it right after `accept`,
        before any await, so that an in-process worker cannot finish unseen."""
        future = self._waiters.get(inbox_id)
        if future is None or future.done():
            future = asyncio.get_running_loop().create_future()
            self._waiters[inbox_id] = future
        return future

    async def wait_settled(self, inbox_id: int, timeout: float, *,
                           look_first: bool = False) -> Settled | None:
        """Wait until a message has been answered (or acknowledged). None on timeout.

        The outbox ids are known when this process settled it; [] when another process did
        (the caller then collects the message's replies from the database). `look_first`:
        the message may be settled already (a redelivery), look in the database at once."""
        future = self.watch(inbox_id)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        try:
            if look_first and (status := self._inbox_status(inbox_id)) is not None:
                return Settled([], pending=status)
            while True:
                remaining = deadline - loop.time()
                try:
                    # The worker may run in another process: look in the database each second.
                    return await asyncio.wait_for(asyncio.shield(future),
                                                  timeout=max(0.0, min(remaining, 1.0)))
                except asyncio.TimeoutError:
                    pass
                status = self._inbox_status(inbox_id)
                if status is not None:
                    return Settled([], pending=status)
                if deadline - loop.time() <= 0:
                    return None
        finally:
            if self._waiters.get(inbox_id) is future:
                del self._waiters[inbox_id]

    async def wait_processed(self, inbox_id: int, timeout: float) -> bool:
        """Wait until a message has been answered (or acknowledged). False on timeout."""
        return await self.wait_settled(inbox_id, timeout) is not None

    def _inbox_status(self, inbox_id: int) -> bool | None:
        """None while the message waits unacknowledged; else whether it is still pending."""
        with self.db.session() as session:
            row = _run(session, _INBOX_STATUS, b_id=inbox_id).first()
        if row is None or row.status != "pending":
            return False
        return True if row.acknowledged else None

    def _settle(self, inbox_id: int, outbox_ids: list[int], pending: bool) -> None:
        future = self._waiters.get(inbox_id)
        if future is not None and not future.done():
            future.set_result(Settled(outbox_ids, pending))

    def take_web_replies(self, contact_id: str, inbox_id: int | None = None,
                         outbox_ids: list[int] | None = None) -> list[Reply]:
        """Collect undelivered web-chat replies: these rows, this message's, or all of the
        contact's. Each reply is taken once, even by concurrent requests."""
        if outbox_ids:
            by, params = "ids", {"b_ids": list(outbox_ids)}
        elif inbox_id is not None:
            by, params = "inbox", {"b_inbox": inbox_id}
        else:
            by, params = "contact", {}
        with self.db.session() as session:
            rows = _run(session, _TAKE_WEB[by], b_contact=contact_id, b_now=utcnow(),
                        **params).all()
        return [Reply.from_json(row.payload) for row in sorted(rows, key=lambda r: r.id)]

    def find_contact(self, channel: Channel, address: str) -> str | None:
        with self.db.session() as session:
            return self.vault.find_contact_id(session, channel.value, address)

    def is_pending(self, inbox_id: int) -> bool:
        with self.db.session() as session:
            row = session.get(InboxMessage, inbox_id)
            return row is not None and row.status == "pending"

    def has_pending(self, contact_id: str) -> bool:
        with self.db.session() as session:
            return session.scalar(
                select(func.count()).select_from(InboxMessage).where(
                    InboxMessage.contact_id == contact_id, InboxMessage.status == "pending")
            ) > 0

    # ------------------------------------------------------------ inbox worker
    def reclaim_dead_leases(self) -> int:
        """Free the leases of workers on this host whose process is gone (a crash), so that
        their contacts are answered now rather than when the lease expires, and the replies
        they were sending are sent. Leases of other hosts are left to expire."""
        host = os.uname().nodename
        freed = 0
        with self.db.session() as session:
            owners = set(session.scalars(select(Contact.lease_owner).where(
                Contact.lease_owner.like(f"{host}:%")).distinct()).all())
            owners |= set(session.scalars(select(OutboxMessage.lease_owner).where(
                OutboxMessage.lease_owner.like(f"{host}:%")).distinct()).all())
            for owner in owners:
                try:
                    pid = int(owner.split(":")[1])
                except (IndexError, ValueError):
                    continue
                if pid == os.getpid() or _process_alive(pid):
                    continue
                freed += session.execute(
                    update(Contact).where(Contact.lease_owner == owner)
                    .values(lease_owner=None, lease_until=None)).rowcount
                freed += session.execute(
                    update(OutboxMessage).where(OutboxMessage.lease_owner == owner)
                    .values(lease_owner=None, next_attempt_at=utcnow())).rowcount
        if freed:
            log.info("inbox: freed %d lease(s) left by a worker that stopped", freed)
        return freed

    async def run_inbox_worker(self, stop: asyncio.Event) -> None:
        try:
            self.reclaim_dead_leases()
        except Exception:
            log.exception("inbox worker: could not reclaim leases; they will expire")
        loop = asyncio.get_running_loop()
        tasks: set[asyncio.Task] = set()
        next_scan = 0.0
        while not stop.is_set():
            try:
                if await self._rasa_available():
                    if loop.time() >= next_scan:
                        next_scan = loop.time() + self.settings.worker_poll_seconds
                        for contact_id, channel in self._pending_contacts(self.concurrency * 4):
                            # An active contact's worker looks for its next message itself.
                            if contact_id not in self._active:
                                self._ready.add(contact_id, channel)
                    for contact_id, first in self._claim_ready(self.concurrency - len(tasks)):
                        task = asyncio.create_task(self._process_contact(contact_id, first))
                        tasks.add(task)
                        task.add_done_callback(tasks.discard)
                        task.add_done_callback(lambda _t: self._wake_inbox.set())
                self._acknowledge_waiting()
                await self._housekeeping()
            except Exception:  # the loop must survive anything; the messages are stored
                log.exception("inbox worker: iteration failed")
            self._wake_inbox.clear()
            try:
                await asyncio.wait_for(self._wake_inbox.wait(),
                                       max(0.01, min(self.settings.worker_poll_seconds,
                                                     next_scan - loop.time())))
            except asyncio.TimeoutError:
                pass
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        if self._housekeeping_task is not None:
            await asyncio.gather(self._housekeeping_task, return_exceptions=True)

    async def _housekeeping(self, every: float = 5.0) -> None:
        """Partner notifications and finished erasures, at most every `every` seconds, in a
        task of their own: a slow SMTP server must not hold up the inbox."""
        now = asyncio.get_running_loop().time()
        running = self._housekeeping_task is not None and not self._housekeeping_task.done()
        if now < self._housekeeping_due or running:
            return
        self._housekeeping_due = now + every
        self._housekeeping_task = asyncio.create_task(self._housekeep())

    async def _housekeep(self) -> None:
        try:
            await self.notifier.send_due()
            if self.rasa_up:
                await privacy.finish_erasures(self.db, self.tracker_eraser,
                                              self.settings.media_dir)
        except Exception:
            log.exception("housekeeping: notifications or erasures failed")
        now = self.clock()
        if self._retention_due is None or now >= self._retention_due:
            self._retention_due = now + timedelta(minutes=self.settings.retention_every_minutes)
            try:
                await self.run_retention(now)
            except Exception:
                log.exception("housekeeping: retention failed; tried again next time")

    async def run_retention(self, now: datetime) -> None:
        """Expire what the retention settings say, as of `now` (in a thread: it may delete
        many rows and files)."""
        from bot.core.retention import RetentionPolicy, apply_retention

        await asyncio.to_thread(apply_retention, self.db,
                                RetentionPolicy.from_settings(self.settings), now=now,
                                media_dir=self.settings.media_dir)

    async def _rasa_available(self) -> bool:
        now = utcnow()
        if self._rasa_down_until and now < self._rasa_down_until:
            return False
        if not self.rasa_up:
            self.rasa_up = await self.rasa.ready()
            if not self.rasa_up:
                self._rasa_down_until = now + timedelta(seconds=1)
                return False
            log.info("rasa: available")
        return True

    def _pending_contacts(self, limit: int) -> list[tuple[str, str]]:
        """The scan: (contact, channel) with a message due, oldest first (whoever stored
        it), at most `limit` (plus those in Rasa) of each channel: a backlog on one channel
        does not hide the others' messages from the scan."""
        now = utcnow()
        due = or_(_I.c.next_attempt_at.is_(None), _I.c.next_attempt_at <= now)
        first = func.min(_I.c.id)
        waiting = (select(_I.c.contact_id, _I.c.channel, first.label("first"),
                          func.row_number().over(partition_by=_I.c.channel,
                                                 order_by=first).label("rank"))
                   .where(_I.c.status == "pending", due)
                   .group_by(_I.c.channel, _I.c.contact_id).subquery())
        with self.db.session() as session:
            return [(row.contact_id, row.channel) for row in session.execute(
                select(waiting.c.contact_id, waiting.c.channel)
                .where(waiting.c.rank <= limit + len(self._active))
                .order_by(waiting.c.first)).all()]

    def _claim_ready(self, limit: int) -> list[tuple[str, tuple[InboxMessage, ContactView]]]:
        """Claim up to `limit` ready contacts, fairly across channels (ReadyContacts.pick)."""
        claimed = []
        while len(claimed) < limit:
            picked = self._ready.pick(self._active_channel, self.concurrency,
                                      self.settings.gateway_channel_share)
            if picked is None:
                break
            contact_id, channel = picked
            first = self._claim(contact_id)
            if first is not None:
                self._active.add(contact_id)
                self._active_channel[contact_id] = channel
                claimed.append((contact_id, first))
        return claimed

    def _claim(self, contact_id: str) -> tuple[InboxMessage, ContactView] | None:
        """Lease a contact and read its oldest pending message, in one transaction. None when
        another worker holds it or nothing is due."""
        now = utcnow()
        with self.db.session() as session:
            row = _run(session, _CLAIM_CONTACT, b_id=contact_id, b_now=now,
                       b_owner=self.worker_id,
                       b_until=now + timedelta(seconds=LEASE_SECONDS)).first()
            if row is None:
                return None
            message = self._next_pending(session, contact_id, now)
            if message is None:
                self._release_in(session, contact_id)
                return None
            return message, ContactView(contact_id, row.language, row.country,
                                        row.last_choices, _aware(row.last_inbound_at))

    @staticmethod
    def _next_pending(session: Session, contact_id: str, now: datetime) -> Row | None:
        """The contact's oldest pending message if it is due (the order is kept: when the
        oldest waits for a retry, so do the others)."""
        message = _run(session, _NEXT_PENDING, b_contact=contact_id).first()
        if message is None:
            return None
        next_at = _aware(message.next_attempt_at)
        if next_at and next_at > now:
            return None
        return message

    def _release_in(self, session: Session, contact_id: str) -> None:
        _run(session, _RELEASE_CONTACT, b_id=contact_id, b_owner=self.worker_id)

    def _release(self, contact_id: str) -> None:
        with self.db.session() as session:
            self._release_in(session, contact_id)

    async def _process_contact(self, contact_id: str,
                               first: tuple[InboxMessage, ContactView]) -> None:
        held = True
        try:
            row, contact = first
            # A bounded batch, so that a flood from one contact cannot starve the others:
            # after it the contact goes back in the queue behind everyone who was waiting.
            for turn in range(BATCH_PER_LEASE):
                last = turn + 1 == BATCH_PER_LEASE
                following = await self._process_message(row, contact, keep_lease=not last)
                if following is None:
                    held = False
                    if last:  # maybe more to answer: back in the queue, behind the others
                        self._ready.add(contact_id, row.channel)
                    return
                if following is _PAUSE:
                    return
                row, contact = following
        except Exception:
            log.exception("inbox worker: contact processing failed")
        finally:
            self._active.discard(contact_id)
            self._active_channel.pop(contact_id, None)
            if held:
                try:
                    self._release(contact_id)
                except Exception:
                    log.exception("inbox worker: lease not released; it will expire")
            if not held or contact_id in self._ready:
                self._wake_inbox.set()

    async def _process_message(self, row: InboxMessage, contact: ContactView, *,
                               keep_lease: bool):
        """Answer one message. Returns the contact's next message to answer (the lease kept),
        None when the lease was let go, or _PAUSE when processing should pause."""
        try:
            answered = await self.answerer.answer(row, contact)
        except RasaUnavailable as exc:
            log.warning("rasa: unavailable (%s); message %s waits", exc, row.id)
            self.rasa_up = False
            self._rasa_down_until = utcnow() + timedelta(seconds=1)
            self._ready.add(contact.id, row.channel)
            return _PAUSE
        except Exception as exc:
            log.exception("inbox: message %s failed", row.id)
            self._record_failure(row, contact, f"{type(exc).__name__}")
            return _PAUSE
        following, erase_requested = self._complete(row, contact, answered, keep_lease)
        if erase_requested:
            self._addresses.pop(contact.id, None)
            try:  # "erase my data" is carried out here, once the turn that asked for it is over
                await privacy.after_turn(self.db, self.tracker_eraser, contact.id,
                                         self.settings.media_dir)
            except Exception:
                log.exception("privacy: erasure after turn failed; finish_erasures retries")
        return following

    def _complete(self, row: InboxMessage, contact: ContactView, answered: Answered,
                  keep_lease: bool):
        """Store the replies (and what the turn keeps, `answered.persist`), mark the message
        done and find the contact's next message, in one transaction. Returns (the next message
        and contact, or None when the lease was let go; whether the contact asked during this
        turn to be erased)."""
        replies = answered.replies
        now = utcnow()
        values: dict[str, Any] = {}
        for reply in replies:
            if reply.lang:
                values["language"] = reply.lang
            if reply.country:
                values["country"] = reply.country
            if reply.choices:
                values["last_choices"] = [{"id": c.id, "title": c.title} for c in reply.choices]
        if replies:
            values["sensitive_mode"] = privacy.sensitive_mode_of(replies[-1])
            if not privacy.keeps_callback_draft(replies[-1]):
                values["callback_draft"] = None  # left the flow: an unconfirmed number goes
        sender_channel = row.channel in self.senders
        jobs: list[OutboxJob] = []
        web_ids: list[int] = []
        with self.db.session() as session:
            if answered.persist is not None:
                answered.persist(session)
            # Sent from here at once, unless older replies of this contact wait elsewhere
            # (another worker's, or a retry): the order of a contact's replies is kept.
            claim = False
            if sender_channel and replies:
                owners = _run(session, _PENDING_OWNERS, b_contact=contact.id).scalars().all()
                claim = not owners or (contact.id in self._to_send
                                       and all(owner == self.worker_id for owner in owners))
            for reply in replies:
                payload = reply.to_json()
                outbox_id = _run(
                    session, _INSERT_OUTBOX, contact_id=contact.id, inbox_id=row.id,
                    channel=row.channel, payload=payload, status="pending", attempts=0,
                    created_at=now, lease_owner=self.worker_id if claim else None,
                    next_attempt_at=now + timedelta(seconds=OUTBOX_LEASE_SECONDS) if claim
                    else now).scalar_one()
                if claim:
                    jobs.append(OutboxJob(outbox_id, contact.id, row.channel, payload, 0,
                                          contact.last_inbound_at))
                elif not sender_channel:
                    web_ids.append(outbox_id)
            _run(session, _INBOX_DONE, b_id=row.id, b_now=now, b_attempts=row.attempts + 1)
            following = self._next_pending(session, contact.id, now) if keep_lease else None
            if following is None:
                values.update(lease_owner=None, lease_until=None)
            else:
                values["lease_until"] = now + timedelta(seconds=LEASE_SECONDS)
            current = _run(session, _update_by_id("contacts", tuple(values), _AFTER_TURN),
                           b_id=contact.id, **{f"b_{k}": v for k, v in values.items()}).first()
        self._settle(row.id, web_ids, pending=False)
        if jobs:
            self._queue(jobs)
        elif replies and sender_channel:
            self._wake_outbox.set()
        erase_requested = current is not None and current.erase_requested_at is not None
        if following is None or current is None:
            return None, erase_requested
        return (following, ContactView(contact.id, current.language, current.country,
                                       current.last_choices,
                                       _aware(current.last_inbound_at))), erase_requested

    def _record_failure(self, row: InboxMessage, contact: ContactView, error: str) -> None:
        attempts = row.attempts + 1
        outbox_ids: list[int] = []
        with self.db.session() as session:
            if attempts >= MAX_MESSAGE_ATTEMPTS:
                t = translator(contact.language or "fr")
                outbox_ids.append(session.scalar(insert(OutboxMessage).values(
                    contact_id=contact.id, inbox_id=row.id, channel=row.channel,
                    status="pending", attempts=0, next_attempt_at=utcnow(),
                    payload=Reply(t.gettext("Je n'ai pas bien compris. Choisissez dans le menu "
                                            "ou écrivez votre question autrement."),
                                  choices=[Choice("menu:main", t.gettext("Menu"))],
                                  lang=contact.language).to_json(),
                ).returning(OutboxMessage.id)))
                values: dict[str, Any] = {"status": "failed", "processed_at": utcnow()}
                log.error("inbox: message %s failed %d times; apology sent", row.id, attempts)
            else:
                values = {"next_attempt_at": utcnow() + timedelta(seconds=backoff_seconds(attempts))}
            session.execute(update(InboxMessage).where(InboxMessage.id == row.id)
                            .values(attempts=attempts, last_error=error, **values))
        if outbox_ids:
            self._settle(row.id, outbox_ids if row.channel not in self.senders else [],
                         pending=False)
            self._wake_outbox.set()

    def _acknowledge_waiting(self) -> None:
        """Tell users whose message has waited too long that it is safe with us."""
        if self.rasa_up:
            return
        cutoff = utcnow() - timedelta(seconds=self.settings.ack_after_seconds)
        acknowledged: list[tuple[int, list[int]]] = []
        with self.db.session() as session:
            rows = session.scalars(
                select(InboxMessage).where(
                    InboxMessage.status == "pending", InboxMessage.acknowledged.is_(False),
                    InboxMessage.received_at <= cutoff,
                ).order_by(InboxMessage.id).limit(200)
            ).all()
            acknowledged_contacts: set[str] = set()
            for row in rows:
                row.acknowledged = True
                if row.contact_id in acknowledged_contacts:
                    acknowledged.append((row.id, []))
                    continue  # one acknowledgement per contact is enough
                acknowledged_contacts.add(row.contact_id)
                contact = session.get(Contact, row.contact_id)
                t = translator(contact.language or "fr")
                ack = OutboxMessage(
                    contact_id=row.contact_id, inbox_id=row.id, channel=row.channel,
                    payload=Reply(t.gettext("Nous avons bien reçu votre message. Nous vous "
                                            "répondons dès que possible."),
                                  lang=contact.language).to_json())
                session.add(ack)
                session.flush()
                acknowledged.append((row.id, [ack.id] if row.channel not in self.senders
                                     else []))
        for inbox_id, outbox_ids in acknowledged:
            self._settle(inbox_id, outbox_ids, pending=True)
        if rows:
            log.info("inbox: acknowledged %d waiting message(s) while Rasa is away", len(rows))
            self._wake_outbox.set()

    # ----------------------------------------------------------- outbox worker
    async def run_outbox_worker(self, stop: asyncio.Event) -> None:
        """Sends the replies this process claimed, one task per contact (in order for each
        contact; a slow or failing contact holds up nobody else), and scans the outbox for
        the rest: replies written by other processes, retries, partners' answers."""
        loop = asyncio.get_running_loop()
        next_scan = 0.0
        while not stop.is_set():
            try:
                if self.senders and loop.time() >= next_scan:
                    next_scan = loop.time() + self.settings.worker_poll_seconds
                    self._queue(self._claim_due(max(1, self.send_concurrency - len(self._sending))))
                self._start_senders()
            except Exception:
                log.exception("outbox worker: iteration failed")
            self._wake_outbox.clear()
            try:
                await asyncio.wait_for(self._wake_outbox.wait(),
                                       max(0.01, next_scan - loop.time()))
            except asyncio.TimeoutError:
                pass
        if self._sending:
            await asyncio.gather(*self._sending.values(), return_exceptions=True)

    def _queue(self, jobs: list[OutboxJob]) -> None:
        for job in jobs:
            self._to_send.setdefault(job.contact_id, deque()).append(job)
        if jobs:
            self._wake_outbox.set()

    def _start_senders(self) -> None:
        for contact_id in list(self._to_send):
            if contact_id in self._sending:
                continue
            if len(self._sending) >= self.send_concurrency:
                break
            task = asyncio.create_task(self._send_contact(contact_id))
            self._sending[contact_id] = task

    async def _send_contact(self, contact_id: str) -> None:
        try:
            queue = self._to_send.get(contact_id)
            while queue:
                job = queue.popleft()
                sent = await self._send_one(job)
                if sent is _HELD:
                    # The user was asked to write again: what follows waits with this reply.
                    self._hold([later.id for later in queue])
                    queue.clear()
                elif not sent:
                    # Kept in order: what follows waits behind the reply that failed.
                    self._unclaim([later.id for later in queue])
                    queue.clear()
        except Exception:
            log.exception("outbox: sending to a contact failed")
            queue = self._to_send.get(contact_id) or ()
            self._unclaim([later.id for later in queue])
        finally:
            self._to_send.pop(contact_id, None)
            self._sending.pop(contact_id, None)
            self._wake_outbox.set()

    def _claim_due(self, limit: int) -> list[OutboxJob]:
        """The scan: the oldest unsent reply of each contact, if due, claimed by this worker
        (a conditional update, so two processes never send the same reply)."""
        now = utcnow()
        with self.db.session() as session:
            oldest = (
                select(func.min(OutboxMessage.id))
                .where(OutboxMessage.status == "pending",
                       OutboxMessage.channel.in_(list(self.senders)))
                .group_by(OutboxMessage.contact_id)
            )
            candidates = session.execute(
                select(OutboxMessage.id, OutboxMessage.contact_id)
                .where(OutboxMessage.id.in_(oldest), OutboxMessage.next_attempt_at <= now)
                .order_by(OutboxMessage.id).limit(limit + len(self._sending))
            ).all()
            jobs = []
            for candidate in candidates:
                if len(jobs) >= limit:
                    break
                if candidate.contact_id in self._to_send:
                    continue
                row = _run(session, _CLAIM_REPLY, b_id=candidate.id, b_now=now,
                           b_owner=self.worker_id,
                           b_until=now + timedelta(seconds=OUTBOX_LEASE_SECONDS)).first()
                if row is not None:
                    jobs.append(OutboxJob(candidate.id, row.contact_id, row.channel,
                                          row.payload, row.attempts))
        return jobs

    def _unclaim(self, outbox_ids: list[int]) -> None:
        """Give back replies this worker claimed but will not send now (the scan takes them
        again, in order, when they are due)."""
        if not outbox_ids:
            return
        with self.db.session() as session:
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(outbox_ids),
                       OutboxMessage.lease_owner == self.worker_id)
                .values(lease_owner=None, next_attempt_at=utcnow())
                .execution_options(synchronize_session=False))

    def _hold(self, outbox_ids: list[int]) -> None:
        if not outbox_ids:
            return
        with self.db.session() as session:
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(outbox_ids), OutboxMessage.status == "pending")
                .values(status="held", lease_owner=None,
                        last_error="held until the user writes again (a template was sent)")
                .execution_options(synchronize_session=False))

    def _address(self, contact_id: str, channel: str) -> str | None:
        address = self._addresses.get_fresh(contact_id)
        if address is None:
            with self.db.session() as session:
                address = self.vault.address_of(session, contact_id, channel)
            if address is not None:
                self._addresses.put(contact_id, address)
        return address

    async def _send_one(self, job: OutboxJob):
        """Send one claimed reply; False when it was not sent (retried later, or failed),
        _HELD when it waits for the user to write again."""
        sender = self.senders[job.channel]
        address = self._address(job.contact_id, job.channel)
        if address is None:  # the contact erased their data meanwhile
            self._mark(job, status="failed", last_error="no address")
            return False
        if job.last_inbound_at is None and sender.holds_replies:
            # Not an answer to a message just received: if a reply is already held for this
            # user (a template went out), this one waits with it rather than send another.
            with self.db.session() as session:
                if _run(session, _ANY_HELD, b_contact=job.contact_id).first() is not None:
                    self._hold([job.id])
                    return _HELD
        attempts = job.attempts + 1
        try:
            provider_id = await sender.send(address, Reply.from_json(job.payload),
                                            last_inbound_at=job.last_inbound_at)
        except SendError as exc:
            if not exc.retryable or attempts >= 12:
                log.error("outbox: reply %s failed for good after %d attempt(s): %s",
                          job.id, attempts, exc)
                self._mark(job, status="failed", attempts=attempts, last_error=str(exc)[:500])
                return False
            delay = exc.retry_after if exc.retry_after else backoff_seconds(attempts)
            log.warning("outbox: reply %s not accepted (%s); retry in %.1f s", job.id, exc, delay)
            self._mark(job, attempts=attempts, last_error=str(exc)[:500],
                       next_attempt_at=utcnow() + timedelta(seconds=delay))
            return False
        note, held = None, False
        if isinstance(provider_id, Sent):
            provider_id, note, held = (provider_id.provider_message_id, provider_id.note,
                                       provider_id.held)
        self._mark(job, status="held" if held else "sent", attempts=attempts,
                   provider_message_id=provider_id, sent_at=utcnow(), last_error=note)
        return _HELD if held else True

    def _mark(self, job: OutboxJob, **values: Any) -> None:
        values["lease_owner"] = None
        with self.db.session() as session:
            _run(session, _update_by_id("outbox", tuple(sorted(values))), b_id=job.id,
                 **{f"b_{k}": v for k, v in values.items()})

    # --------------------------------------------------- what channel adapters ask
    _STATUS_RANK = {"pending": 0, "sent": 1, "delivered": 2, "read": 3}

    def record_delivery_status(self, channel: Channel, provider_message_id: str, status: str,
                               error: str | None = None) -> bool:
        """A channel's delivery receipt (sent/delivered/read/failed). Receipts arrive out of
        order: a status never moves backwards, and `failed` does not undo `read`."""
        with self.db.session() as session:
            row = session.scalar(select(OutboxMessage).where(
                OutboxMessage.channel == channel.value,
                OutboxMessage.provider_message_id == provider_message_id))
            if row is None:
                return False
            rank = self._STATUS_RANK
            if row.status == "held":
                pass  # a receipt of the template sent in its place: the reply still waits
            elif status == "failed":
                if row.status != "read":
                    row.status, row.last_error = "failed", (error or "failed")[:500]
            elif status in rank and rank[status] > rank.get(row.status, 0):
                row.status = status
            row.status_updated_at = utcnow()
        return True

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
            return _aware(contact.last_inbound_at) if contact else None

    def due_media(self, channel: Channel, limit: int = 10) -> list[MediaFile]:
        """Files still to download for a channel (oldest first)."""
        with self.db.session() as session:
            rows = session.scalars(
                select(MediaFile).where(MediaFile.channel == channel.value,
                                        MediaFile.status == "pending",
                                        MediaFile.next_attempt_at <= utcnow())
                .order_by(MediaFile.id).limit(limit)).all()
            session.expunge_all()
            return list(rows)

    def media_stored(self, media_id: int, path: str, size: int, sha256: str,
                     mime_type: str | None = None) -> bool:
        """False when the row is gone (the contact erased their data during the download):
        the caller then deletes the file."""
        with self.db.session() as session:
            row = session.get(MediaFile, media_id)
            if row is None:
                return False
            row.status, row.path, row.size, row.sha256 = "stored", path, size, sha256
            row.mime_type = mime_type or row.mime_type
            row.attempts, row.stored_at, row.last_error = row.attempts + 1, utcnow(), None
        return True

    def media_failed(self, media_id: int, error: str, *, retryable: bool = True,
                     max_attempts: int = 20) -> None:
        with self.db.session() as session:
            row = session.get(MediaFile, media_id)
            if row is None:
                return
            row.attempts += 1
            row.last_error = error[:500]
            if not retryable or row.attempts >= max_attempts:
                row.status = "failed"
                log.error("media: file %s of message %s failed for good: %s",
                          row.id, row.inbox_id, error)
            else:
                row.next_attempt_at = utcnow() + timedelta(
                    seconds=backoff_seconds(row.attempts, cap=600))
