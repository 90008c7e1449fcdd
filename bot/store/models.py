"""Tables. Personal identifiers live only in `channel_identities`, encrypted.

Everything else refers to a contact by its pseudonymous id, which is also the Rasa sender id.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def new_contact_id() -> str:
    # Pseudonymous, unguessable, and meaningless outside this database.
    return "c_" + secrets.token_hex(10)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: DateTime(timezone=True), dict[str, Any]: JSON}


# BigInteger ids autoincrement on PostgreSQL; SQLite needs INTEGER for its rowid alias.
IdType = BigInteger().with_variant(Integer(), "sqlite")


class Contact(Base):
    __tablename__ = "contacts"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_contact_id)
    language: Mapped[str | None] = mapped_column(String(8))
    country: Mapped[str | None] = mapped_column(String(2))
    cluster: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_inbound_at: Mapped[datetime | None] = mapped_column()
    # The last choices offered, so that a typed number selects one (see DESIGN.md).
    last_choices: Mapped[list[dict[str, str]] | None] = mapped_column(JSON)
    # A lease: one worker processes a contact's inbox at a time, in order.
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column()
    # Follow-up requests (docs/REQUESTS.md). `sensitive_mode` is the flow whose last reply was
    # sensitive: the gateway then keeps no text and sends Rasa no text for this contact.
    sensitive_mode: Mapped[str | None] = mapped_column(String(32))
    # A call-back number typed in a sensitive step, encrypted, until the flow stores or drops it.
    callback_draft: Mapped[str | None] = mapped_column(Text)
    erase_requested_at: Mapped[datetime | None] = mapped_column(index=True)


class ChannelIdentity(Base):
    """A phone number or chat id: encrypted at rest, found by a keyed hash."""

    __tablename__ = "channel_identities"
    __table_args__ = (UniqueConstraint("channel", "address_hash"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    contact_id: Mapped[str] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )
    channel: Mapped[str] = mapped_column(String(16))
    address_hash: Mapped[str] = mapped_column(String(64))
    address_encrypted: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class InboxMessage(Base):
    """Every inbound message, stored before the channel's webhook is answered."""

    __tablename__ = "inbox"
    __table_args__ = (
        UniqueConstraint("channel", "channel_message_id"),
        Index("ix_inbox_pending", "status", "contact_id", "id"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(String(16))
    channel_message_id: Mapped[str] = mapped_column(String(128))
    contact_id: Mapped[str] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    # None when the text must not be kept (the protection flow); see DESIGN.md.
    text: Mapped[str | None] = mapped_column(Text)
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending|done|failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column()
    acknowledged: Mapped[bool] = mapped_column(default=False)  # "we received it" sent
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column()
    last_error: Mapped[str | None] = mapped_column(Text)


class OutboxMessage(Base):
    """Every reply, stored before it is sent, retried until the channel accepts it."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "status", "next_attempt_at"),
                      Index("ix_outbox_contact_pending", "contact_id", "status", "id"))

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    contact_id: Mapped[str] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )
    inbox_id: Mapped[int | None] = mapped_column(
        ForeignKey("inbox.id", ondelete="SET NULL"), index=True
    )
    channel: Mapped[str] = mapped_column(String(16))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    # pending -> sent -> delivered -> read ; or failed (visible, never silent)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The worker sending this reply; `next_attempt_at` is then the end of its lease.
    lease_owner: Mapped[str | None] = mapped_column(String(64), index=True)
    provider_message_id: Mapped[str | None] = mapped_column(String(128), index=True)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column()
    status_updated_at: Mapped[datetime | None] = mapped_column()


class MediaFile(Base):
    """A file a user sent (voice notes above all), fetched from the channel into MEDIA_DIR.

    Registered in the same transaction as its inbox message, so a crash before the download
    loses nothing: the channel's media worker fetches every `pending` row, retrying with backoff.
    """

    __tablename__ = "media_files"
    __table_args__ = (Index("ix_media_files_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    inbox_id: Mapped[int] = mapped_column(ForeignKey("inbox.id", ondelete="CASCADE"), index=True)
    contact_id: Mapped[str] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16))  # voice, audio, photo, document, video...
    ref: Mapped[str] = mapped_column(String(256))  # the channel's file id / media id
    mime_type: Mapped[str | None] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending|stored|failed
    path: Mapped[str | None] = mapped_column(Text)  # relative to MEDIA_DIR
    size: Mapped[int | None] = mapped_column(BigInteger)
    sha256: Mapped[str | None] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    stored_at: Mapped[datetime | None] = mapped_column()


# ---------------------------------------------------------------- follow-up requests
# What a miner asks a partner organisation to follow up (docs/REQUESTS.md). Contact ids only:
# the one phone number allowed here is a consented call-back number, encrypted.


class Partner(Base):
    """An organisation that follows up requests (Pact, FEMIMA, ...); from content/partners.yml."""

    __tablename__ = "partners"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    # How a new request is announced: "email" or "telegram" and the address / group chat id.
    notify_kind: Mapped[str | None] = mapped_column(String(16))
    notify_target: Mapped[str | None] = mapped_column(String(256))
    # The designated protection staff (call-backs after violence): never the general inbox.
    protection_notify_kind: Mapped[str | None] = mapped_column(String(16))
    protection_notify_target: Mapped[str | None] = mapped_column(String(256))
    active: Mapped[bool] = mapped_column(default=True)


class RoutingRule(Base):
    """Country x category -> partner; a None country or category matches any."""

    __tablename__ = "routing_rules"

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    country: Mapped[str | None] = mapped_column(String(2))
    category: Mapped[str | None] = mapped_column(String(32))
    partner_id: Mapped[str] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"))


class FollowUpRequest(Base):
    __tablename__ = "follow_up_requests"
    __table_args__ = (
        Index("ix_follow_up_requests_notify", "notified_at", "notify_next_at"),
        # The dashboard's lists and date filters (migrations 0007 and 0009).
        Index("ix_follow_up_requests_due", "due_at", "id"),
        Index("ix_follow_up_requests_partner_due", "partner_id", "due_at", "id"),
        Index("ix_follow_up_requests_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    reference_code: Mapped[str] = mapped_column(String(12), unique=True)
    # None once the miner has erased their data (the request stays, anonymised).
    contact_id: Mapped[str | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="SET NULL"), index=True
    )
    category: Mapped[str] = mapped_column(String(32))
    country: Mapped[str | None] = mapped_column(String(2))
    cluster: Mapped[int | None] = mapped_column(Integer)
    locality: Mapped[str | None] = mapped_column(String(120))
    latitude: Mapped[float | None] = mapped_column()
    longitude: Mapped[float | None] = mapped_column()
    channel: Mapped[str] = mapped_column(String(16))
    language: Mapped[str | None] = mapped_column(String(8))
    summary: Mapped[str | None] = mapped_column(Text)  # never for protection requests
    attachments: Mapped[list[int] | None] = mapped_column(JSON)  # inbox ids (voice, photos)
    callback_consent: Mapped[bool] = mapped_column(default=False)
    callback_method: Mapped[str | None] = mapped_column(String(16))  # channel | phone
    callback_contact_encrypted: Mapped[str | None] = mapped_column(Text)
    callback_time: Mapped[str | None] = mapped_column(String(16))  # morning|afternoon|...
    sensitive: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(16), default="new")
    partner_id: Mapped[str | None] = mapped_column(ForeignKey("partners.id", ondelete="SET NULL"))
    due_at: Mapped[datetime | None] = mapped_column()
    partner_message: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    anonymised_at: Mapped[datetime | None] = mapped_column()
    # The partner's notification: sent by a worker, retried with backoff.
    notified_at: Mapped[datetime | None] = mapped_column()
    notify_attempts: Mapped[int] = mapped_column(Integer, default=0)
    notify_next_at: Mapped[datetime | None] = mapped_column(default=utcnow)
    notify_error: Mapped[str | None] = mapped_column(Text)


class RequestEvent(Base):
    """The history of a request: created, status changes, messages, notifications."""

    __tablename__ = "request_events"

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("follow_up_requests.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(default=utcnow)
    kind: Mapped[str] = mapped_column(String(24))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str | None] = mapped_column(String(16))
    message: Mapped[str | None] = mapped_column(Text)
    actor: Mapped[str | None] = mapped_column(String(64))


class Consent(Base):
    """What a contact agreed to (`callback`, `share_conversation`), and when it was withdrawn."""

    __tablename__ = "consents"

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    contact_id: Mapped[str] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )
    request_id: Mapped[int | None] = mapped_column(
        ForeignKey("follow_up_requests.id", ondelete="SET NULL")
    )
    scope: Mapped[str] = mapped_column(String(32))
    given_at: Mapped[datetime] = mapped_column(default=utcnow)
    withdrawn_at: Mapped[datetime | None] = mapped_column()


# ---------------------------------------------------------------- the learning loop
class UnderstandingMiss(Base):
    """A typed message the assistant did not understand confidently, kept so that partners
    and the team see what people ask in their own words (docs/NLU.md, "Learning loop").

    Never written for a private or sensitive message (the protection flow, a disclosure);
    the text is normalized with phone numbers and long digit runs masked; erased with the
    contact's data. `suggested` are the answer ids offered ("Vouliez-vous parler de… ?"),
    `chosen` the one the user then pressed (what the message meant).
    """

    __tablename__ = "understanding_misses"

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    contact_id: Mapped[str | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )
    channel: Mapped[str | None] = mapped_column(String(16))
    language: Mapped[str | None] = mapped_column(String(8))
    country: Mapped[str | None] = mapped_column(String(2))
    text: Mapped[str] = mapped_column(Text)
    intent: Mapped[str | None] = mapped_column(String(64))  # the classifier's best guess
    confidence: Mapped[float | None] = mapped_column()
    suggested: Mapped[list[str] | None] = mapped_column(JSON)
    chosen: Mapped[str | None] = mapped_column(String(64))
    chosen_at: Mapped[datetime | None] = mapped_column()


class ConversationState(Base):
    """What the dialogue remembers of a contact (`bot.actions.dialogue.State` as a dict: the
    language, country, flow step, history, guide progress), and when the contact last wrote,
    so that a message after a pause is read as a return. Deleted with the contact's data."""

    __tablename__ = "conversation_states"

    contact_id: Mapped[str] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True
    )
    slots: Mapped[dict[str, Any]] = mapped_column(JSON)
    last_user_at: Mapped[datetime | None] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
