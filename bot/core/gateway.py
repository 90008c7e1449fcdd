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
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Protocol

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError

from bot.config import Settings
from bot.core import privacy
from bot.core.messages import Channel, Choice, Inbound, InboundKind, Reply
from bot.core.notify import PartnerNotifier
from bot.core.normalize import normalize
from bot.core.rasa_client import RasaClient, RasaUnavailable, choice_message
from bot.i18n import translator
from bot.store.db import Database
from bot.store.identities import IdentityVault
from bot.store.models import Contact, InboxMessage, MediaFile, OutboxMessage, utcnow

log = logging.getLogger(__name__)

LEASE_SECONDS = 90
MAX_MESSAGE_ATTEMPTS = 5
MAX_TEXT_CHARS = 2000  # longer messages are cut before NLU; the user is not punished for it
_NUMBER = re.compile(r"^\s*(\d{1,2})\s*[.)]?\s*$")


class SendError(Exception):
    """A channel refused or failed to take a reply."""

    def __init__(self, message: str, *, retryable: bool = True, retry_after: float | None = None):
        super().__init__(message)
        self.retryable = retryable
        self.retry_after = retry_after


class Sender(Protocol):
    """What a channel adapter provides to deliver replies."""

    async def send(self, address: str, reply: Reply) -> str | Sent | None:
        """Deliver one reply; return the channel's message id (or a `Sent` with a note).
        Raise SendError on failure."""


@dataclass
class Sent:
    """What a sender may return instead of a bare provider id, to leave a note on the row
    (e.g. "outside WhatsApp's 24-hour window: template sent instead")."""

    provider_message_id: str | None
    note: str | None = None


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


class Gateway:
    def __init__(self, settings: Settings, db: Database, rasa: RasaClient,
                 senders: dict[str, Sender] | None = None, worker_id: str | None = None):
        self.settings = settings
        self.db = db
        self.rasa = rasa
        self.vault = IdentityVault(settings.data_key)
        self.senders: dict[str, Sender] = dict(senders or {})
        self.worker_id = worker_id or f"{os.uname().nodename}:{os.getpid()}:{secrets.token_hex(3)}"
        self._wake_inbox = asyncio.Event()
        self._wake_outbox = asyncio.Event()
        self._processed: dict[int, asyncio.Event] = {}
        self._active: set[str] = set()
        self._rasa_down_until: datetime | None = None
        self.rasa_up = False
        self.concurrency = int(os.environ.get("GATEWAY_CONCURRENCY", "32"))
        # Follow-up requests: erasing data after a turn, notifying partners (docs/REQUESTS.md).
        self.tracker_eraser = privacy.TrackerEraser(rasa)
        self.notifier = PartnerNotifier.from_settings(settings, db, rasa.http)
        self._housekeeping_due = 0.0
        self._housekeeping_task: asyncio.Task | None = None

    # ------------------------------------------------------------------ intake
    def accept(self, inbound: Inbound) -> Accepted:
        """Store the message before anything else happens. Safe to call twice."""
        for attempt in range(3):
            try:
                return self._accept_once(inbound)
            except IntegrityError:
                # A concurrent request stored the same message or created the same contact.
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _accept_once(self, inbound: Inbound) -> Accepted:
        with self.db.session() as session:
            existing = session.scalar(
                select(InboxMessage).where(
                    InboxMessage.channel == inbound.channel.value,
                    InboxMessage.channel_message_id == inbound.channel_message_id,
                )
            )
            if existing is not None:
                return Accepted(existing.id, existing.contact_id, duplicate=True)
            contact = self.vault.find_or_create_contact(
                session, inbound.channel.value, inbound.address
            )
            contact.last_inbound_at = utcnow()
            record = inbound.to_record()
            text = record.pop("text")
            keep_media = inbound.media is not None
            if contact.sensitive_mode and inbound.kind != InboundKind.CHOICE:
                # A sensitive step (protection flow): read in process, keep nothing typed.
                private = privacy.handle_private_input(
                    contact.sensitive_mode, inbound.kind.value, text, contact.last_choices,
                    self.vault.encrypt)
                if private.callback_draft:
                    contact.callback_draft = private.callback_draft
                record = {"kind": inbound.kind.value, "private": {"choice": private.choice}}
                text, keep_media = None, False
            row = InboxMessage(
                channel=inbound.channel.value,
                channel_message_id=inbound.channel_message_id,
                contact_id=contact.id,
                kind=inbound.kind.value,
                text=text[:MAX_TEXT_CHARS * 2] if text else text,
                payload=record,
            )
            session.add(row)
            session.flush()
            if keep_media:  # fetched later by the channel; never dropped
                session.add(MediaFile(inbox_id=row.id, contact_id=contact.id,
                                      channel=inbound.channel.value, kind=inbound.media.kind,
                                      ref=inbound.media.ref, mime_type=inbound.media.mime_type))
            accepted = Accepted(row.id, contact.id, duplicate=False)
        log.info("inbox: accepted message %s (%s, %s)", accepted.inbox_id,
                 inbound.channel.value, inbound.kind.value)
        self._wake_inbox.set()
        return accepted

    # --------------------------------------------------------------- web wait
    async def wait_processed(self, inbox_id: int, timeout: float) -> bool:
        """Wait until a message has been answered (or acknowledged). False on timeout."""
        # Registered before the first await: an in-process worker cannot finish unseen.
        event = self._processed.setdefault(inbox_id, asyncio.Event())
        deadline = asyncio.get_running_loop().time() + timeout
        try:
            while True:
                remaining = deadline - asyncio.get_running_loop().time()
                try:
                    # The worker may run in another process: poll the database too.
                    await asyncio.wait_for(event.wait(), timeout=max(0.0, min(remaining, 1.0)))
                except asyncio.TimeoutError:
                    pass
                event.clear()
                if self._is_settled(inbox_id):
                    return True
                if deadline - asyncio.get_running_loop().time() <= 0:
                    return False
        finally:
            self._processed.pop(inbox_id, None)

    def _is_settled(self, inbox_id: int) -> bool:
        with self.db.session() as session:
            row = session.get(InboxMessage, inbox_id)
            return row is None or row.status != "pending" or row.acknowledged

    def take_web_replies(self, contact_id: str, inbox_id: int | None = None) -> list[Reply]:
        """Collect undelivered web-chat replies (for this message, or all of the contact's)."""
        with self.db.session() as session:
            query = select(OutboxMessage).where(
                OutboxMessage.contact_id == contact_id,
                OutboxMessage.channel == Channel.WEB.value,
                OutboxMessage.status == "pending",
            )
            if inbox_id is not None:
                query = query.where(OutboxMessage.inbox_id == inbox_id)
            rows = session.scalars(query.order_by(OutboxMessage.id)).all()
            now = utcnow()
            for row in rows:
                row.status, row.sent_at, row.attempts = "sent", now, row.attempts + 1
            return [Reply.from_json(row.payload) for row in rows]

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
        their contacts are answered now rather than when the lease expires. Leases of other
        hosts are left to expire."""
        host = os.uname().nodename
        freed = 0
        with self.db.session() as session:
            owners = session.scalars(select(Contact.lease_owner).where(
                Contact.lease_owner.like(f"{host}:%")).distinct()).all()
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
        if freed:
            log.info("inbox: freed %d lease(s) left by a worker that stopped", freed)
        return freed

    async def run_inbox_worker(self, stop: asyncio.Event) -> None:
        try:
            self.reclaim_dead_leases()
        except Exception:
            log.exception("inbox worker: could not reclaim leases; they will expire")
        tasks: set[asyncio.Task] = set()
        while not stop.is_set():
            try:
                if await self._rasa_available():
                    free = self.concurrency - len(tasks)
                    for contact_id in self._claim_contacts(free) if free > 0 else []:
                        task = asyncio.create_task(self._process_contact(contact_id))
                        tasks.add(task)
                        task.add_done_callback(tasks.discard)
                        task.add_done_callback(lambda _t: self._wake_inbox.set())
                self._acknowledge_waiting()
                await self._housekeeping()
            except Exception:  # the loop must survive anything; the messages are stored
                log.exception("inbox worker: iteration failed")
            self._wake_inbox.clear()
            try:
                await asyncio.wait_for(self._wake_inbox.wait(), self.settings.worker_poll_seconds)
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

    def _claim_contacts(self, limit: int) -> list[str]:
        now = utcnow()
        due = or_(InboxMessage.next_attempt_at.is_(None), InboxMessage.next_attempt_at <= now)
        with self.db.session() as session:
            candidates = session.execute(
                select(InboxMessage.contact_id, func.min(InboxMessage.id))
                .where(InboxMessage.status == "pending", due)
                .group_by(InboxMessage.contact_id)
                .order_by(func.min(InboxMessage.id))
                .limit(limit + len(self._active))
            ).all()
        claimed = []
        for contact_id, _ in candidates:
            if len(claimed) >= limit:
                break
            if contact_id in self._active:
                continue
            with self.db.session() as session:
                result = session.execute(
                    update(Contact)
                    .where(Contact.id == contact_id,
                           or_(Contact.lease_until.is_(None), Contact.lease_until < now,
                               Contact.lease_owner == self.worker_id))
                    .values(lease_owner=self.worker_id,
                            lease_until=now + timedelta(seconds=LEASE_SECONDS))
                )
            if result.rowcount == 1:
                self._active.add(contact_id)
                claimed.append(contact_id)
        return claimed

    def _release(self, contact_id: str) -> None:
        self._active.discard(contact_id)
        with self.db.session() as session:
            session.execute(
                update(Contact)
                .where(Contact.id == contact_id, Contact.lease_owner == self.worker_id)
                .values(lease_owner=None, lease_until=None)
            )

    async def _process_contact(self, contact_id: str) -> None:
        try:
            # A bounded batch, so that a flood from one contact cannot starve the others:
            # the contact goes back in the queue behind everyone who was waiting.
            for _ in range(5):
                with self.db.session() as session:
                    row = session.scalar(
                        select(InboxMessage)
                        .where(InboxMessage.contact_id == contact_id,
                               InboxMessage.status == "pending")
                        .order_by(InboxMessage.id).limit(1)
                    )
                    if row is None:
                        return
                    next_at = _aware(row.next_attempt_at)
                    if next_at and next_at > utcnow():
                        return  # keep the order: the oldest waits, so do the others
                    contact = session.get(Contact, contact_id)
                    session.expunge_all()
                if not await self._process_message(row, contact):
                    return
        except Exception:
            log.exception("inbox worker: contact processing failed")
        finally:
            self._release(contact_id)

    async def _process_message(self, row: InboxMessage, contact: Contact) -> bool:
        """Answer one message. Returns False when processing should pause."""
        try:
            replies, updates = await self._answer(row, contact)
        except RasaUnavailable as exc:
            log.warning("rasa: unavailable (%s); message %s waits", exc, row.id)
            self.rasa_up = False
            self._rasa_down_until = utcnow() + timedelta(seconds=1)
            return False
        except Exception as exc:
            log.exception("inbox: message %s failed", row.id)
            self._record_failure(row, contact, f"{type(exc).__name__}")
            return False
        erase_requested = self._complete(row, contact, replies, updates)
        if erase_requested:
            try:  # "erase my data" is carried out here, once the turn that asked for it is over
                await privacy.after_turn(self.db, self.tracker_eraser, contact.id,
                                         self.settings.media_dir)
            except Exception:
                log.exception("privacy: erasure after turn failed; finish_erasures retries")
        return True

    async def _answer(self, row: InboxMessage, contact: Contact) -> tuple[list[Reply], dict]:
        lang = contact.language or "fr"
        t = translator(lang)
        payload = row.payload or {}
        kind = InboundKind(row.kind)
        metadata = {"language": contact.language, "country": contact.country,
                    "channel": row.channel}
        message: str | None = None
        if payload.get("private"):  # a sensitive step: Rasa gets a content-free choice only
            message = choice_message(payload["private"]["choice"])
        elif kind == InboundKind.CHOICE and payload.get("choice_id"):
            message = choice_message(payload["choice_id"])
        elif kind == InboundKind.TEXT:
            message = self._text_to_message(row.text or "", contact)
        elif kind == InboundKind.LOCATION and payload.get("location"):
            loc = payload["location"]
            message = "/share_location" + _json({"latitude": loc["latitude"],
                                                 "longitude": loc["longitude"]})
        elif kind == InboundKind.VOICE:
            # Kept for a partner to listen to until speech recognition exists.
            return [Reply(t.gettext("Votre message vocal est bien reçu. Une personne de "
                                    "l'équipe va l'écouter."), lang=lang)], {}
        if message is None:
            return [Reply(t.gettext("Ce type de message n'est pas pris en charge. Écrivez votre "
                                    "question ou envoyez un message vocal."),
                          choices=[Choice("menu:main", t.gettext("Menu"))], lang=lang)], {}
        replies = await self.rasa.send(contact.id, message, metadata)
        return replies, {}

    def _text_to_message(self, text: str, contact: Contact) -> str | None:
        text = text[:MAX_TEXT_CHARS]
        match = _NUMBER.match(text)
        if match:
            number = int(match.group(1))
            if number == 0:
                return choice_message("menu:main")
            choices = contact.last_choices or []
            if 1 <= number <= len(choices):
                return choice_message(choices[number - 1]["id"])
        cleaned = normalize(text)
        if not cleaned.strip(" .!?,;:-_*#") or not any(ch.isalnum() for ch in cleaned):
            return None  # empty, punctuation or emoji only
        # A leading slash would be read by Rasa as an intent payload: never from users.
        return cleaned.lstrip("/")

    def _complete(self, row: InboxMessage, contact: Contact, replies: list[Reply],
                  updates: dict) -> bool:
        """Store the replies and mark the message done, in one transaction. Returns whether
        the contact asked (during this turn, through the action server) to be erased."""
        with self.db.session() as session:
            current = session.get(Contact, contact.id)
            for reply in replies:
                session.add(OutboxMessage(contact_id=contact.id, inbox_id=row.id,
                                          channel=row.channel, payload=reply.to_json()))
                if reply.lang:
                    current.language = reply.lang
                if reply.country:
                    current.country = reply.country
                if reply.choices:
                    current.last_choices = [{"id": c.id, "title": c.title}
                                            for c in reply.choices]
            if replies:
                current.sensitive_mode = privacy.sensitive_mode_of(replies[-1])
                if current.callback_draft and not privacy.keeps_callback_draft(replies[-1]):
                    current.callback_draft = None  # left the flow: an unconfirmed number goes
            current.lease_until = utcnow() + timedelta(seconds=LEASE_SECONDS)
            session.execute(
                update(InboxMessage).where(InboxMessage.id == row.id)
                .values(status="done", processed_at=utcnow(), attempts=row.attempts + 1)
            )
            erase_requested = current.erase_requested_at is not None
        self._notify(row.id)
        self._wake_outbox.set()
        return erase_requested

    def _record_failure(self, row: InboxMessage, contact: Contact, error: str) -> None:
        attempts = row.attempts + 1
        with self.db.session() as session:
            if attempts >= MAX_MESSAGE_ATTEMPTS:
                t = translator(contact.language or "fr")
                session.add(OutboxMessage(
                    contact_id=contact.id, inbox_id=row.id, channel=row.channel,
                    payload=Reply(t.gettext("Je n'ai pas bien compris. Choisissez dans le menu "
                                            "ou écrivez votre question autrement."),
                                  choices=[Choice("menu:main", t.gettext("Menu"))],
                                  lang=contact.language).to_json()))
                values: dict[str, Any] = {"status": "failed", "processed_at": utcnow()}
                log.error("inbox: message %s failed %d times; apology sent", row.id, attempts)
            else:
                values = {"next_attempt_at": utcnow() + timedelta(seconds=backoff_seconds(attempts))}
            session.execute(update(InboxMessage).where(InboxMessage.id == row.id)
                            .values(attempts=attempts, last_error=error, **values))
        self._notify(row.id)

    def _notify(self, inbox_id: int) -> None:
        event = self._processed.get(inbox_id)
        if event is not None:
            event.set()

    def _acknowledge_waiting(self) -> None:
        """Tell users whose message has waited too long that it is safe with us."""
        if self.rasa_up:
            return
        cutoff = utcnow() - timedelta(seconds=self.settings.ack_after_seconds)
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
                    continue  # one acknowledgement per contact is enough
                acknowledged_contacts.add(row.contact_id)
                contact = session.get(Contact, row.contact_id)
                t = translator(contact.language or "fr")
                session.add(OutboxMessage(
                    contact_id=row.contact_id, inbox_id=row.id, channel=row.channel,
                    payload=Reply(t.gettext("Nous avons bien reçu votre message. Nous vous "
                                            "répondons dès que possible."),
                                  lang=contact.language).to_json()))
        for row in rows:
            self._notify(row.id)
        if rows:
            log.info("inbox: acknowledged %d waiting message(s) while Rasa is away", len(rows))
            self._wake_outbox.set()

    # ----------------------------------------------------------- outbox worker
    async def run_outbox_worker(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                sent_any = await self._send_due()
            except Exception:
                log.exception("outbox worker: iteration failed")
                sent_any = False
            if sent_any:
                continue
            self._wake_outbox.clear()
            try:
                await asyncio.wait_for(self._wake_outbox.wait(), self.settings.worker_poll_seconds)
            except asyncio.TimeoutError:
                pass

    async def _send_due(self) -> bool:
        if not self.senders:
            return False
        now = utcnow()
        with self.db.session() as session:
            # The oldest pending reply of each contact, so that replies keep their order.
            oldest = (
                select(func.min(OutboxMessage.id))
                .where(OutboxMessage.status == "pending",
                       OutboxMessage.channel.in_(list(self.senders)))
                .group_by(OutboxMessage.contact_id)
            )
            rows = session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.id.in_(oldest), OutboxMessage.next_attempt_at <= now)
                .order_by(OutboxMessage.id).limit(self.concurrency)
            ).all()
            session.expunge_all()
        if not rows:
            return False
        await asyncio.gather(*(self._send_one(row) for row in rows))
        return True

    async def _send_one(self, row: OutboxMessage) -> None:
        sender = self.senders[row.channel]
        with self.db.session() as session:
            address = self.vault.address_of(session, row.contact_id, row.channel)
        if address is None:  # the contact erased their data meanwhile
            self._mark(row, status="failed", last_error="no address")
            return
        attempts = row.attempts + 1
        try:
            provider_id = await sender.send(address, Reply.from_json(row.payload))
        except SendError as exc:
            if not exc.retryable or attempts >= 12:
                log.error("outbox: reply %s failed for good after %d attempt(s): %s",
                          row.id, attempts, exc)
                self._mark(row, status="failed", attempts=attempts, last_error=str(exc)[:500])
                return
            delay = exc.retry_after if exc.retry_after else backoff_seconds(attempts)
            log.warning("outbox: reply %s not accepted (%s); retry in %.1f s", row.id, exc, delay)
            self._mark(row, attempts=attempts, last_error=str(exc)[:500],
                       next_attempt_at=utcnow() + timedelta(seconds=delay))
            return
        note = None
        if isinstance(provider_id, Sent):
            provider_id, note = provider_id.provider_message_id, provider_id.note
        self._mark(row, status="sent", attempts=attempts, provider_message_id=provider_id,
                   sent_at=utcnow(), last_error=note)

    def _mark(self, row: OutboxMessage, **values: Any) -> None:
        with self.db.session() as session:
            session.execute(update(OutboxMessage).where(OutboxMessage.id == row.id)
                            .values(**values))

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
            if status == "failed":
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


def _json(data: dict) -> str:
    import json

    return json.dumps(data, ensure_ascii=False)
