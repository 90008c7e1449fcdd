"""The dialogue's state of each contact (`conversation_states`): read before a turn, written
in the transaction that stores the turn's replies (bot/core/answering.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete
from sqlalchemy.orm import Session

from bot.store.models import ConversationState, utcnow


@dataclass
class SavedState:
    slots: dict[str, Any]
    last_user_at: datetime | None = None


def load_state(session: Session, contact_id: str) -> SavedState:
    """The contact's saved state; empty for a first message."""
    row = session.get(ConversationState, contact_id)
    if row is None:
        return SavedState({})
    last = row.last_user_at
    if last is not None and last.tzinfo is None:  # SQLite gives naive datetimes back
        last = last.replace(tzinfo=utcnow().tzinfo)
    return SavedState(dict(row.slots or {}), last)


def save_state(session: Session, contact_id: str, slots: dict[str, Any],
               last_user_at: datetime | None) -> None:
    row = session.get(ConversationState, contact_id)
    if row is None:
        session.add(ConversationState(contact_id=contact_id, slots=slots,
                                      last_user_at=last_user_at, updated_at=utcnow()))
        return
    row.slots = slots
    row.last_user_at = last_user_at
    row.updated_at = utcnow()


def delete_state(session: Session, contact_id: str) -> None:
    session.execute(delete(ConversationState).where(ConversationState.contact_id == contact_id))
