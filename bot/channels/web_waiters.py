"""The web chat's requests waiting for their message, and the replies they take.

The web chat pushes nothing: its replies stay in the outbox until a request takes them, with
one UPDATE ... RETURNING, so a reply is taken once even by concurrent requests. A request is
handed the reply ids by the gateway's "settled" event when this process answered its message;
otherwise (another process did) it looks in the database every second.
"""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.sql import Executable

from bot.core.delivery import statements as sql
from bot.core.gateway import Gateway, Settled
from bot.core.messages import Channel, Reply
from bot.store.models import InboxMessage, utcnow

_I, _O = sql.INBOX, sql.OUTBOX
_INBOX_STATUS = select(_I.c.status, _I.c.acknowledged).where(_I.c.id == bindparam("b_id"))


def _take(by: str) -> Executable:
    """Mark the web replies (these ids, this message's, or the contact's) taken, returning
    them: one UPDATE ... RETURNING, so a reply is taken once even by concurrent requests."""
    conditions = [_O.c.contact_id == bindparam("b_contact"), _O.c.channel == Channel.WEB.value,
                  _O.c.status == "pending"]
    if by == "ids":
        conditions.append(_O.c.id.in_(bindparam("b_ids", expanding=True)))
    elif by == "inbox":
        conditions.append(_O.c.inbox_id == bindparam("b_inbox"))
    return (update(_O).where(*conditions)
            .values(status="sent", sent_at=bindparam("b_now"), attempts=_O.c.attempts + 1)
            .returning(_O.c.id, _O.c.payload))


_TAKE = {by: _take(by) for by in ("ids", "inbox", "contact")}  # built once (hot path)


class Waiters:
    """Requests waiting for their message to be answered (or acknowledged), and the replies
    they take. Any message can be waited on; only the web chat's replies can be taken."""

    def __init__(self, gateway: Gateway):
        self.gateway = gateway
        self._waiters: dict[int, asyncio.Future] = {}
        self._listening = False

    def watch(self, inbox_id: int) -> asyncio.Future:
        """A future set when this process settles the message. Call it right after `accept`,
        before any await, so that an in-process worker cannot finish unseen."""
        if not self._listening:  # on first use: the routes may be built before the gateway
            self.gateway.on_settled(self.settle)
            self._listening = True
        future = self._waiters.get(inbox_id)
        if future is None or future.done():
            future = asyncio.get_running_loop().create_future()
            self._waiters[inbox_id] = future
        return future

    def settle(self, inbox_id: int, settled: Settled) -> None:
        """The gateway's "settled" event (this process answered or acknowledged it)."""
        future = self._waiters.get(inbox_id)
        if future is not None and not future.done():
            future.set_result(settled)

    async def wait_settled(self, inbox_id: int, timeout: float, *,
                           look_first: bool = False) -> Settled | None:
        """Wait until a message has been answered (or acknowledged). None on timeout.

        The outbox ids are known when this process settled it; [] when another process did
        (the caller then collects the message's replies from the database). `look_first`:
        the message may be settled already (a redelivery), look in the database at once."""
        future = self.watch(inbox_id)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        try:
            if look_first and (status := self._inbox_status(inbox_id)) is not None:
                return Settled([], pending=status)
            while True:
                remaining = deadline - loop.time()
                try:
                    # The worker may run in another process: look in the database each second.
                    return await asyncio.wait_for(asyncio.shield(future),
                                                  timeout=max(0.0, min(remaining, 1.0)))
                except asyncio.TimeoutError:
                    pass
                status = self._inbox_status(inbox_id)
                if status is not None:
                    return Settled([], pending=status)
                if deadline - loop.time() <= 0:
                    return None
        finally:
            if self._waiters.get(inbox_id) is future:
                del self._waiters[inbox_id]

    async def wait_processed(self, inbox_id: int, timeout: float) -> bool:
        """Wait until a message has been answered (or acknowledged). False on timeout."""
        return await self.wait_settled(inbox_id, timeout) is not None

    def _inbox_status(self, inbox_id: int) -> bool | None:
        """None while the message waits unacknowledged; else whether it is still pending."""
        with self.gateway.db.session() as session:
            row = sql.run(session, _INBOX_STATUS, b_id=inbox_id).first()
        if row is None or row.status != "pending":
            return False
        return True if row.acknowledged else None

    def take_replies(self, contact_id: str, inbox_id: int | None = None,
                     outbox_ids: list[int] | None = None) -> list[Reply]:
        """Collect undelivered web-chat replies: these rows, this message's, or all of the
        contact's. Each reply is taken once, even by concurrent requests."""
        params: dict[str, Any] = {"b_contact": contact_id, "b_now": utcnow()}
        if outbox_ids:
            by, params["b_ids"] = "ids", list(outbox_ids)
        elif inbox_id is not None:
            by, params["b_inbox"] = "inbox", inbox_id
        else:
            by = "contact"
        with self.gateway.db.session() as session:
            rows = sql.run(session, _TAKE[by], **params).all()
        return [Reply.from_json(row.payload) for row in sorted(rows, key=lambda r: r.id)]

    def find_contact(self, channel: Channel, address: str) -> str | None:
        with self.gateway.db.session() as session:
            return self.gateway.vault.find_contact_id(session, channel.value, address)

    def has_pending(self, contact_id: str) -> bool:
        with self.gateway.db.session() as session:
            return (session.scalar(select(func.count()).select_from(InboxMessage).where(
                InboxMessage.contact_id == contact_id, InboxMessage.status == "pending"))
                or 0) > 0
