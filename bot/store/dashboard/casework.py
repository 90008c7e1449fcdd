"""Working on one request: attachments, notes, assignment, replies and status changes
(queued in the outbox for the miner), the call-back number and queue, saved replies."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.store import requests as store
from bot.store.dashboard.access import WRITE_ROLES, Principal, aware, can, visible
from bot.store.dashboard.accounts import AccountError
from bot.store.dashboard.audit import audit
from bot.store.dashboard.listing import OPEN_STATUSES
from bot.store.dashboard_models import (
    RequestAssignment,
    RequestNote,
    RequestReply,
    SavedReply,
    User,
)
from bot.store.models import Contact, FollowUpRequest, MediaFile, OutboxMessage, utcnow

NOTE_LIMIT = 2000
REPLY_LIMIT = 1000
WHATSAPP_WINDOW = timedelta(hours=24)


# --------------------------------------------------------------- request page
@dataclass
class Attachment:
    id: int
    kind: str
    mime_type: str | None
    size: int | None
    stored: bool


def attachments(session: Session, request: FollowUpRequest) -> list[Attachment]:
    if request.sensitive or not request.attachments:
        return []
    ids = [int(i) for i in request.attachments if str(i).isdigit()]
    rows = session.scalars(select(MediaFile).where(MediaFile.inbox_id.in_(ids))
                           .order_by(MediaFile.id)).all()
    return [Attachment(m.id, m.kind, m.mime_type, m.size, m.status == "stored" and bool(m.path))
            for m in rows]


def attachment_file(session: Session, request: FollowUpRequest,
                    media_id: int) -> MediaFile | None:
    """The stored file of one of this request's attachments, else None."""
    if request.sensitive or not request.attachments:
        return None
    media = session.get(MediaFile, media_id)
    ids = {int(i) for i in request.attachments if str(i).isdigit()}
    if media is None or media.inbox_id not in ids or media.status != "stored" or not media.path:
        return None
    return media


def notes(session: Session, request: FollowUpRequest) -> list[RequestNote]:
    return list(session.scalars(select(RequestNote).where(RequestNote.request_id == request.id)
                                .order_by(RequestNote.at, RequestNote.id)))


def add_note(session: Session, user: Principal, request: FollowUpRequest, text: str) -> RequestNote:
    text = (text or "").strip()
    if not text:
        raise ValueError("empty note")
    if not can(user, "note", request):
        raise PermissionError("note")
    note = RequestNote(request_id=request.id, user_id=user.user_id, username=user.username,
                       text=text[:NOTE_LIMIT])
    session.add(note)
    audit(session, user, "note", request_code=request.reference_code)
    return note


def assignment(session: Session, request: FollowUpRequest) -> User | None:
    row = session.get(RequestAssignment, request.id)
    return session.get(User, row.user_id) if row and row.user_id else None


def assignable_users(session: Session, user: Principal,
                     request: FollowUpRequest) -> list[User]:
    """Colleagues who could follow this request (active, of the user's organisation, and
    protection staff for a protection request)."""
    if not can(user, "assign", request):
        return []
    query = select(User).where(User.organisation_id == user.organisation_id,
                               User.active.is_(True), User.role.in_(tuple(WRITE_ROLES)))
    if request.sensitive:
        query = query.where(User.role == "protection")
    return list(session.scalars(query.order_by(User.username)))


def assign(session: Session, user: Principal, request: FollowUpRequest,
           assignee_id: int | None) -> None:
    if not can(user, "assign", request):
        raise PermissionError("assign")
    assignee = None
    if assignee_id is not None:
        assignee = next((u for u in assignable_users(session, user, request)
                         if u.id == assignee_id), None)
        if assignee is None:
            raise ValueError("not a colleague who can follow this request")
    row = session.get(RequestAssignment, request.id) or RequestAssignment(request_id=request.id)
    row.user_id = assignee.id if assignee else None
    row.assigned_by, row.at = user.username, utcnow()
    session.add(row)
    store.add_event(session, request, "assigned_to",
                    message=assignee.username if assignee else None, actor=user.username)
    if assignee is not None and request.status == "new":
        store.change_status(session, request, "assigned", actor=user.username)
    audit(session, user, "assign", request_code=request.reference_code,
          detail=assignee.username if assignee else "-")


# --------------------------------------------------------- talking to the miner
def _last_outbox_id(session: Session, contact_id: str | None) -> int:
    if not contact_id:
        return 0
    return session.scalar(select(func.max(OutboxMessage.id)).where(
        OutboxMessage.contact_id == contact_id)) or 0


def _send_update(session: Session, user: Principal, request: FollowUpRequest,
                 status: str | None, message: str | None, kind: str) -> RequestReply | None:
    from bot.core.notify import record_partner_update

    before = _last_outbox_id(session, request.contact_id)
    record_partner_update(session, request, status, message, actor=user.username)
    # The row record_partner_update queued (this transaction's, for this contact).
    rows = list(session.scalars(select(OutboxMessage.id).where(
        OutboxMessage.contact_id == request.contact_id, OutboxMessage.id > before)
        .order_by(OutboxMessage.id).limit(1))) if request.contact_id else []
    if not rows and not message:
        return None
    reply = RequestReply(request_id=request.id, outbox_id=rows[0] if rows else None,
                         user_id=user.user_id, username=user.username, kind=kind,
                         text=message)
    session.add(reply)
    session.flush()
    return reply


def reply(session: Session, user: Principal, request: FollowUpRequest,
          message: str) -> RequestReply:
    """The partner's message to the miner, queued in the outbox on the miner's channel."""
    message = (message or "").strip()[:REPLY_LIMIT]
    if not message:
        raise ValueError("empty message")
    if not can(user, "reply", request):
        raise PermissionError("reply")
    result = _send_update(session, user, request, None, message, "reply")
    assert result is not None  # a message is always recorded, sent or not
    audit(session, user, "reply", request_code=request.reference_code,
          detail="queued" if result and result.outbox_id else "not sent (no contact)")
    return result


def set_status(session: Session, user: Principal, request: FollowUpRequest, status: str,
               message: str | None = None) -> RequestReply | None:
    """A status change along the workflow (store.InvalidTransition otherwise); the miner hears
    of it, with the message if there is one."""
    if not can(user, "status", request):
        raise PermissionError("status")
    message = (message or "").strip()[:REPLY_LIMIT] or None
    if status == request.status and not message:
        raise store.InvalidTransition(f"already {status}")
    if status != request.status and status not in store.TRANSITIONS.get(request.status, ()):
        raise store.InvalidTransition(f"{request.status} -> {status} is not allowed")
    previous = request.status
    result = _send_update(session, user, request, status, message, "status")
    audit(session, user, "status", request_code=request.reference_code,
          detail=f"{previous} -> {status}")
    return result


@dataclass
class Delivery:
    at: datetime
    username: str | None
    kind: str
    text: str | None
    state: str  # pending | sent | delivered | read | failed | held | none
    error: str | None


def deliveries(session: Session, request: FollowUpRequest) -> list[Delivery]:
    rows = session.execute(
        select(RequestReply, OutboxMessage.status, OutboxMessage.last_error)
        .outerjoin(OutboxMessage, OutboxMessage.id == RequestReply.outbox_id)
        .where(RequestReply.request_id == request.id)
        .order_by(RequestReply.at, RequestReply.id)).all()
    return [Delivery(row.at, row.username, row.kind, row.text,
                     status or ("none" if row.outbox_id is None else "sent"),
                     error if status == "failed" else None)
            for row, status, error in rows]


def reply_window(session: Session, request: FollowUpRequest) -> str:
    """How a reply would reach the miner now: `open`, `closed` (WhatsApp, 24 h since the
    miner last wrote: the approved template goes, the reply is held until they write),
    or `none` (no contact: anonymised, or erasure pending)."""
    if not request.contact_id:
        return "none"
    contact = session.get(Contact, request.contact_id)
    if contact is None or contact.erase_requested_at is not None:
        return "none"
    if request.channel == "whatsapp":
        last = aware(contact.last_inbound_at)
        if last is None or utcnow() - last > WHATSAPP_WINDOW:
            return "closed"
    return "open"


def reveal_callback(session: Session, user: Principal, request: FollowUpRequest,
                    vault: Any) -> str | None:
    """The call-back number, decrypted for an allowed user, and audited every time."""
    if not can(user, "reveal_callback", request) or not request.callback_contact_encrypted:
        return None
    audit(session, user, "reveal_callback", request_code=request.reference_code)
    return vault.decrypt(request.callback_contact_encrypted)


# ------------------------------------------------------------------ saved replies
def saved_replies(session: Session, user: Principal,
                  language: str | None = None) -> list[SavedReply]:
    """The organisation's saved replies (in `language` first, then French, when given)."""
    query = select(SavedReply).where(SavedReply.organisation_id == user.organisation_id)
    rows = list(session.scalars(query.order_by(SavedReply.language, SavedReply.title)))
    if language:
        rows = [r for r in rows if r.language == language] + \
               [r for r in rows if r.language == "fr" and language != "fr"]
    return rows


def save_reply(session: Session, user: Principal, language: str, title: str,
               text: str) -> SavedReply:
    if user.role != "admin":
        raise PermissionError("saved replies")
    title, text = (title or "").strip()[:80], (text or "").strip()[:REPLY_LIMIT]
    if not title or not text or not re.fullmatch(r"[a-z]{2,3}", language or ""):
        raise AccountError("Il faut une langue, un titre et un texte.")
    row = SavedReply(organisation_id=user.organisation_id, language=language, title=title,
                     text=text, updated_by=user.username)
    session.add(row)
    audit(session, user, "saved_reply_added", detail=f"{language} {title}")
    return row


def delete_saved_reply(session: Session, user: Principal, reply_id: int) -> bool:
    row = session.get(SavedReply, reply_id)
    if user.role != "admin" or row is None or row.organisation_id != user.organisation_id:
        return False
    session.delete(row)
    audit(session, user, "saved_reply_deleted", detail=f"{row.language} {row.title}")
    return True


def saved_reply(session: Session, user: Principal, reply_id: int) -> SavedReply | None:
    row = session.get(SavedReply, reply_id)
    return row if row is not None and row.organisation_id == user.organisation_id else None


# -------------------------------------------------------------- call-back queue
CALLBACK_OUTCOMES = ("called", "no_answer", "try_again")


def callback_queue(session: Session, user: Principal, limit: int = 100) -> list[FollowUpRequest]:
    """Open protection requests with a consented call-back, for the protection staff of the
    partner they are routed to, the most urgent first."""
    if user.role != "protection" or user.organisation_kind != "partner":
        return []
    r = FollowUpRequest
    return list(session.scalars(select(r).where(
        visible(user), r.sensitive.is_(True), r.callback_consent.is_(True),
        r.status.in_(OPEN_STATUSES)).order_by(r.due_at, r.id).limit(limit)))


def record_callback_outcome(session: Session, user: Principal, request: FollowUpRequest,
                            outcome: str) -> None:
    """Called, no answer, try again: the outcome and nothing else is recorded."""
    if outcome not in CALLBACK_OUTCOMES:
        raise ValueError(f"unknown outcome {outcome!r}")
    if not can(user, "reveal_callback", request) and not (
            request.sensitive and can(user, "status", request)):
        raise PermissionError("callback")
    store.add_event(session, request, "callback", message=outcome, actor=user.username)
    if outcome == "called" and request.status in ("new", "assigned"):
        store.change_status(session, request, "in_progress", actor=user.username)
    audit(session, user, "callback_outcome", request_code=request.reference_code,
          detail=outcome)
