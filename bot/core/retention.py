"""Retention: nothing a miner sent is kept forever (docs/SECURITY.md, promise 10).

Run by the gateway's housekeeping every `RETENTION_EVERY_MINUTES` (60), and by hand with
`python -m bot.store retention`. With the defaults:

- messages (`RETENTION_MESSAGE_DAYS`, 90): inbox rows (text, payload) answered more than 90
  days ago, with their media files, and replies (outbox) older than that; a voice note or
  photo attached to a request that is still open stays until the request is closed. Requests
  lose the references to what was deleted. Unrecognised messages kept for the NLU
  (`understanding_misses`) go after the same time;
- closed requests (`RETENTION_CLOSED_REQUEST_DAYS`, 365): a request closed or resolved more
  than 12 months ago is anonymised as "delete my data" does (bot/core/privacy.py): only its
  category, country, zone, status, channel and dates remain;
- the dialogue's memory of a conversation (`conversation_states`; `RETENTION_TRACKER_DAYS`, 90,
  named after the Rasa tracker it replaced): forgotten 90 days after the contact's last turn.

0 days turns a rule off. Every run ends with `Database.after_erasure()` (SQLite: the erased
text also leaves the write-ahead log).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Table, delete, select, update
from sqlalchemy.orm import Session

from bot.core import privacy
from bot.store.db import Database, rowcount
from bot.store.models import (
    ConversationState,
    FollowUpRequest,
    InboxMessage,
    MediaFile,
    OutboxMessage,
    UnderstandingMiss,
    utcnow,
)

log = logging.getLogger(__name__)

OPEN_STATUSES = ("new", "assigned", "in_progress")
CLOSED_STATUSES = ("resolved", "closed")
BATCH = 500


@dataclass(frozen=True)
class RetentionPolicy:
    message_days: int = 90
    closed_request_days: int = 365
    tracker_days: int = 90

    @classmethod
    def from_settings(cls, settings: Any) -> RetentionPolicy:
        return cls(message_days=settings.retention_message_days,
                   closed_request_days=settings.retention_closed_request_days,
                   tracker_days=settings.retention_tracker_days)


@dataclass
class RetentionReport:
    messages: int = 0
    replies: int = 0
    media_files: int = 0
    misses: int = 0
    requests_anonymised: int = 0
    conversation_states: int = 0

    def __str__(self) -> str:
        return ", ".join(f"{name.replace('_', ' ')}: {value}"
                         for name, value in self.__dict__.items())


def apply_retention(db: Database, policy: RetentionPolicy, *, now: datetime | None = None,
                    media_dir: Path | None = None) -> RetentionReport:
    """Apply the policy once, as of `now` (the clock is a parameter, for tests)."""
    now = now or utcnow()
    report = RetentionReport()
    if policy.message_days > 0:
        cutoff = now - timedelta(days=policy.message_days)
        with db.session() as session:
            _expire_messages(session, cutoff, media_dir, report)
    if policy.closed_request_days > 0:
        cutoff = now - timedelta(days=policy.closed_request_days)
        with db.session() as session:
            for request in session.scalars(select(FollowUpRequest).where(
                    FollowUpRequest.status.in_(CLOSED_STATUSES),
                    FollowUpRequest.anonymised_at.is_(None),
                    FollowUpRequest.updated_at < cutoff).limit(BATCH)):
                privacy.anonymise_request(session, request, actor="retention", when=now)
                report.requests_anonymised += 1
    if policy.tracker_days > 0:
        cutoff = now - timedelta(days=policy.tracker_days)
        with db.session() as session:
            report.conversation_states = rowcount(session.execute(delete(ConversationState).where(
                ConversationState.updated_at < cutoff)))
    if any(report.__dict__.values()):
        db.after_erasure()
        log.info("retention: %s", report)
    return report


def _expire_messages(session: Session, cutoff: datetime, media_dir: Path | None,
                     report: RetentionReport) -> None:
    keep: set[int] = set()  # media attached to requests still open
    for attachments in session.scalars(select(FollowUpRequest.attachments).where(
            FollowUpRequest.status.in_(OPEN_STATUSES),
            FollowUpRequest.attachments.is_not(None))):
        keep.update(int(i) for i in attachments or [] if isinstance(i, int))
    old = [row_id for row_id in session.scalars(select(InboxMessage.id).where(
        InboxMessage.status != "pending", InboxMessage.received_at < cutoff))
        if row_id not in keep]
    gone = set(old)
    for start in range(0, len(old), BATCH):
        chunk = old[start:start + BATCH]
        if media_dir is not None:
            for path in session.scalars(select(MediaFile.path).where(
                    MediaFile.inbox_id.in_(chunk), MediaFile.path.is_not(None))):
                if path is not None:
                    privacy.remove_media_file(media_dir, path)
        report.media_files += rowcount(session.execute(
            delete(MediaFile).where(MediaFile.inbox_id.in_(chunk))))
        session.execute(update(cast(Table, OutboxMessage.__table__)).where(
            OutboxMessage.inbox_id.in_(chunk)).values(inbox_id=None))
        report.messages += rowcount(session.execute(
            delete(InboxMessage).where(InboxMessage.id.in_(chunk))))
    if gone:  # requests no longer point at deleted messages
        for request in session.scalars(select(FollowUpRequest).where(
                FollowUpRequest.attachments.is_not(None))):
            remaining = [i for i in request.attachments or [] if i not in gone]
            if remaining != (request.attachments or []):
                request.attachments = remaining or None
    report.replies += rowcount(session.execute(delete(OutboxMessage).where(
        OutboxMessage.status != "pending", OutboxMessage.created_at < cutoff)))
    report.misses += rowcount(session.execute(delete(UnderstandingMiss).where(
        UnderstandingMiss.created_at < cutoff)))
