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
    __table_args__ = (Index("ix_outbox_due", "status", "next_attempt_at"),)

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
