"""The inbox worker: each contact's pending messages, in order, through the dialogue.

A worker leases a contact (`contacts.lease_owner/lease_until`, a conditional UPDATE) and
reads its oldest pending message in the same transaction; the replies, the "done" mark and
the lookup of the contact's next message are one more transaction, so a crash between the
two cannot answer a message twice or lose its answer. At most `BATCH_PER_LEASE` messages per
lease; ready contacts are handed out fairly across channels (`ReadyContacts`). While Rasa is
down or starting, messages stay pending; once one has waited `ack_after_seconds`, the user is
told once, in their language, that it is kept.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, func, insert, or_, select, update
from sqlalchemy.orm import Session

from bot.core import privacy
from bot.core.answering import Answered, Answerer, ContactView
from bot.core.delivery import statements as sql
from bot.core.delivery.outbox import OUTBOX_LEASE_SECONDS, OutboxJob, OutboxWorker, backoff_seconds
from bot.core.delivery.ready import BATCH_PER_LEASE
from bot.core.delivery.shared import Shared
from bot.core.messages import Choice, InboundKind, Reply
from bot.core.rasa_client import RasaClient, RasaUnavailable
from bot.i18n import common, translator
from bot.store.models import Contact, InboxMessage, OutboxMessage, utcnow

log = logging.getLogger(__name__)

LEASE_SECONDS = 90
MAX_MESSAGE_ATTEMPTS = 5
_PAUSE = "pause"  # what `_process_message` returns when the contact's processing pauses
Next = tuple[Any, ContactView]  # a contact's next message (an inbox row) and the contact


class InboxWorker:
    def __init__(self, shared: Shared, rasa: RasaClient, answerer: Answerer,
                 outbox: OutboxWorker):
        self.shared = shared
        self.rasa = rasa
        self.answerer = answerer
        self.outbox = outbox
        self.concurrency = shared.settings.gateway_concurrency
        self._active: set[str] = set()
        self._active_channel: dict[str, str] = {}  # contact -> channel, of those in Rasa
        self._rasa_down_until: datetime | None = None
        self.rasa_up = False

    async def run(self, stop: asyncio.Event) -> None:
        shared = self.shared
        loop = asyncio.get_running_loop()
        tasks: set[asyncio.Task] = set()
        next_scan = 0.0
        while not stop.is_set():
            try:
                # Choices need no Rasa: while it is away, only typed text waits for it.
                rasa_up = await self._rasa_available()
                if loop.time() >= next_scan:
                    next_scan = loop.time() + shared.settings.worker_poll_seconds
                    for contact_id, channel in self._pending_contacts(
                            self.concurrency * 4, typed_text_too=rasa_up):
                        # An active contact's worker looks for its next message itself.
                        if contact_id not in self._active:
                            shared.ready.add(contact_id, channel)
                for contact_id, first in self._claim_ready(self.concurrency - len(tasks)):
                    task = asyncio.create_task(self._process_contact(contact_id, first))
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)
                    task.add_done_callback(lambda _t: shared.wake_inbox.set())
                self._acknowledge_waiting()
            except Exception:  # the loop must survive anything; the messages are stored
                log.exception("inbox worker: iteration failed")
            shared.wake_inbox.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(shared.wake_inbox.wait(),
                                       max(0.01, min(shared.settings.worker_poll_seconds,
                                                     next_scan - loop.time())))
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

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

    # ------------------------------------------------------------------ claims
    def _pending_contacts(self, limit: int, typed_text_too: bool = True) -> list[tuple[str, str]]:
        """The scan: (contact, channel) with a message due, oldest first (whoever stored
        it), at most `limit` (plus those in Rasa) of each channel: a backlog on one channel
        does not hide the others' messages from the scan. Without `typed_text_too` (Rasa is
        away), only contacts whose oldest message needs no NLU (a choice, a location, a voice
        note, a private input)."""
        inbox = sql.INBOX
        now = utcnow()
        due = or_(inbox.c.next_attempt_at.is_(None), inbox.c.next_attempt_at <= now)
        first = func.min(inbox.c.id)
        waiting = (select(inbox.c.contact_id, inbox.c.channel, first.label("first"),
                          func.row_number().over(partition_by=inbox.c.channel,
                                                 order_by=first).label("rank"))
                   .where(inbox.c.status == "pending", due)
                   .group_by(inbox.c.channel, inbox.c.contact_id).subquery())
        if not typed_text_too:
            oldest = inbox.alias("oldest")
            waiting = (select(waiting).join(oldest, oldest.c.id == waiting.c.first)
                       .where(or_(oldest.c.kind != InboundKind.TEXT.value,
                                  oldest.c.text.is_(None))).subquery())
        with self.shared.db.session() as session:
            return [(row.contact_id, row.channel) for row in session.execute(
                select(waiting.c.contact_id, waiting.c.channel)
                .where(waiting.c.rank <= limit + len(self._active))
                .order_by(waiting.c.first)).all()]

    def _claim_ready(self, limit: int) -> list[tuple[str, Next]]:
        """Claim up to `limit` ready contacts, fairly across channels (ReadyContacts.pick)."""
        claimed: list[tuple[str, Next]] = []
        while len(claimed) < limit:
            picked = self.shared.ready.pick(self._active_channel, self.concurrency,
                                            self.shared.settings.gateway_channel_share)
            if picked is None:
                break
            contact_id, channel = picked
            first = self._claim(contact_id)
            if first is not None:
                self._active.add(contact_id)
                self._active_channel[contact_id] = channel
                claimed.append((contact_id, first))
        return claimed

    def _claim(self, contact_id: str) -> Next | None:
        """Lease a contact and read its oldest pending message, in one transaction. None when
        another worker holds it or nothing is due."""
        now = utcnow()
        with self.shared.db.session() as session:
            row = sql.run(session, sql.CLAIM_CONTACT, b_id=contact_id, b_now=now,
                          b_owner=self.shared.worker_id,
                          b_until=now + timedelta(seconds=LEASE_SECONDS)).first()
            if row is None:
                return None
            message = self._next_pending(session, contact_id, now)
            if message is None:
                self._release_in(session, contact_id)
                return None
            return message, ContactView(contact_id, row.language, row.country,
                                        row.last_choices, sql.aware(row.last_inbound_at))

    @staticmethod
    def _next_pending(session: Session, contact_id: str, now: datetime) -> Row | None:
        """The contact's oldest pending message if it is due (the order is kept: when the
        oldest waits for a retry, so do the others)."""
        message = sql.run(session, sql.NEXT_PENDING, b_contact=contact_id).first()
        if message is None:
            return None
        next_at = sql.aware(message.next_attempt_at)
        if next_at and next_at > now:
            return None
        return message

    def _release_in(self, session: Session, contact_id: str) -> None:
        sql.run(session, sql.RELEASE_CONTACT, b_id=contact_id, b_owner=self.shared.worker_id)

    def _release(self, contact_id: str) -> None:
        with self.shared.db.session() as session:
            self._release_in(session, contact_id)

    # ---------------------------------------------------------------- the turn
    async def _process_contact(self, contact_id: str, first: Next) -> None:
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
                        self.shared.ready.add(contact_id, row.channel)
                    return
                if isinstance(following, str):  # _PAUSE
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
            if not held or contact_id in self.shared.ready:
                self.shared.wake_inbox.set()

    async def _process_message(self, row: Any, contact: ContactView, *,
                               keep_lease: bool) -> Next | str | None:
        """Answer one message. Returns the contact's next message to answer (the lease kept),
        None when the lease was let go, or _PAUSE when processing should pause."""
        try:
            answered = await self.answerer.answer(row, contact)
        except RasaUnavailable as exc:  # typed text: it waits; the scan finds it once Rasa is up
            log.warning("rasa: unavailable (%s); message %s waits", exc, row.id)
            self.rasa_up = False
            self._rasa_down_until = utcnow() + timedelta(seconds=1)
            return _PAUSE
        except Exception as exc:
            log.exception("inbox: message %s failed", row.id)
            self._record_failure(row, contact, f"{type(exc).__name__}")
            return _PAUSE
        following, erase_requested = self._complete(row, contact, answered, keep_lease)
        if erase_requested:
            self.shared.addresses.pop(contact.id, None)
            try:  # "erase my data" is carried out here, once the turn that asked for it is over
                await privacy.after_turn(self.shared.db, contact.id,
                                         self.shared.settings.media_dir)
            except Exception:
                log.exception("privacy: erasure after turn failed; finish_erasures retries")
        return following

    def _complete(self, row: Any, contact: ContactView, answered: Answered,
                  keep_lease: bool) -> tuple[Next | None, bool]:
        """Store the replies (and what the turn keeps, `answered.persist`), mark the message
        done and find the contact's next message, in one transaction. Returns (the next message
        and contact, or None when the lease was let go; whether the contact asked during this
        turn to be erased)."""
        shared = self.shared
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
        sender_channel = row.channel in shared.senders
        jobs: list[OutboxJob] = []
        pulled_ids: list[int] = []
        with shared.db.session() as session:
            if answered.persist is not None:
                answered.persist(session)
            # Sent from here at once, unless older replies of this contact wait elsewhere
            # (another worker's, or a retry): the order of a contact's replies is kept.
            claim = False
            if sender_channel and replies:
                owners = sql.run(session, sql.PENDING_OWNERS, b_contact=contact.id).scalars().all()
                claim = not owners or (self.outbox.has_claimed(contact.id)
                                       and all(owner == shared.worker_id for owner in owners))
            for reply in replies:
                payload = reply.to_json()
                outbox_id = sql.run(
                    session, sql.INSERT_OUTBOX, contact_id=contact.id, inbox_id=row.id,
                    channel=row.channel, payload=payload, status="pending", attempts=0,
                    created_at=now, lease_owner=shared.worker_id if claim else None,
                    next_attempt_at=now + timedelta(seconds=OUTBOX_LEASE_SECONDS) if claim
                    else now).scalar_one()
                if claim:
                    jobs.append(OutboxJob(outbox_id, contact.id, row.channel, payload, 0,
                                          contact.last_inbound_at))
                elif not sender_channel:
                    pulled_ids.append(outbox_id)
            sql.run(session, sql.INBOX_DONE, b_id=row.id, b_now=now, b_attempts=row.attempts + 1)
            following = self._next_pending(session, contact.id, now) if keep_lease else None
            if following is None:
                values.update(lease_owner=None, lease_until=None)
            else:
                values["lease_until"] = now + timedelta(seconds=LEASE_SECONDS)
            current = sql.run(session, sql.update_by_id("contacts", tuple(values), sql.AFTER_TURN),
                              b_id=contact.id, **{f"b_{k}": v for k, v in values.items()}).first()
        shared.settle(row.id, row.channel, pulled_ids, pending=False)
        if jobs:
            self.outbox.queue(jobs)
        elif replies and sender_channel:
            shared.wake_outbox.set()
        erase_requested = current is not None and current.erase_requested_at is not None
        if following is None or current is None:
            return None, erase_requested
        return (following, ContactView(contact.id, current.language, current.country,
                                       current.last_choices,
                                       sql.aware(current.last_inbound_at))), erase_requested

    # -------------------------------------------------- failures, Rasa away
    def _record_failure(self, row: Any, contact: ContactView, error: str) -> None:
        """A turn that failed: retried with backoff; after MAX_MESSAGE_ATTEMPTS the message is
        `failed` and the user gets an apology with the menu."""
        attempts = row.attempts + 1
        outbox_ids: list[int] = []
        with self.shared.db.session() as session:
            if attempts >= MAX_MESSAGE_ATTEMPTS:
                t = translator(contact.language or "fr")
                outbox_ids.append(session.execute(insert(OutboxMessage).values(
                    contact_id=contact.id, inbox_id=row.id, channel=row.channel,
                    status="pending", attempts=0, next_attempt_at=utcnow(),
                    payload=Reply(t.gettext(common.NOT_UNDERSTOOD),
                                  choices=[Choice("menu:main", t.gettext(common.MENU))],
                                  lang=contact.language).to_json(),
                ).returning(OutboxMessage.id)).scalar_one())
                values: dict[str, Any] = {"status": "failed", "processed_at": utcnow()}
                log.error("inbox: message %s failed %d times; apology sent", row.id, attempts)
            else:
                delay = timedelta(seconds=backoff_seconds(attempts))
                values = {"next_attempt_at": utcnow() + delay}
            session.execute(update(InboxMessage).where(InboxMessage.id == row.id)
                            .values(attempts=attempts, last_error=error, **values))
        if outbox_ids:
            self.shared.settle(row.id, row.channel, outbox_ids, pending=False)
            self.shared.wake_outbox.set()

    def _acknowledge_waiting(self) -> None:
        """Tell users whose typed message has waited too long for Rasa that it is safe with
        us (choices need no Rasa: they are answered)."""
        if self.rasa_up:
            return
        shared = self.shared
        cutoff = utcnow() - timedelta(seconds=shared.settings.ack_after_seconds)
        acknowledged: list[tuple[int, str, list[int]]] = []
        with shared.db.session() as session:
            rows = session.scalars(
                select(InboxMessage).where(
                    InboxMessage.status == "pending", InboxMessage.acknowledged.is_(False),
                    InboxMessage.received_at <= cutoff,
                    InboxMessage.kind == InboundKind.TEXT.value, InboxMessage.text.is_not(None),
                ).order_by(InboxMessage.id).limit(200)
            ).all()
            acknowledged_contacts: set[str] = set()
            for row in rows:
                row.acknowledged = True
                if row.contact_id in acknowledged_contacts:
                    acknowledged.append((row.id, row.channel, []))
                    continue  # one acknowledgement per contact is enough
                acknowledged_contacts.add(row.contact_id)
                contact = session.get(Contact, row.contact_id)
                language = contact.language if contact is not None else None
                t = translator(language or "fr")
                ack = OutboxMessage(
                    contact_id=row.contact_id, inbox_id=row.id, channel=row.channel,
                    payload=Reply(t.gettext(common.MESSAGE_RECEIVED), lang=language).to_json())
                session.add(ack)
                session.flush()
                acknowledged.append((row.id, row.channel, [ack.id]))
        for inbox_id, channel, outbox_ids in acknowledged:
            shared.settle(inbox_id, channel, outbox_ids, pending=True)
        if rows:
            log.info("inbox: acknowledged %d waiting message(s) while Rasa is away", len(rows))
            shared.wake_outbox.set()
