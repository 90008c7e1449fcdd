"""The one way the dialogue reaches data: requests, contacts, consents, shared inbox lines,
call-back drafts, erasure requests and the learning loop's misses.

The dialogue (`bot.actions.dialogue.Talk`) is handed a `Repository`; flows call its methods
and never open a session or query a table themselves. `SqlRepository` is the app's (each
method is one transaction); a flow test passes a fake with the same methods.

What crosses this boundary is plain values (codes, ids, texts, `RequestView`), never ORM rows
bound to a session that has already closed.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

from sqlalchemy import select

from bot.store import misses
from bot.store import requests as store
from bot.store.db import Database
from bot.store.models import ChannelIdentity, Contact, InboxMessage, utcnow

log = logging.getLogger(__name__)

SHARE_LIMIT = 3  # the last typed messages a miner is offered to share with a partner
MEDIA_LIMIT = 5  # voice notes and photos attached to one report
# Messages not worth showing to a partner ("1", "ok", "merci").
NOT_WORTH_SHARING = re.compile(r"^\s*(\d{1,2}|menu|ok|oui|non|merci)?\s*[.!?]*\s*$", re.I)

# Where a call-back number comes from: typed in a sensitive step and kept encrypted on the
# contact (`draft`), or the channel address the message came from (`channel`, WhatsApp).
CallbackNumber = Literal["draft", "channel"]


@dataclass(frozen=True)
class RequestView:
    """What the dialogue shows of a request (to the contact who made it only)."""

    reference_code: str
    category: str
    status: str
    due_at: datetime | None = None
    partner_message: str | None = None


@dataclass(frozen=True)
class NewRequest:
    """What the miner is told of a request just stored."""

    reference_code: str
    due_at: datetime | None = None


class Repository(Protocol):
    """Everything the dialogue reads or writes (see `SqlRepository` for the meaning)."""

    def request_codes(self, contact_id: str | None) -> list[str]: ...

    def find_request(self, contact_id: str | None, code: str) -> RequestView | None: ...

    def create_request(self, *, contact_id: str | None, category: str, channel: str,
                       callback_number: CallbackNumber | None = None,
                       shared_messages: list[int] | None = None,
                       **fields: object) -> NewRequest | None: ...

    def callback_available(self, country: str | None) -> bool: ...

    def has_callback_draft(self, contact_id: str | None) -> bool: ...

    def clear_callback_draft(self, contact_id: str | None) -> None: ...

    def withdraw_callback(self, contact_id: str | None) -> None: ...

    def shareable_messages(self, contact_id: str | None) -> list[tuple[int, str]]: ...

    def media_since(self, contact_id: str | None, since: datetime | None) -> list[int]: ...

    def request_erasure(self, contact_id: str | None) -> None: ...

    def keep_miss(self, *, contact_id: str, text: str, channel: str | None,
                  language: str | None, country: str | None, intent: str | None,
                  confidence: float | None, suggested: list[str]) -> None: ...

    def note_chosen_suggestion(self, contact_id: str, answer_id: str) -> None: ...


class SqlRepository:
    """The app's data, through its database (one transaction per call)."""

    def __init__(self, database: Database):
        self.database = database

    # ---- requests --------------------------------------------------------------------
    def request_codes(self, contact_id: str | None) -> list[str]:
        """The contact's latest requests' codes (newest first)."""
        if not contact_id:
            return []
        with self.database.session() as session:
            return [r.reference_code for r in store.requests_of(session, contact_id)]

    def find_request(self, contact_id: str | None, code: str) -> RequestView | None:
        """The request with this code, only if this contact made it."""
        with self.database.session() as session:
            request = store.find_for_contact(session, code, contact_id)
            if request is None:
                return None
            return RequestView(request.reference_code, request.category, request.status,
                               request.due_at, request.partner_message)

    def create_request(self, *, contact_id: str | None, category: str, channel: str,
                       callback_number: CallbackNumber | None = None,
                       shared_messages: list[int] | None = None,
                       **fields: object) -> NewRequest | None:
        """Store a request (`bot.store.requests.create_request` takes `fields`).

        `callback_number` takes the consented number in the same transaction (the typed
        draft, or the channel's address); None is returned, and nothing stored, when that
        number is missing. `shared_messages` are inbox ids the miner agreed to share: their
        text becomes the summary, with the `share_conversation` consent."""
        with self.database.session() as session:
            if callback_number is not None:
                encrypted = _take_draft(session, contact_id)
                if callback_number == "channel":
                    encrypted = session.scalar(select(ChannelIdentity.address_encrypted).where(
                        ChannelIdentity.contact_id == contact_id,
                        ChannelIdentity.channel == channel))
                if not encrypted:
                    return None
                fields.update(callback_method="phone", callback_contact_encrypted=encrypted)
            if shared_messages:
                rows = session.execute(select(InboxMessage.id, InboxMessage.text).where(
                    InboxMessage.id.in_(shared_messages),
                    InboxMessage.contact_id == contact_id)).all()
                summary = shared_summary({row.id: row.text for row in rows}, shared_messages)
                fields.update(summary=summary, share_conversation=summary is not None)
            request = store.create_request(session, contact_id=contact_id, category=category,
                                           channel=channel, **fields)  # type: ignore[arg-type]
            return NewRequest(request.reference_code, request.due_at)

    # ---- call-backs and consents -----------------------------------------------------
    def callback_available(self, country: str | None) -> bool:
        with self.database.session() as session:
            return store.callback_available(session, country)

    def has_callback_draft(self, contact_id: str | None) -> bool:
        """A call-back number typed in a sensitive step waits on the contact (encrypted)."""
        with self.database.session() as session:
            contact = session.get(Contact, contact_id) if contact_id else None
            return contact is not None and contact.callback_draft is not None

    def clear_callback_draft(self, contact_id: str | None) -> None:
        if contact_id:
            with self.database.session() as session:
                _take_draft(session, contact_id)

    def withdraw_callback(self, contact_id: str | None) -> None:
        """Withdraw the call-back consent: the number is erased from open requests."""
        if contact_id:
            with self.database.session() as session:
                store.withdraw_consent(session, contact_id, "callback")

    # ---- the inbox lines a miner shares ---------------------------------------------
    def shareable_messages(self, contact_id: str | None) -> list[tuple[int, str]]:
        """The contact's last typed messages worth showing a partner, oldest first (none from
        sensitive steps: those have no text)."""
        if not contact_id:
            return []
        with self.database.session() as session:
            rows = session.execute(
                select(InboxMessage.id, InboxMessage.text)
                .where(InboxMessage.contact_id == contact_id, InboxMessage.kind == "text",
                       InboxMessage.text.is_not(None), InboxMessage.status == "done")
                .order_by(InboxMessage.id.desc()).limit(SHARE_LIMIT * 3)).all()
        kept = [(row.id, " ".join(row.text.split())[:200]) for row in rows
                if not NOT_WORTH_SHARING.match(row.text)]
        return list(reversed(kept[:SHARE_LIMIT]))

    def media_since(self, contact_id: str | None, since: datetime | None) -> list[int]:
        """Voice notes and photos the contact sent since `since` (the last few)."""
        if not contact_id:
            return []
        query = select(InboxMessage.id).where(InboxMessage.contact_id == contact_id,
                                              InboxMessage.kind.in_(("voice", "media")))
        if since is not None:
            query = query.where(InboxMessage.received_at >= since)
        with self.database.session() as session:
            return list(session.scalars(query.order_by(InboxMessage.id)))[-MEDIA_LIMIT:]

    # ---- erasure and the learning loop ----------------------------------------------
    def request_erasure(self, contact_id: str | None) -> None:
        """Mark the contact for erasure; the gateway erases after the turn."""
        if not contact_id:
            return
        with self.database.session() as session:
            contact = session.get(Contact, contact_id)
            if contact is not None and contact.erase_requested_at is None:
                contact.erase_requested_at = utcnow()
                log.info("privacy: erasure requested by %s", contact_id)

    def keep_miss(self, *, contact_id: str, text: str, channel: str | None,
                  language: str | None, country: str | None, intent: str | None,
                  confidence: float | None, suggested: list[str]) -> None:
        with self.database.session() as session:
            misses.record_miss(session, contact_id=contact_id, text=text, channel=channel,
                               language=language, country=country, intent=intent,
                               confidence=confidence, suggested=suggested)

    def note_chosen_suggestion(self, contact_id: str, answer_id: str) -> None:
        with self.database.session() as session:
            misses.record_choice(session, contact_id, answer_id)


def shared_summary(texts: dict[int, str | None], ids: list[int]) -> str | None:
    """The shared messages, in the order shown, one a line (None: nothing left to share)."""
    lines = (" ".join((texts.get(i) or "").split()) for i in ids)
    return "\n".join(line for line in lines if line) or None


def _take_draft(session, contact_id: str | None) -> str | None:
    """The encrypted number typed in a sensitive step, forgotten on the contact."""
    contact = session.get(Contact, contact_id) if contact_id else None
    if contact is None:
        return None
    draft, contact.callback_draft = contact.callback_draft, None
    return draft


def default_repository() -> Repository:
    """The app's repository (the database `bot.store.requests.database()` points at)."""
    return SqlRepository(store.database())
