"""The hot path's SQL, built once: SQLAlchemy then skips building and caching each statement
for every message (measured: ~400 us -> ~80 us a statement on SQLite). Parameters are `b_*`.
"""

from __future__ import annotations

from datetime import datetime, timezone
from functools import lru_cache
from typing import Any

from sqlalchemy import CursorResult, Table, bindparam, insert, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql import Executable

from bot.store.models import Contact, InboxMessage, OutboxMessage

CONTACTS: Table = Contact.__table__  # type: ignore[assignment]
INBOX: Table = InboxMessage.__table__  # type: ignore[assignment]
OUTBOX: Table = OutboxMessage.__table__  # type: ignore[assignment]
_C, _I, _O = CONTACTS, INBOX, OUTBOX

# ------------------------------------------------------------------ intake
TOUCH_CONTACT = (update(_C).where(_C.c.id == bindparam("b_id"))
                 .values(last_inbound_at=bindparam("b_now"))
                 .returning(_C.c.id, _C.c.sensitive_mode, _C.c.last_choices))
INSERT_INBOX = insert(_I).returning(_I.c.id)
# Replies held until the user writes again (WhatsApp's 24-hour window): due again at once.
RELEASE_HELD = (update(_O)
                .where(_O.c.contact_id == bindparam("b_contact"), _O.c.status == "held")
                .values(status="pending", next_attempt_at=bindparam("b_now"), lease_owner=None))

# ------------------------------------------------------------ inbox worker
CLAIM_CONTACT = (
    update(_C)
    .where(_C.c.id == bindparam("b_id"),
           or_(_C.c.lease_until.is_(None), _C.c.lease_until < bindparam("b_now"),
               _C.c.lease_owner == bindparam("b_owner")))
    .values(lease_owner=bindparam("b_owner"), lease_until=bindparam("b_until"))
    .returning(_C.c.language, _C.c.country, _C.c.last_choices, _C.c.last_inbound_at))
RELEASE_CONTACT = (update(_C)
                   .where(_C.c.id == bindparam("b_id"), _C.c.lease_owner == bindparam("b_owner"))
                   .values(lease_owner=None, lease_until=None))
NEXT_PENDING = (select(_I.c.id, _I.c.channel, _I.c.kind, _I.c.text, _I.c.payload,
                       _I.c.attempts, _I.c.next_attempt_at)
                .where(_I.c.contact_id == bindparam("b_contact"), _I.c.status == "pending")
                .order_by(_I.c.id).limit(1))
INBOX_DONE = (update(_I).where(_I.c.id == bindparam("b_id"))
              .values(status="done", processed_at=bindparam("b_now"),
                      attempts=bindparam("b_attempts")))
INSERT_OUTBOX = insert(_O).returning(_O.c.id)
PENDING_OWNERS = (select(_O.c.lease_owner)
                  .where(_O.c.contact_id == bindparam("b_contact"), _O.c.status == "pending")
                  .limit(20))
# What the turn's completion reads back of the contact.
AFTER_TURN = ("language", "country", "last_choices", "last_inbound_at", "erase_requested_at")

# ----------------------------------------------------------- outbox worker
ANY_HELD = (select(_O.c.id)
            .where(_O.c.contact_id == bindparam("b_contact"), _O.c.status == "held").limit(1))
CLAIM_REPLY = (
    update(_O)
    .where(_O.c.id == bindparam("b_id"), _O.c.status == "pending",
           _O.c.next_attempt_at <= bindparam("b_now"))
    .values(lease_owner=bindparam("b_owner"), next_attempt_at=bindparam("b_until"))
    .returning(_O.c.contact_id, _O.c.channel, _O.c.payload, _O.c.attempts))


@lru_cache(maxsize=64)
def update_by_id(table: str, columns: tuple[str, ...],
                 returning: tuple[str, ...] = ()) -> Executable:
    """UPDATE <table> SET <columns> WHERE id = :b_id [RETURNING ...], built once per shape."""
    target = {"contacts": _C, "outbox": _O}[table]
    statement = (update(target).where(target.c.id == bindparam("b_id"))
                 .values({name: bindparam(f"b_{name}") for name in columns}))
    if returning:
        return statement.returning(*(target.c[name] for name in returning))
    return statement


def run(session: Session, statement: Executable, **params: Any) -> CursorResult[Any]:
    """Execute a prebuilt Core statement in the session's transaction."""
    return session.connection().execute(statement, params)


def aware(value: datetime | None) -> datetime | None:
    """SQLite returns naive datetimes even for timezone-aware columns."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value
