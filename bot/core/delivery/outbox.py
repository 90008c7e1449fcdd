"""The outbox worker: replies go out through the channels' senders, in order per contact.

A reply is claimed by one worker before it is sent (`outbox.lease_owner`, with
`next_attempt_at` as the end of the lease): claimed when it is written (by the inbox worker)
if nothing older of that contact waits elsewhere, else by this worker's scan with a
conditional UPDATE, so several app processes never send a reply twice. Each contact has its
own sending task; a failed reply is retried with backoff and what follows waits behind it; a
reply replaced by a template (WhatsApp's 24-hour window) is `held` until the user writes.
Channels without a sender (the web chat) collect their replies themselves.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import func, select, update

from bot.core.delivery import statements as sql
from bot.core.delivery.shared import Shared
from bot.core.messages import Channel, Reply
from bot.store.models import OutboxMessage, utcnow

log = logging.getLogger(__name__)

OUTBOX_LEASE_SECONDS = 120  # a reply claimed by a worker that died is sent again after this
MAX_SEND_ATTEMPTS = 12
_HELD = "held"  # what `_send_one` returns when the reply waits for the user to write again


class SendError(Exception):
    """A channel refused or failed to take a reply."""

    def __init__(self, message: str, *, retryable: bool = True, retry_after: float | None = None):
        super().__init__(message)
        self.retryable = retryable
        self.retry_after = retry_after


@dataclass
class Sent:
    """What a sender may return instead of a bare provider id, to leave a note on the row
    (e.g. "outside WhatsApp's 24-hour window: template sent instead").

    `held`: the reply itself did not go out (a template asking the user to write went in its
    place); the gateway keeps it and sends it as soon as the user writes again."""

    provider_message_id: str | None
    note: str | None = None
    held: bool = False


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


def backoff_seconds(attempt: int, base: float = 1.0, cap: float = 300.0) -> float:
    """Exponential backoff with jitter: 1, 2, 4, ... seconds, capped."""
    delay = min(cap, base * (2 ** max(0, attempt - 1)))
    return delay * (0.75 + secrets.randbelow(500) / 1000)


@dataclass
class OutboxJob:
    """A reply this process has claimed and is about to send."""

    id: int
    contact_id: str
    channel: str
    payload: dict
    attempts: int
    last_inbound_at: datetime | None = None


class OutboxWorker:
    def __init__(self, shared: Shared):
        self.shared = shared
        self.concurrency = shared.settings.outbox_concurrency
        # Replies claimed by this process, per contact, in order; one sending task per contact.
        self._to_send: dict[str, deque[OutboxJob]] = {}
        self._sending: dict[str, asyncio.Task] = {}

    async def run(self, stop: asyncio.Event) -> None:
        """Sends the replies this process claimed, one task per contact (in order for each
        contact; a slow or failing contact holds up nobody else), and scans the outbox for
        the rest: replies written by other processes, retries, partners' answers."""
        shared = self.shared
        loop = asyncio.get_running_loop()
        next_scan = 0.0
        while not stop.is_set():
            try:
                if shared.senders and loop.time() >= next_scan:
                    next_scan = loop.time() + shared.settings.worker_poll_seconds
                    self.queue(self._claim_due(max(1, self.concurrency - len(self._sending))))
                self._start_senders()
            except Exception:
                log.exception("outbox worker: iteration failed")
            shared.wake_outbox.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(shared.wake_outbox.wait(),
                                       max(0.01, next_scan - loop.time()))
        if self._sending:
            await asyncio.gather(*self._sending.values(), return_exceptions=True)

    def has_claimed(self, contact_id: str) -> bool:
        """Whether this process holds replies of the contact still to send."""
        return contact_id in self._to_send

    def queue(self, jobs: list[OutboxJob]) -> None:
        """Replies claimed by this process, to send in order after those already queued."""
        for job in jobs:
            self._to_send.setdefault(job.contact_id, deque()).append(job)
        if jobs:
            self.shared.wake_outbox.set()

    def _start_senders(self) -> None:
        for contact_id in list(self._to_send):
            if contact_id in self._sending:
                continue
            if len(self._sending) >= self.concurrency:
                break
            task = asyncio.create_task(self._send_contact(contact_id))
            self._sending[contact_id] = task

    async def _send_contact(self, contact_id: str) -> None:
        try:
            queue = self._to_send.get(contact_id)
            while queue:
                job = queue.popleft()
                sent = await self._send_one(job)
                if sent == _HELD:
                    # The user was asked to write again: what follows waits with this reply.
                    self._hold([later.id for later in queue])
                    queue.clear()
                elif not sent:
                    # Kept in order: what follows waits behind the reply that failed.
                    self._unclaim([later.id for later in queue])
                    queue.clear()
        except Exception:
            log.exception("outbox: sending to a contact failed")
            self._unclaim([later.id for later in self._to_send.get(contact_id) or ()])
        finally:
            self._to_send.pop(contact_id, None)
            self._sending.pop(contact_id, None)
            self.shared.wake_outbox.set()

    def _claim_due(self, limit: int) -> list[OutboxJob]:
        """The scan: the oldest unsent reply of each contact, if due, claimed by this worker
        (a conditional update, so two processes never send the same reply)."""
        now = utcnow()
        with self.shared.db.session() as session:
            oldest = (
                select(func.min(OutboxMessage.id))
                .where(OutboxMessage.status == "pending",
                       OutboxMessage.channel.in_(list(self.shared.senders)))
                .group_by(OutboxMessage.contact_id)
            )
            candidates = session.execute(
                select(OutboxMessage.id, OutboxMessage.contact_id)
                .where(OutboxMessage.id.in_(oldest), OutboxMessage.next_attempt_at <= now)
                .order_by(OutboxMessage.id).limit(limit + len(self._sending))
            ).all()
            jobs: list[OutboxJob] = []
            for candidate in candidates:
                if len(jobs) >= limit:
                    break
                if candidate.contact_id in self._to_send:
                    continue
                row = sql.run(session, sql.CLAIM_REPLY, b_id=candidate.id, b_now=now,
                              b_owner=self.shared.worker_id,
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
        with self.shared.db.session() as session:
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(outbox_ids),
                       OutboxMessage.lease_owner == self.shared.worker_id)
                .values(lease_owner=None, next_attempt_at=utcnow())
                .execution_options(synchronize_session=False))

    def _hold(self, outbox_ids: list[int]) -> None:
        if not outbox_ids:
            return
        with self.shared.db.session() as session:
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(outbox_ids), OutboxMessage.status == "pending")
                .values(status="held", lease_owner=None,
                        last_error="held until the user writes again (a template was sent)")
                .execution_options(synchronize_session=False))

    async def _send_one(self, job: OutboxJob) -> bool | str:
        """Send one claimed reply; False when it was not sent (retried later, or failed),
        _HELD when it waits for the user to write again."""
        sender = self.shared.senders[job.channel]
        address = self.shared.address(job.contact_id, job.channel)
        if address is None:  # the contact erased their data meanwhile
            self._mark(job, status="failed", last_error="no address")
            return False
        if job.last_inbound_at is None and sender.holds_replies:
            # Not an answer to a message just received: if a reply is already held for this
            # user (a template went out), this one waits with it rather than send another.
            with self.shared.db.session() as session:
                if sql.run(session, sql.ANY_HELD, b_contact=job.contact_id).first() is not None:
                    self._hold([job.id])
                    return _HELD
        attempts = job.attempts + 1
        try:
            result = await sender.send(address, Reply.from_json(job.payload),
                                       last_inbound_at=job.last_inbound_at)
        except SendError as exc:
            if not exc.retryable or attempts >= MAX_SEND_ATTEMPTS:
                log.error("outbox: reply %s failed for good after %d attempt(s): %s",
                          job.id, attempts, exc)
                self._mark(job, status="failed", attempts=attempts, last_error=str(exc)[:500])
                return False
            delay = exc.retry_after if exc.retry_after else backoff_seconds(attempts)
            log.warning("outbox: reply %s not accepted (%s); retry in %.1f s", job.id, exc, delay)
            self._mark(job, attempts=attempts, last_error=str(exc)[:500],
                       next_attempt_at=utcnow() + timedelta(seconds=delay))
            return False
        sent = result if isinstance(result, Sent) else Sent(result)
        self._mark(job, status="held" if sent.held else "sent", attempts=attempts,
                   provider_message_id=sent.provider_message_id, sent_at=utcnow(),
                   last_error=sent.note)
        return _HELD if sent.held else True

    def _mark(self, job: OutboxJob, **values: Any) -> None:
        values["lease_owner"] = None
        with self.shared.db.session() as session:
            sql.run(session, sql.update_by_id("outbox", tuple(sorted(values))), b_id=job.id,
                    **{f"b_{k}": v for k, v in values.items()})


_STATUS_RANK = {"pending": 0, "sent": 1, "delivered": 2, "read": 3}


def record_delivery_status(shared: Shared, channel: Channel, provider_message_id: str,
                           status: str, error: str | None = None) -> bool:
    """A channel's delivery receipt (sent/delivered/read/failed). Receipts arrive out of
    order: a status never moves backwards, and `failed` does not undo `read`."""
    with shared.db.session() as session:
        row = session.scalar(select(OutboxMessage).where(
            OutboxMessage.channel == channel.value,
            OutboxMessage.provider_message_id == provider_message_id))
        if row is None:
            return False
        if row.status == "held":
            pass  # a receipt of the template sent in its place: the reply still waits
        elif status == "failed":
            if row.status != "read":
                row.status, row.last_error = "failed", (error or "failed")[:500]
        elif status in _STATUS_RANK and _STATUS_RANK[status] > _STATUS_RANK.get(row.status, 0):
            row.status = status
        row.status_updated_at = utcnow()
    return True
