"""The web chat's waiting requests (bot/channels/web.py, `Waiters`): told by the gateway's
"settled" event when this process answered the message, else by the database (another
process answered it); each reply is taken once. Real gateway and SQLite; Rasa an httpx
transport, the dialogue an echo."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from bot.channels.web import Waiters
from bot.config import load_settings, replace
from bot.core.gateway import Gateway
from bot.core.messages import Channel, Inbound, InboundKind, Reply
from bot.core.rasa_client import RasaClient
from bot.store.db import Database


def echo(request: httpx.Request) -> httpx.Response:
    """Rasa's NLU server (`/status`, `/model/parse`)."""
    if request.method == "GET":
        return httpx.Response(200, json={"model_file": "nlu.tar.gz"})
    text = json.loads(request.content)["text"]
    return httpx.Response(200, json={"text": text, "entities": [],
                                     "intent": {"name": "greet", "confidence": 0.9}})


class EchoDialogue:
    """The dialogue, echoing the turn's text (these tests are about the waiters)."""

    def respond(self, contact_id, slots, understood):
        return [Reply(f"echo {understood.text}")], slots


@pytest.fixture
def gateways(tmp_path):
    """Two processes' gateways on one database."""
    settings = replace(load_settings(), database_url=f"sqlite:///{tmp_path / 'db.sqlite'}",
                       worker_poll_seconds=0.05, ack_after_seconds=60)
    made = []
    for _ in range(2):
        db = Database(settings.database_url)
        db.upgrade()
        http = httpx.AsyncClient(transport=httpx.MockTransport(echo))
        made.append(Gateway(settings, db, RasaClient("http://rasa.test", http)))
        made[-1].inbox.answerer.dialogue = EchoDialogue()
    yield made
    for gateway in made:
        gateway.db.dispose()


def message(n: int) -> Inbound:
    return Inbound(Channel.WEB, f"m{n}", "web-1", InboundKind.TEXT, text=f"question {n}")


async def working(gateway: Gateway, coroutine):
    stop = asyncio.Event()
    worker = asyncio.create_task(gateway.run_inbox_worker(stop))
    try:
        return await coroutine
    finally:
        stop.set()
        await worker


async def test_this_process_hands_the_request_its_reply_ids_and_each_is_taken_once(gateways):
    gateway = gateways[0]
    waiters = Waiters(gateway)
    accepted = gateway.accept(message(1))
    settled = await working(gateway, waiters.wait_settled(accepted.inbox_id, 5))
    assert settled is not None and len(settled.outbox_ids) == 1 and not settled.pending
    replies = waiters.take_replies(accepted.contact_id, accepted.inbox_id, settled.outbox_ids)
    assert [r.text for r in replies] == ["echo question 1"]
    assert waiters.take_replies(accepted.contact_id) == []  # taken once
    assert not waiters.has_pending(accepted.contact_id)
    assert waiters.find_contact(Channel.WEB, "web-1") == accepted.contact_id


async def test_a_message_another_process_answered_is_found_in_the_database(gateways):
    here, there = gateways
    waiters = Waiters(here)
    accepted = here.accept(message(1))  # no worker runs here: the other process answers
    settled = await working(there, waiters.wait_settled(accepted.inbox_id, 5))
    assert settled is not None and settled.outbox_ids == [] and not settled.pending
    replies = waiters.take_replies(accepted.contact_id, accepted.inbox_id)
    assert [r.text for r in replies] == ["echo question 1"]


async def test_a_redelivered_message_already_answered_is_settled_at_once(gateways):
    gateway = gateways[0]
    waiters = Waiters(gateway)
    first = gateway.accept(message(1))
    assert await working(gateway, waiters.wait_processed(first.inbox_id, 5))
    again = gateway.accept(message(1))
    assert again.duplicate
    settled = await asyncio.wait_for(
        waiters.wait_settled(again.inbox_id, 5, look_first=True), 0.5)
    assert settled is not None and not settled.pending


async def test_a_message_nobody_answers_times_out(gateways):
    waiters = Waiters(gateways[0])
    accepted = gateways[0].accept(message(1))
    assert await waiters.wait_settled(accepted.inbox_id, 0.2) is None
    assert waiters.has_pending(accepted.contact_id)
    assert not waiters._waiters  # the request's future is gone with it
