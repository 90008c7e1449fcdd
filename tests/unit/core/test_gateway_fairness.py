"""One channel or contact cannot starve the others (issue 14, door 3): the inbox is claimed
in turn across channels, a channel holds at most its share of the slots while another has
work, and the scan finds every channel's messages behind another channel's backlog. The
gateway and its database are real (SQLite, and PostgreSQL when marked); Rasa is an httpx
transport that records the order in which it is asked."""

from __future__ import annotations

import asyncio
import json
import uuid

import httpx
import pytest
from sqlalchemy import create_engine, text

from bot.config import load_settings, replace
from bot.core.gateway import Gateway, ReadyContacts
from bot.core.messages import Channel, Inbound, InboundKind, Reply
from bot.core.rasa_client import RasaClient
from bot.store.db import Database

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


# ------------------------------------------------------------------ the queue alone
def picks(ready: ReadyContacts, n: int, active: dict[str, str] | None = None,
          slots: int = 8, share: float = 0.5) -> list[str]:
    active = dict(active or {})
    order = []
    for _ in range(n):
        picked = ready.pick(active, slots, share)
        if picked is None:
            break
        order.append(picked[0])
        active[picked[0]] = picked[1]
    return order


def test_ready_contacts_are_handed_out_in_turn_across_channels():
    ready = ReadyContacts()
    for n in range(50):
        ready.add(f"web-{n}", "web")
    for n in range(3):
        ready.add(f"tg-{n}", "telegram")
    order = picks(ready, 50, slots=100, share=1.0)
    # The three Telegram contacts, queued after fifty web ones, go among the first six.
    assert {"tg-0", "tg-1", "tg-2"} <= set(order[:6])
    # Within a channel: first come, first served.
    assert [c for c in order if c.startswith("web")][:5] == [f"web-{n}" for n in range(5)]


def test_a_channel_holds_at_most_its_share_while_another_has_work():
    ready = ReadyContacts()
    for n in range(20):
        ready.add(f"web-{n}", "web")
    # Only the web has work: it may use every slot.
    assert len(picks(ready, 8)) == 8
    ready = ReadyContacts()
    for n in range(20):
        ready.add(f"web-{n}", "web")
    ready.add("tg-0", "telegram")
    busy = {f"web-busy-{n}": "web" for n in range(8)}  # the flood took every slot before
    assert ready.pick(busy, 8, 0.5)[0] == "tg-0"  # the next free slot goes to Telegram
    # While a Telegram message is in Rasa, the web gets back at most half of the slots.
    order = picks(ready, 8, active={"tg-0": "telegram"})
    assert len(order) == 4 and all(c.startswith("web") for c in order)


def test_a_contact_already_queued_keeps_its_place_and_active_ones_wait():
    ready = ReadyContacts()
    ready.add("a", "web")
    ready.add("b", "web")
    ready.add("a", "web")
    assert picks(ready, 1, active={}) == ["a"]
    ready.add("a", "web")
    assert picks(ready, 2, active={"a": "web"}) == ["b"]  # "a" is in Rasa: its worker goes on
    assert "a" in ready and len(ready) == 1


# ------------------------------------------------------------------ the gateway
@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'inbox.db'}"
        return
    name = "fair_" + uuid.uuid4().hex[:10]
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # pragma: no cover - the machine starts PostgreSQL
        pytest.fail(f"PostgreSQL is not reachable on 127.0.0.1:5432: {exc}")
    yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


class OrderedRasa:
    """Reads texts after a little latency (`/model/parse`); the dialogue records who was
    answered, in order."""

    def __init__(self):
        self.order: list[str] = []

    async def handler(self, request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return httpx.Response(200, json={"model_file": "nlu.tar.gz"})
        body = json.loads(request.content)
        await asyncio.sleep(0.01)
        return httpx.Response(200, json={"text": body["text"], "entities": [],
                                         "intent": {"name": "greet", "confidence": 0.9}})

    def respond(self, contact_id, slots, understood):
        self.order.append(contact_id)
        return [Reply("ok")], slots


def gateway_on(database_url: str, rasa: OrderedRasa, **overrides) -> Gateway:
    settings = replace(load_settings(), database_url=database_url, worker_poll_seconds=0.05,
                       gateway_concurrency=4, **overrides)
    db = Database(database_url)
    db.upgrade()
    http = httpx.AsyncClient(transport=httpx.MockTransport(rasa.handler))
    gateway = Gateway(settings, db, RasaClient("http://rasa.test", http))
    gateway.inbox.answerer.dialogue = rasa
    return gateway


def flood_then_telegram(gateway: Gateway, flood: int = 120) -> list[str]:
    for n in range(flood):
        gateway.accept(Inbound(Channel.WEB, f"w{n}", f"web-{n}", InboundKind.TEXT, text="x"))
    telegram = []
    for n in range(3):
        accepted = gateway.accept(Inbound(Channel.TELEGRAM, f"t{n}", f"{1000 + n}",
                                          InboundKind.TEXT, text="bonjour"))
        telegram.append(accepted.contact_id)
    return telegram


async def test_telegram_is_answered_soon_during_a_web_flood(database_url):
    rasa = OrderedRasa()
    gateway = gateway_on(database_url, rasa)
    telegram = flood_then_telegram(gateway)
    stop = asyncio.Event()
    worker = asyncio.create_task(gateway.run_inbox_worker(stop))
    try:
        for _ in range(500):
            if all(c in rasa.order for c in telegram):
                break
            await asyncio.sleep(0.02)
    finally:
        stop.set()
        await worker
        gateway.db.dispose()
    positions = sorted(rasa.order.index(c) for c in telegram)
    # First come, first served would put them after the 120 web messages.
    assert positions[-1] < 12, positions


async def test_the_scan_finds_each_channel_behind_another_channels_backlog(database_url):
    rasa = OrderedRasa()
    gateway = gateway_on(database_url, rasa)
    telegram = flood_then_telegram(gateway)
    try:
        found = gateway.inbox._pending_contacts(4)  # as another process sees the inbox
        assert {c for c, channel in found if channel == "telegram"} == set(telegram)
        assert sum(1 for _, channel in found if channel == "web") == 4
        # Oldest first across channels: the web's backlog came first.
        assert [channel for _, channel in found] == ["web"] * 4 + ["telegram"] * 3
    finally:
        gateway.db.dispose()


def test_a_channel_that_just_had_work_keeps_its_slots_free_for_a_while():
    now = [100.0]
    ready = ReadyContacts(recent=2.0, clock=lambda: now[0])
    ready.add("tg-0", "telegram")
    assert picks(ready, 1) == ["tg-0"]  # answered since: no Telegram message waits now
    for n in range(20):
        ready.add(f"web-{n}", "web")
    now[0] += 1.0  # the Telegram user is reading the answer and about to write again
    assert len(picks(ready, 8)) == 4  # the web does not take the slots back at once
    now[0] += 5.0
    assert len(picks(ready, 8)) == 8  # Telegram went quiet: the web may use every slot
