"""Intake: store an inbound message and its contact before the channel's webhook is answered.

One transaction, deduplicated on (channel, channel_message_id): a redelivery fails on that
unique key and is then looked up. In a sensitive step (the protection flow) typed input is
read in process (`privacy.handle_private_input`) and never stored. A message hands its contact
to this process's inbox worker at once; a reply held for the contact (WhatsApp's 24-hour
window) is due again, since the user wrote.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.core import privacy
from bot.core.answering import MAX_TEXT_CHARS
from bot.core.delivery import statements as sql
from bot.core.delivery.shared import Shared
from bot.core.messages import Inbound, InboundKind
from bot.store.models import Contact, InboxMessage, MediaFile, utcnow

log = logging.getLogger(__name__)


@dataclass
class Accepted:
    inbox_id: int
    contact_id: str
    duplicate: bool


class Intake:
    def __init__(self, shared: Shared):
        self.shared = shared

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
        shared = self.shared
        channel = inbound.channel.value
        digest = shared.vault.hash(channel, inbound.address)
        now = utcnow()
        with shared.db.session() as session:
            if careful:
                existing = session.execute(
                    select(InboxMessage.id, InboxMessage.contact_id).where(
                        InboxMessage.channel == channel,
                        InboxMessage.channel_message_id == inbound.channel_message_id)
                ).first()
                if existing is not None:
                    return Accepted(existing.id, existing.contact_id, duplicate=True)
            contact = self._touch_contact(session, channel, digest, inbound.address, now)
            record: dict[str, Any] = inbound.to_record()
            text = record.pop("text")
            media = inbound.media
            if contact.sensitive_mode and inbound.kind != InboundKind.CHOICE:
                # A sensitive step (protection flow): read in process, keep nothing typed.
                private = privacy.handle_private_input(
                    contact.sensitive_mode, inbound.kind.value, text, contact.last_choices,
                    shared.vault.encrypt)
                if private.callback_draft:
                    session.execute(update(Contact).where(Contact.id == contact.id)
                                    .values(callback_draft=private.callback_draft)
                                    .execution_options(synchronize_session=False))
                record = {"kind": inbound.kind.value, "private": {"choice": private.choice}}
                text, media = None, None
            # A redelivered message fails here on (channel, channel_message_id): see accept().
            inbox_id = sql.run(
                session, sql.INSERT_INBOX, channel=channel,
                channel_message_id=inbound.channel_message_id, contact_id=contact.id,
                kind=inbound.kind.value, text=text[:MAX_TEXT_CHARS * 2] if text else text,
                payload=record, status="pending", attempts=0, acknowledged=False,
                received_at=now).scalar_one()
            released = 0
            if shared.holds_replies(channel):
                released = sql.run(session, sql.RELEASE_HELD, b_contact=contact.id,
                                   b_now=now).rowcount
            if media is not None:  # fetched later by the channel; never dropped
                session.add(MediaFile(inbox_id=inbox_id, contact_id=contact.id,
                                      channel=channel, kind=media.kind,
                                      ref=media.ref, mime_type=media.mime_type))
        accepted = Accepted(inbox_id, contact.id, duplicate=False)
        shared.contact_ids.put((channel, digest), contact.id)
        if channel in shared.senders:
            shared.addresses.put(contact.id, inbound.address)
        log.info("inbox: accepted message %s (%s, %s)", accepted.inbox_id, channel,
                 inbound.kind.value)
        shared.ready.add(contact.id, channel)
        shared.wake_inbox.set()
        if released:
            log.info("outbox: %d held repl%s of %s due again (the user wrote)", released,
                     "y" if released == 1 else "ies", contact.id)
            shared.wake_outbox.set()
        return accepted

    def _touch_contact(self, session: Session, channel: str, digest: str, address: str,
                       now: datetime) -> Any:
        """The message's contact (a Contact, or a row of its id, sensitive mode and last
        choices), created if new, with `last_inbound_at` moved to now."""
        contact_id = self.shared.contact_ids.get_fresh((channel, digest))
        if contact_id is not None:
            row = sql.run(session, sql.TOUCH_CONTACT, b_id=contact_id, b_now=now).first()
            if row is not None:
                return row
            self.shared.contact_ids.pop((channel, digest), None)  # erased meanwhile
        contact = self.shared.vault.find_or_create_contact(session, channel, address)
        contact.last_inbound_at = now
        return contact
