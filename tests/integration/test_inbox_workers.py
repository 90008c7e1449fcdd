"""Several app workers share one inbox: every message is answered exactly once, in order per
contact, on PostgreSQL (production) and SQLite (the embedded default). Rasa is replaced by an
httpx transport and the dialogue by an echo that counts what it receives; the database is
real."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import defaultdict

import httpx
import pytest
from sqlalchemy import create_engine, text

from bot.channels.memory import MemoryChannel
from bot.config import load_settings, replace
from bot.core.gateway import Gateway, SendError
from bot.core.messages import Channel, Inbound, InboundKind, Reply
from bot.core.rasa_client import RasaClient
from bot.store.db import Database
from bot.store.models import InboxMessage, OutboxMessage

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'inbox.db'}"
        return
    name = "inbox_" + uuid.uuid4().hex[:10]
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


class CountingRasa:
    """Rasa's NLU (`/model/parse`, a little latency so that workers really overlap) and, in
    place of the dialogue (these tests are about the workers), an echo that counts what each
    contact said, in order."""

    def __init__(self):
        self.seen: dict[str, list[str]] = defaultdict(list)

    async def handler(self, request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return httpx.Response(200, json={"model_file": "nlu.tar.gz"})
        text = json.loads(request.content)["text"]
        await asyncio.sleep(0.005)
        return httpx.Response(200, json={"text": text, "entities": [],
                                         "intent": {"name": "greet", "confidence": 0.9}})

    def respond(self, contact_id, slots, understood):
        self.seen[contact_id].append(understood.text)
        return [Reply("ok " + understood.text)], slots

    def serve(self, gateway: Gateway) -> Gateway:
        gateway.inbox.answerer.dialogue = self
        return gateway


async def test_two_workers_answer_each_message_once_and_in_order(database_url):
    settings = replace(load_settings(), database_url=database_url, worker_poll_seconds=0.05)
    Database(database_url).upgrade()
    rasa = CountingRasa()
    http = httpx.AsyncClient(transport=httpx.MockTransport(rasa.handler))
    gateways = [rasa.serve(Gateway(settings, Database(database_url),
                                   RasaClient("http://rasa.test", http), worker_id=f"worker-{n}"))
                for n in range(2)]
    contacts, per_contact = 12, 8
    for i in range(per_contact):
        for c in range(contacts):
            gateways[c % 2].accept(Inbound(Channel.WEB, f"m-{c}-{i}", f"user-{c}",
                                           InboundKind.TEXT, text=f"message {i}"))
    stop = asyncio.Event()
    workers = [asyncio.create_task(g.run_inbox_worker(stop)) for g in gateways]
    db = gateways[0].db
    for _ in range(400):
        with db.session() as session:
            pending = session.query(InboxMessage).filter_by(status="pending").count()
        if pending == 0:
            break
        await asyncio.sleep(0.05)
    stop.set()
    await asyncio.gather(*workers)
    assert pending == 0
    assert len(rasa.seen) == contacts
    for sender, messages in rasa.seen.items():
        assert messages == [f"message {i}" for i in range(per_contact)], sender
    with db.session() as session:
        assert session.query(OutboxMessage).count() == contacts * per_contact
    await http.aclose()
    for g in gateways:
        g.db.dispose()


async def _drain(gateways, db, predicate, rounds=400):
    for _ in range(rounds):
        if predicate():
            return True
        await asyncio.sleep(0.05)
    return False


async def test_two_workers_send_each_reply_once_and_in_order(database_url):
    """Two app processes (here: two threads, each with its own event loop and connections,
    so that they really run side by side) share one database: every reply reaches the channel
    exactly once, in order per contact (the outbox is claimed, not just read)."""
    import threading
    import time

    settings = replace(load_settings(), database_url=database_url, worker_poll_seconds=0.02)
    Database(database_url).upgrade()
    contacts, per_contact = 10, 6
    writer = Gateway(settings, Database(database_url), RasaClient("http://rasa.test", None))
    # One channel for both processes: what each gateway's outbox sends lands in one record.
    channel = MemoryChannel(writer, Channel.TELEGRAM, send_delay=0.002)
    stop = threading.Event()
    errors: list[BaseException] = []

    def process(n: int) -> None:
        async def main() -> None:
            rasa = CountingRasa()
            http = httpx.AsyncClient(transport=httpx.MockTransport(rasa.handler))
            gateway = rasa.serve(Gateway(settings, Database(database_url),
                                         RasaClient("http://rasa.test", http),
                                         senders={"telegram": channel}, worker_id=f"worker-{n}"))
            halt = asyncio.Event()
            workers = [asyncio.create_task(gateway.run_inbox_worker(halt)),
                       asyncio.create_task(gateway.run_outbox_worker(halt))]
            while not stop.is_set():
                await asyncio.sleep(0.02)
            halt.set()
            await asyncio.gather(*workers)
            await http.aclose()
            gateway.db.dispose()

        try:
            asyncio.run(main())
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=process, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    # Messages arrive while both workers scan the inbox and the outbox.
    for i in range(per_contact):
        for c in range(contacts):
            channel.push(f"{9000 + c}", f"message {i}", message_id=f"u-{c}-{i}")
        await asyncio.sleep(0.01)
    deadline = time.monotonic() + 30
    while len(channel.delivered) < contacts * per_contact and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.5)  # anything sent twice would arrive meanwhile
    stop.set()
    for thread in threads:
        thread.join(30)
    assert not errors
    assert len(channel.delivered) == contacts * per_contact
    for c in range(contacts):
        assert [reply.text for reply in channel.replies(f"{9000 + c}")] == [
            f"ok message {i}" for i in range(per_contact)], c
    with writer.db.session() as session:
        rows = session.query(OutboxMessage).all()
        assert {row.status for row in rows} == {"sent"}
        assert all(row.lease_owner is None for row in rows)
    writer.db.dispose()


async def test_a_reply_waiting_for_a_retry_is_not_overtaken(database_url):
    settings = replace(load_settings(), database_url=database_url, worker_poll_seconds=0.05)
    Database(database_url).upgrade()
    rasa = CountingRasa()
    http = httpx.AsyncClient(transport=httpx.MockTransport(rasa.handler))
    gateway = rasa.serve(Gateway(settings, Database(database_url),
                                 RasaClient("http://rasa.test", http)))
    channel = MemoryChannel(gateway, Channel.TELEGRAM, send_delay=0.002)
    channel.fail_next(SendError("busy", retry_after=0.3))  # as a 429 or a 5xx would be
    async with channel.connected():
        channel.push("4242", "first")
        await _drain([gateway], gateway.db, lambda: rasa.seen)
        await asyncio.sleep(0.1)  # the first reply was refused and waits for its retry
        channel.push("4242", "second")
        done = await _drain([gateway], gateway.db, lambda: len(channel.delivered) >= 2)
    assert done
    assert channel.attempts == 3
    assert [reply.text for reply in channel.replies("4242")] == ["ok first", "ok second"]
    await http.aclose()
    gateway.db.dispose()
