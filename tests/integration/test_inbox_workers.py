"""Several app workers share one inbox: every message is answered exactly once, in order per
contact, on PostgreSQL (production) and SQLite (the embedded default). Rasa is replaced by an
httpx transport that counts what it receives; the database is real."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import defaultdict
from dataclasses import replace

import httpx
import pytest
from sqlalchemy import create_engine, text

from bot.config import load_settings
from bot.core.gateway import Gateway
from bot.core.messages import Channel, Inbound, InboundKind
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
    def __init__(self):
        self.seen: dict[str, list[str]] = defaultdict(list)

    async def handler(self, request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return httpx.Response(200, json={"status": "ok"})
        body = json.loads(request.content)
        await asyncio.sleep(0.005)  # a little latency, so that workers really overlap
        self.seen[body["sender"]].append(body["message"])
        return httpx.Response(200, json=[{"recipient_id": body["sender"],
                                          "custom": {"text": "ok " + body["message"]}}])


async def test_two_workers_answer_each_message_once_and_in_order(database_url):
    settings = replace(load_settings(), database_url=database_url, worker_poll_seconds=0.05)
    Database(database_url).upgrade()
    rasa = CountingRasa()
    http = httpx.AsyncClient(transport=httpx.MockTransport(rasa.handler))
    gateways = [Gateway(settings, Database(database_url), RasaClient("http://rasa.test", http),
                        worker_id=f"worker-{n}") for n in range(2)]
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
