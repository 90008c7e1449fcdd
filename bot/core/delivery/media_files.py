"""The bookkeeping of files users send: `accept` registers a `media_files` row with the
message; the channel's media worker (bot/channels/media.py) asks for due files, downloads
them and reports here. A file is never dropped: failures are retried with backoff."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import select

from bot.core.delivery.outbox import backoff_seconds
from bot.core.messages import Channel
from bot.store.db import Database
from bot.store.models import MediaFile, utcnow

log = logging.getLogger(__name__)


class MediaFiles:
    def __init__(self, db: Database):
        self.db = db

    def due(self, channel: Channel, limit: int = 10) -> list[MediaFile]:
        """Files still to download for a channel (oldest first)."""
        with self.db.session() as session:
            rows = session.scalars(
                select(MediaFile).where(MediaFile.channel == channel.value,
                                        MediaFile.status == "pending",
                                        MediaFile.next_attempt_at <= utcnow())
                .order_by(MediaFile.id).limit(limit)).all()
            session.expunge_all()
            return list(rows)

    def stored(self, media_id: int, path: str, size: int, sha256: str,
               mime_type: str | None = None) -> bool:
        """False when the row is gone (the contact erased their data during the download):
        the caller then deletes the file."""
        with self.db.session() as session:
            row = session.get(MediaFile, media_id)
            if row is None:
                return False
            row.status, row.path, row.size, row.sha256 = "stored", path, size, sha256
            row.mime_type = mime_type or row.mime_type
            row.attempts, row.stored_at, row.last_error = row.attempts + 1, utcnow(), None
        return True

    def failed(self, media_id: int, error: str, *, retryable: bool = True,
               max_attempts: int = 20) -> None:
        with self.db.session() as session:
            row = session.get(MediaFile, media_id)
            if row is None:
                return
            row.attempts += 1
            row.last_error = error[:500]
            if not retryable or row.attempts >= max_attempts:
                row.status = "failed"
                log.error("media: file %s of message %s failed for good: %s",
                          row.id, row.inbox_id, error)
            else:
                row.next_attempt_at = utcnow() + timedelta(
                    seconds=backoff_seconds(row.attempts, cap=600))
