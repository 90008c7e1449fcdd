"""Housekeeping, a task of its own started by the app next to the workers: the leases left by
dead workers of this host (at start), partner notifications, erasures to finish, and the
retention policy. A slow SMTP server or a long retention run holds up no message."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select, update

from bot.config import Settings
from bot.core import privacy
from bot.core.delivery import statements as sql
from bot.core.notify import PartnerNotifier
from bot.store.db import Database
from bot.store.models import Contact, OutboxMessage, utcnow

log = logging.getLogger(__name__)

EVERY_SECONDS = 5.0  # notifications and erasures; retention every RETENTION_EVERY_MINUTES


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def reclaim_dead_leases(db: Database) -> int:
    """Free the leases of workers on this host whose process is gone (a crash), so that
    their contacts are answered now rather than when the lease expires, and the replies
    they were sending are sent. Leases of other hosts are left to expire."""
    host = os.uname().nodename
    freed = 0
    with db.session() as session:
        owners = set(session.scalars(select(Contact.lease_owner).where(
            Contact.lease_owner.like(f"{host}:%")).distinct()).all())
        owners |= set(session.scalars(select(OutboxMessage.lease_owner).where(
            OutboxMessage.lease_owner.like(f"{host}:%")).distinct()).all())
        for owner in owners:
            try:
                pid = int((owner or "").split(":")[1])
            except (IndexError, ValueError):
                continue
            if pid == os.getpid() or _process_alive(pid):
                continue
            freed += sql.run(session,
                update(Contact).where(Contact.lease_owner == owner)
                .values(lease_owner=None, lease_until=None)).rowcount
            freed += sql.run(session,
                update(OutboxMessage).where(OutboxMessage.lease_owner == owner)
                .values(lease_owner=None, next_attempt_at=utcnow())).rowcount
    if freed:
        log.info("inbox: freed %d lease(s) left by a worker that stopped", freed)
    return freed


class Housekeeping:
    def __init__(self, settings: Settings, db: Database, notifier: PartnerNotifier):
        self.settings = settings
        self.db = db
        self.notifier = notifier
        # Retention (bot/core/retention.py); the clock is injectable.
        self.clock: Callable[[], datetime] = utcnow
        self._retention_due: datetime | None = None

    async def run(self, stop: asyncio.Event, every: float = EVERY_SECONDS) -> None:
        """Until `stop`: dead workers' leases at once, then `housekeep` every `every` s."""
        try:
            reclaim_dead_leases(self.db)
        except Exception:
            log.exception("housekeeping: could not reclaim leases; they will expire")
        while not stop.is_set():
            await self.housekeep()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), every)

    async def housekeep(self) -> None:
        """One round: notifications, finished erasures, and retention when it is due."""
        try:
            await self.notifier.send_due()
            await privacy.finish_erasures(self.db, self.settings.media_dir)
        except Exception:
            log.exception("housekeeping: notifications or erasures failed")
        now = self.clock()
        if self._retention_due is None or now >= self._retention_due:
            self._retention_due = now + timedelta(minutes=self.settings.retention_every_minutes)
            try:
                await self.run_retention(now)
            except Exception:
                log.exception("housekeeping: retention failed; tried again next time")

    async def run_retention(self, now: datetime) -> None:
        """Expire what the retention settings say, as of `now` (in a thread: it may delete
        many rows and files)."""
        from bot.core.retention import RetentionPolicy, apply_retention

        await asyncio.to_thread(apply_retention, self.db,
                                RetentionPolicy.from_settings(self.settings), now=now,
                                media_dir=self.settings.media_dir)
