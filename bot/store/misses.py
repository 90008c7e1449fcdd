"""The learning loop: messages the assistant did not understand, and what they meant.

`record_miss` keeps a typed message that no intent matched confidently, with what was
suggested instead; `record_choice` notes which suggestion the user then pressed. The dialogue
calls both (it runs in the action server, on the app's database: `bot.store.requests.database`),
and never for a private or sensitive message. Erased with the contact's data
(`bot.core.privacy.erase_contact_data`).
"""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.core.normalize import normalize
from bot.store.models import UnderstandingMiss, utcnow

TEXT_LIMIT = 500
CHOICE_WINDOW = timedelta(hours=2)
# A phone number as people type it (+223 76 12 34 56, 76-12-34-56, 0022376123456), and any
# other run of 6+ digits (an id card, an account): personal data, never kept.
_PHONE = re.compile(r"\+?\d(?:[\s.\-/]?\d){7,}")
_DIGITS = re.compile(r"\d{6,}")


def mask(text: str) -> str:
    """The normalized text with phone numbers and long digit runs masked."""
    text = normalize(text)
    text = _PHONE.sub("<tel>", text)
    return _DIGITS.sub("<num>", text)[:TEXT_LIMIT]


def record_miss(session: Session, *, contact_id: str | None, text: str, channel: str | None,
                language: str | None, country: str | None, intent: str | None,
                confidence: float | None, suggested: list[str]) -> int | None:
    """Keep one miss; returns its id (None when there is nothing worth keeping)."""
    masked = mask(text or "")
    if not masked.strip():
        return None
    miss = UnderstandingMiss(contact_id=contact_id, text=masked, channel=channel,
                             language=language, country=country, intent=intent,
                             confidence=confidence, suggested=list(suggested) or None)
    session.add(miss)
    session.flush()
    return miss.id


def record_choice(session: Session, contact_id: str, answer_id: str) -> bool:
    """The user pressed `answer_id`: note it on their latest miss that suggested it.

    Only the latest miss of the last two hours counts, and only once."""
    miss = session.scalars(
        select(UnderstandingMiss)
        .where(UnderstandingMiss.contact_id == contact_id,
               UnderstandingMiss.created_at >= utcnow() - CHOICE_WINDOW)
        .order_by(UnderstandingMiss.id.desc()).limit(1)
    ).first()
    if miss is None or miss.chosen or answer_id not in (miss.suggested or []):
        return False
    miss.chosen = answer_id
    miss.chosen_at = utcnow()
    return True
