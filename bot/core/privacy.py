"""Privacy mechanics the gateway applies: private input in sensitive steps, and erasure.

Sensitive steps (the protection flow, typing a call-back number). When the last reply a
contact received was `sensitive`, the gateway records which flow it belongs to
(`Contact.sensitive_mode`, see `sensitive_mode_of`). The next message is then read here, in
process, by `handle_private_input`: the inbox keeps no text, no media and no location, and
the dialogue receives only a content-free choice (`flow:protection:input`) and Rasa nothing,
so nothing the user typed reaches our tables, our logs or Rasa. The one exception
is a call-back number typed after consent: it is encrypted at once and kept in
`Contact.callback_draft` until the flow copies it into the request (or drops it), through
`bot.store.repository`.

Erasure ("delete my data"). The delete flow only marks the contact (`request_erasure`); the
action cannot erase the conversation it is part of. After the turn, the gateway calls
`after_turn`, which erases messages, consents, media and the conversation state at once and
anonymises the contact's requests (Rasa keeps nothing: it only reads texts);
`finish_erasures` (run by the inbox worker) deletes the contact and its channel identity once
the last confirmation has been delivered.
"""

from __future__ import annotations

import asyncio
import logging
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from bot.core.choice_match import match_choice, number_choice
from bot.core.messages import Reply
from bot.store.conversations import delete_state
from bot.store.db import Database
from bot.store.models import (
    Consent,
    Contact,
    FollowUpRequest,
    InboxMessage,
    MediaFile,
    OutboxMessage,
    RequestEvent,
    UnderstandingMiss,
    utcnow,
)

log = logging.getLogger(__name__)

# Words that end a sensitive flow at once (FACTS.md: "a way to erase the chat").
QUICK_EXIT_WORDS = frozenset({"stop", "sortir", "quitter", "quitte", "sors", "exit", "quit"})
CANCEL_WORDS = frozenset({"annuler", "annule"})
MENU_WORDS = frozenset({"menu", "0"})
_PHONE = re.compile(r"^\+?\d{8,15}$")
_NUMBER_CHOICE = re.compile(r"^\s*(\d{1,2})\s*[.)]?\s*$")
ERASURE_GRACE = timedelta(minutes=10)


# ------------------------------------------------------------------ private input
@dataclass(frozen=True)
class PrivateInput:
    """What a sensitive message becomes: a content-free choice id, and maybe an encrypted
    call-back number."""

    choice: str
    callback_draft: str | None = None


def sensitive_mode_of(reply: Reply) -> str | None:
    """The flow a sensitive reply belongs to (from its `flow:<name>:cancel` choice), or None."""
    if not reply.sensitive:
        return None
    for choice in reply.choices:
        parts = choice.id.split(":")
        if len(parts) == 3 and parts[0] == "flow" and parts[2] == "cancel":
            return parts[1][:32]
    return "protection"


DRAFT_FLOWS = ("report", "protection")  # the flows that take a typed call-back number


def keeps_callback_draft(reply: Reply) -> bool:
    """False once the conversation has left the flows that use a typed number (the menu,
    another flow): the gateway then forgets an unconfirmed number."""
    return any(c.id.split(":")[:2] in (["flow", name] for name in DRAFT_FLOWS)
               for c in reply.choices)


def _word(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text.strip().casefold())
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return re.sub(r"[^\w]+", " ", folded).strip()


def phone_digits(text: str) -> str | None:
    """The number in `text` if it is only a phone number ("+223 76 12 34 56"), else None."""
    compact = re.sub(r"[\s().\-/]+", "", text.strip())
    return compact if _PHONE.match(compact) else None


def handle_private_input(mode: str, kind: str, text: str | None,
                         last_choices: list[dict[str, str]] | None,
                         encrypt: Callable[[str], str]) -> PrivateInput:
    """Read a message sent in a sensitive step without keeping it.

    `mode` is the flow (Contact.sensitive_mode); buttons are handled before this is called.
    A typed menu number still selects a choice; "menu"/"0" opens the menu; "STOP", "sortir"
    or "quitter" exits; a phone number becomes an encrypted draft; the title of an offered
    choice (any language, close spelling) or a yes/no word selects it
    (`bot.core.choice_match`); anything else is dropped.
    """
    flow = mode or "protection"
    if kind != "text" or not text:
        return PrivateInput(f"flow:{flow}:input")
    if _NUMBER_CHOICE.match(text):
        # A menu number selects its choice (never one that cannot be undone).
        return PrivateInput(number_choice(text, last_choices or []) or f"flow:{flow}:input")
    word = _word(text)
    if word in QUICK_EXIT_WORDS:
        return PrivateInput(f"flow:{flow}:exit")
    if word in MENU_WORDS:
        return PrivateInput("menu:main")
    if word in CANCEL_WORDS:
        return PrivateInput(f"flow:{flow}:cancel")
    digits = phone_digits(text)
    if digits:
        return PrivateInput(f"flow:{flow}:number", callback_draft=encrypt(digits))
    # The title of an offered choice, in any language or close to it ("mali", "oui").
    chosen = match_choice(text, last_choices or [])
    if chosen:
        return PrivateInput(chosen)
    return PrivateInput(f"flow:{flow}:input")


# ----------------------------------------------------------------------- erasure
# What an anonymised request keeps, for statistics: its category, country, zone (cluster),
# status, the channel it came through, its partner and reference code, and its dates. The
# delete flow's sentence says exactly this; docs/SECURITY.md lists it.
KEPT_FOR_STATISTICS = ("category", "country", "cluster", "status", "channel", "partner_id",
                       "reference_code", "sensitive", "created_at", "updated_at", "due_at",
                       "notified_at", "anonymised_at")


def anonymise_request(session: Session, request: FollowUpRequest, *, actor: str = "miner",
                      when: datetime | None = None) -> None:
    """Keep only what statistics need (`KEPT_FOR_STATISTICS`): no contact, no call-back, no
    words (summary, partner message, the free text of its history), no place or GPS, no
    voice notes or photos, no language."""
    when = when or utcnow()
    request.contact_id = None
    request.callback_consent = False
    request.callback_method = request.callback_contact_encrypted = request.callback_time = None
    request.attachments = None
    request.summary = request.partner_message = None
    request.locality = request.latitude = request.longitude = None
    request.language = None
    request.notify_error = None
    if request.notified_at is None:
        request.notify_next_at = None  # nothing left worth announcing, nobody to call back
    session.execute(update(RequestEvent).where(RequestEvent.request_id == request.id)
                    .values(message=None))
    request.anonymised_at = request.updated_at = when
    session.add(RequestEvent(request_id=request.id, kind="anonymised", actor=actor, at=when))


def erase_contact_data(session: Session, contact_id: str, media_dir: Path | None = None) -> None:
    """Erase everything of a contact but the contact row, its channel identity and replies
    still waiting to be delivered (the confirmation of the erasure)."""
    for request in session.scalars(select(FollowUpRequest).where(
            FollowUpRequest.contact_id == contact_id)):
        anonymise_request(session, request)
    session.execute(delete(Consent).where(Consent.contact_id == contact_id))
    delete_state(session, contact_id)  # what the dialogue remembered (conversation_states)
    session.execute(delete(UnderstandingMiss).where(UnderstandingMiss.contact_id == contact_id))
    if media_dir is not None:
        for path in session.scalars(select(MediaFile.path).where(
                MediaFile.contact_id == contact_id, MediaFile.path.is_not(None))):
            if path is not None:
                _remove_file(media_dir, path)
    session.execute(delete(MediaFile).where(MediaFile.contact_id == contact_id))
    session.execute(update(OutboxMessage).where(OutboxMessage.contact_id == contact_id)
                    .values(inbox_id=None))
    session.execute(delete(InboxMessage).where(InboxMessage.contact_id == contact_id,
                                               InboxMessage.status != "pending"))
    session.execute(delete(OutboxMessage).where(OutboxMessage.contact_id == contact_id,
                                                OutboxMessage.status != "pending"))
    contact = session.get(Contact, contact_id)
    if contact is not None:
        contact.language = contact.country = None
        contact.cluster = None
        contact.last_choices = None
        contact.sensitive_mode = contact.callback_draft = None


def remove_media_file(media_dir: Path, relative: str) -> None:
    """Delete a stored media file (a path relative to MEDIA_DIR, never outside it)."""
    _remove_file(media_dir, relative)


def _remove_file(media_dir: Path, relative: str) -> None:
    path = (media_dir / relative).resolve()
    if media_dir.resolve() not in path.parents:
        return
    try:
        path.unlink()
    except FileNotFoundError:
        pass
    except OSError:
        log.exception("privacy: could not delete a media file")


async def after_turn(db: Database, contact_id: str, media_dir: Path | None = None) -> bool:
    """Run a requested erasure right after the turn that asked for it. True if it ran."""
    with db.session() as session:
        contact = session.get(Contact, contact_id)
        if contact is None or contact.erase_requested_at is None:
            return False
        erase_contact_data(session, contact_id, media_dir)
    if db.is_sqlite:  # the erased text leaves the write-ahead log too (in a thread: it may
        await asyncio.to_thread(db.after_erasure)  # wait for readers)
    log.info("privacy: data of %s erased; contact removed once the reply is delivered",
             contact_id)
    return True


async def finish_erasures(db: Database, media_dir: Path | None = None,
                          grace: timedelta = ERASURE_GRACE) -> int:
    """Delete the contacts whose erasure is due: last reply delivered, or `grace` has passed."""
    cutoff = utcnow() - grace
    with db.session() as session:
        due = []
        for marked in session.scalars(select(Contact).where(
                Contact.erase_requested_at.is_not(None))):
            pending = session.scalar(select(OutboxMessage.id).where(
                OutboxMessage.contact_id == marked.id, OutboxMessage.status == "pending")
                .limit(1))
            requested = marked.erase_requested_at
            if requested is None:
                continue
            if requested.tzinfo is None:
                requested = requested.replace(tzinfo=cutoff.tzinfo)
            if pending is None or requested < cutoff:
                due.append(marked.id)
    done = 0
    for contact_id in due:
        with db.session() as session:
            erase_contact_data(session, contact_id, media_dir)
            session.execute(delete(OutboxMessage).where(OutboxMessage.contact_id == contact_id))
            session.execute(delete(InboxMessage).where(InboxMessage.contact_id == contact_id))
            contact = session.get(Contact, contact_id)
            if contact is not None:
                session.delete(contact)  # channel identities go with it (ON DELETE CASCADE)
        if db.is_sqlite:
            await asyncio.to_thread(db.after_erasure)
        done += 1
        log.info("privacy: contact %s deleted", contact_id)
    return done
