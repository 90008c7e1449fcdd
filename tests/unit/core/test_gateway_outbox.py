"""The outbox worker (bot/core/delivery/outbox.py): replies go out through the channel's
sender in order, are retried with backoff, are held while WhatsApp allows only a template and
go out when the user writes again; delivery receipts never move a status backwards."""

from __future__ import annotations

import asyncio

from bot.core.gateway import SendError, Sent, backoff_seconds
from bot.core.messages import Channel
from bot.store.models import OutboxMessage, utcnow


class RecordingSender:
    """A channel that takes replies. Like WhatsApp, it sends a template instead of a reply
    (and the reply is held) when the user last wrote before `window_closed_at`."""

    holds_replies = True

    def __init__(self, gateway=None, fail: int = 0):
        self.sent: list[tuple[str, str]] = []
        self.gateway, self.fail = gateway, fail
        self.window_closed_at = None

    async def send(self, address, reply, *, last_inbound_at=None):
        if self.fail:
            self.fail -= 1
            raise SendError("busy", retry_after=0.05)
        if self.window_closed_at is not None:
            wrote = last_inbound_at or self.gateway.last_inbound_at(Channel.WHATSAPP, address)
            if wrote < self.window_closed_at:
                return Sent("wamid.template", note="template sent instead", held=True)
        self.sent.append((address, reply.text))
        return f"wamid.{len(self.sent)}"


async def run_workers(world, until, rounds: int = 200) -> bool:
    stop = asyncio.Event()
    workers = [asyncio.create_task(world.gateway.run_inbox_worker(stop)),
               asyncio.create_task(world.gateway.run_outbox_worker(stop))]
    try:
        for _ in range(rounds):
            if until():
                return True
            await asyncio.sleep(0.02)
        return False
    finally:
        stop.set()
        await asyncio.gather(*workers)


def statuses(world) -> list[str]:
    with world.db.session() as session:
        return [row.status for row in session.query(OutboxMessage).order_by(OutboxMessage.id)]


async def test_replies_are_sent_in_order_and_retried_after_a_refusal(world):
    sender = RecordingSender(fail=1)
    world.gateway.senders["whatsapp"] = sender
    for n in range(3):
        world.gateway.accept(world.text(f"w{n}", f"message {n}", channel=Channel.WHATSAPP))
    assert await run_workers(world, lambda: len(sender.sent) == 3)
    assert [text for _, text in sender.sent] == [f"echo message {n}" for n in range(3)]
    assert {address for address, _ in sender.sent} == {"+22370000001"}
    assert statuses(world) == ["sent"] * 3
    with world.db.session() as session:
        first = session.query(OutboxMessage).order_by(OutboxMessage.id).first()
        assert (first.attempts, first.lease_owner) == (2, None)


async def test_a_held_reply_goes_out_when_the_user_writes_again(world):
    sender = RecordingSender(world.gateway)
    world.gateway.senders["whatsapp"] = sender
    accepted = world.gateway.accept(world.text("w1", "bonjour", channel=Channel.WHATSAPP))
    assert await run_workers(world, lambda: statuses(world) == ["sent"])
    sender.window_closed_at = utcnow()  # a day later, say: the window is closed
    # A reply that answers no message just received (a partner's update): a template goes
    # out in its place, and the reply waits.
    with world.db.session() as session:
        session.add(OutboxMessage(contact_id=accepted.contact_id, channel="whatsapp",
                                  payload={"text": "votre demande avance"}))
    assert await run_workers(world, lambda: statuses(world) == ["sent", "held"])
    assert [text for _, text in sender.sent] == ["echo bonjour"]
    world.gateway.accept(world.text("w2", "merci", channel=Channel.WHATSAPP))
    assert await run_workers(world, lambda: len(sender.sent) == 3)
    assert [text for _, text in sender.sent][1:] == ["votre demande avance", "echo merci"]


async def test_a_reply_refused_for_good_is_failed_visibly(world):
    class Refusing:
        holds_replies = False

        async def send(self, address, reply, *, last_inbound_at=None):
            raise SendError("blocked by the user", retryable=False)

    world.gateway.senders["telegram"] = Refusing()
    world.gateway.accept(world.text("t1", "bonjour", channel=Channel.TELEGRAM))
    assert await run_workers(world, lambda: statuses(world) == ["failed"])
    with world.db.session() as session:
        assert session.query(OutboxMessage).one().last_error == "blocked by the user"


async def test_a_receipt_of_the_template_leaves_the_held_reply_waiting(world):
    gateway, db = world.gateway, world.db
    accepted = gateway.accept(world.text("m1", "bonjour"))
    with db.session() as session:
        session.add(OutboxMessage(contact_id=accepted.contact_id, channel="whatsapp",
                                  status="held", provider_message_id="wamid.template",
                                  payload={"text": "la réponse"}))
        session.add(OutboxMessage(contact_id=accepted.contact_id, channel="whatsapp",
                                  status="sent", provider_message_id="wamid.other",
                                  payload={"text": "autre"}))
    assert gateway.record_delivery_status(Channel.WHATSAPP, "wamid.template", "delivered")
    assert gateway.record_delivery_status(Channel.WHATSAPP, "wamid.other", "read")
    assert gateway.record_delivery_status(Channel.WHATSAPP, "wamid.other", "delivered")
    assert gateway.record_delivery_status(Channel.WHATSAPP, "wamid.other", "failed")
    assert not gateway.record_delivery_status(Channel.WHATSAPP, "wamid.unknown", "read")
    with db.session() as session:
        found = {row.provider_message_id: row.status
                 for row in session.query(OutboxMessage).all()}
    assert found == {"wamid.template": "held", "wamid.other": "read"}


def test_backoff_doubles_with_jitter_and_is_capped():
    for attempt, base in ((1, 1), (2, 2), (3, 4), (6, 32)):
        assert 0.75 * base <= backoff_seconds(attempt) <= 1.25 * base
    assert backoff_seconds(30) <= 300 * 1.25
