"""Contacts with a message to answer, handed out fairly across channels (the inbox worker's
queue; docs/DESIGN.md, "Delivery guarantees")."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Iterator

BATCH_PER_LEASE = 5  # messages of one contact per lease; then it goes back in the queue


class ReadyContacts:
    """Contacts with a message to answer, one queue per channel, handed out fairly.

    Within a channel, contacts go first come, first served (and a contact goes back to the
    end after `BATCH_PER_LEASE` messages). Across channels, the next free slot goes to the
    channel with the fewest contacts in Rasa right now (ties: in turn), and while another
    channel has work, no channel holds more than its share of the slots: a flood on one
    channel (thousands of web senders) cannot make Telegram or WhatsApp users wait behind it.
    A channel counts as having work for `recent` seconds after it last had any: a user who
    just got an answer writes again, and their next message must find a free slot rather than
    wait for one of the flood's to finish.
    """

    def __init__(self, recent: float = 2.0,
                 clock: Callable[[], float] | None = None) -> None:
        self._queues: dict[str, OrderedDict[str, None]] = {}
        self._channel: dict[str, str] = {}
        self._turn = 0
        self._recent = recent
        self._clock = clock or time.monotonic
        self._seen: dict[str, float] = {}  # channel -> when it last had work

    def add(self, contact_id: str, channel: str) -> None:
        """Queue a contact (a contact already queued keeps its place)."""
        if contact_id in self._channel:
            return
        self._channel[contact_id] = channel
        self._queues.setdefault(channel, OrderedDict())[contact_id] = None

    def discard(self, contact_id: str) -> None:
        channel = self._channel.pop(contact_id, None)
        if channel is not None:
            self._queues[channel].pop(contact_id, None)

    def __contains__(self, contact_id: object) -> bool:
        return contact_id in self._channel

    def __len__(self) -> int:
        return len(self._channel)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._channel))

    def pick(self, active: dict[str, str], slots: int,
             share: float) -> tuple[str, str] | None:
        """The next contact to claim and its channel, or None. `active`: contact -> channel
        of the contacts in Rasa; `slots`: the gateway's concurrency; `share`: the fraction of
        the slots one channel may hold while another channel has work waiting or in Rasa."""
        busy: dict[str, int] = {}
        for channel in active.values():
            busy[channel] = busy.get(channel, 0) + 1
        candidates: list[tuple[str, str]] = []
        for channel, queue in self._queues.items():
            for contact_id in queue:
                if contact_id not in active:  # its worker looks for new messages itself
                    candidates.append((channel, contact_id))
                    break
        now = self._clock()
        for channel in {c for c, _ in candidates} | set(busy):
            self._seen[channel] = now
        if not candidates:
            return None
        channels_with_work = {c for c, seen in self._seen.items() if now - seen <= self._recent}
        if len(channels_with_work) > 1:
            cap = max(1, int(slots * share))
            candidates = [c for c in candidates if busy.get(c[0], 0) < cap] or []
            if not candidates:
                return None
        names = sorted(c for c, _ in candidates)
        self._turn += 1
        fewest = min(busy.get(c, 0) for c in names)
        tied = [c for c in names if busy.get(c, 0) == fewest]
        channel = tied[self._turn % len(tied)]
        contact_id = next(contact for c, contact in candidates if c == channel)
        self.discard(contact_id)
        return contact_id, channel
