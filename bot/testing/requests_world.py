"""The pipeline for follow-up request tests: the real gateway and store, on SQLite or on a
fresh PostgreSQL database, with Rasa's NLU replaced by `KeywordNLU` (a keyword table); the
dialogue runs for real.
"""

from __future__ import annotations

import os
import secrets
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from bot.channels.memory import MemoryChannel
from bot.core.gateway import Gateway, SendError
from bot.core.messages import Channel, Inbound, InboundKind, Reply
from bot.core.rasa_client import RasaClient
from bot.store import requests as store
from bot.store.db import Database
from bot.store.models import Base, OutboxMessage
from bot.testing.conversation import Turn
from bot.testing.harness import make_settings
from bot.testing.rasa import KeywordNLU

PG_ADMIN_URL = os.environ.get("POSTGRES_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def fresh_postgres() -> tuple[str, Any]:
    """A new, empty PostgreSQL database; returns its URL and a function that drops it."""
    import psycopg
    name = "requests_" + secrets.token_hex(5)
    try:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        # This machine kind (and CI) runs PostgreSQL: its absence is a failure, not a skip.
        pytest.fail(f"PostgreSQL not reachable at {PG_ADMIN_URL}: {exc}")

    def drop() -> None:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name, drop


class World:
    """A miner chatting through the gateway on one channel: an in-memory stand-in for it
    (bot/channels/memory.py), so that the replies go out through the real outbox."""

    def __init__(self, gateway: Gateway, rasa: KeywordNLU, db: Database,
                 channel: Channel = Channel.WHATSAPP, address: str = "+22376000001"):
        self.gateway, self.rasa, self.db = gateway, rasa, db
        self.channel, self.address = channel, address
        self.memory = MemoryChannel(gateway, channel)
        self._n = 0
        self.contact_id: str | None = None
        self.replies = Turn([])
        self.inbox_ids: list[int] = []
        self.deliver = True

    async def _send(self, inbound: Inbound) -> Turn:
        with self.db.session() as session:
            seen = session.scalar(select(func.max(OutboxMessage.id))) or 0
        if not self.deliver:  # a slow channel: the replies stay in the outbox
            self.memory.fail_next(SendError("slow channel", retry_after=3600))
        accepted = self.gateway.accept(inbound)
        self.contact_id = accepted.contact_id
        self.inbox_ids.append(accepted.inbox_id)
        if self.deliver:  # answered, and every reply sent through the outbox
            await self.memory.wait_answered(accepted, 10)
        else:
            await self.memory.wait_processed(accepted, 10)
        with self.db.session() as session:
            rows = session.scalars(select(OutboxMessage).where(
                OutboxMessage.id > seen, OutboxMessage.contact_id == accepted.contact_id)
                .order_by(OutboxMessage.id)).all()
            self.replies = Turn([Reply.from_json(row.payload) for row in rows])
        return self.replies

    def _id(self) -> str:
        self._n += 1
        return f"m{self._n}-{secrets.token_hex(3)}"

    async def say(self, text: str) -> Turn:
        return await self._send(Inbound(self.channel, self._id(), self.address,
                                        InboundKind.TEXT, text=text))

    async def press(self, choice: str) -> Turn:
        return await self._send(Inbound(self.channel, self._id(), self.address,
                                        InboundKind.CHOICE, choice_id=choice))

    @property
    def text(self) -> str:
        return self.replies.text

    @property
    def choices(self) -> list[str]:
        return self.replies.ids

    def dump(self) -> str:
        """Every row of every table of ours, as text."""
        out = []
        with self.db.engine.connect() as conn:
            for table in Base.metadata.sorted_tables:
                for row in conn.execute(table.select()):
                    out.append(f"{table.name}: {tuple(row)!r}")
        return "\n".join(out)

    def count(self, table: str) -> int:
        return sum(1 for line in self.dump().splitlines() if line.startswith(table + ":"))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'app.db'}"
        return
    url, drop = fresh_postgres()
    try:
        yield url
    finally:
        drop()


@pytest.fixture
async def world(database_url, tmp_path):
    settings = make_settings(tmp_path, "http://rasa.test", database_url=database_url,
                             ack_after_seconds=60.0)
    db = Database(settings.database_url)
    db.upgrade()
    rasa = KeywordNLU()
    http = httpx.AsyncClient(transport=rasa.transport())
    gateway = Gateway(settings, db, RasaClient("http://rasa.test", http))
    world = World(gateway, rasa, db)
    with store.use_database(db):
        try:
            async with world.memory.connected():
                yield world
        finally:
            await http.aclose()
            db.dispose()


def with_protection_staff() -> store.ReferenceData:
    """The real partners file, with a protection contact for every partner (the file ships
    without addresses: a call-back is only offered once a partner has named its staff)."""
    data = store.load_reference_data()
    partners = [{**p, "protection_notify": {"kind": "email",
                                            "target": f"protection@{p['id']}.test"}}
                for p in data.partners]
    return store.ReferenceData(partners, data.routing, data.targets)
