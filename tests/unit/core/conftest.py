"""The gateway's world for its unit tests: the real pipeline and SQLite database, Rasa
replaced by an httpx transport (Rasa is outside us), the dialogue by an echo, and the
core's "settled" event recorded (what a channel that collects its replies, like the web
chat, listens to)."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from bot.config import load_settings
from bot.config import replace as replace_settings
from bot.core.gateway import Gateway, Settled
from bot.core.messages import Channel, Choice, Inbound, InboundKind, Reply
from bot.core.rasa_client import RasaClient
from bot.store.db import Database
from bot.store.models import InboxMessage, OutboxMessage


class FakeRasa:
    """Answers like Rasa's NLU server (`/status`, `/model/parse`); can be switched off to
    simulate a restart. `received`: what the dialogue got (the turn's text and metadata)."""

    def __init__(self):
        self.up = True
        self.parsed: list[str] = []
        self.received: list[dict] = []

    def handler(self, request: httpx.Request) -> httpx.Response:
        if not self.up:
            raise httpx.ConnectError("connection refused", request=request)
        if request.method == "GET":
            return httpx.Response(200, json={"model_file": "nlu.tar.gz"})
        body = json.loads(request.content)
        self.parsed.append(body["text"])
        return httpx.Response(200, json={"text": body["text"], "entities": [],
                                         "intent": {"name": "greet", "confidence": 0.9}})


class EchoDialogue:
    """The dialogue, echoing the turn's text with two choices (menu:a, menu:b); it counts
    its turns in the state (the dialogue has its own tests)."""

    def __init__(self, received: list[dict]):
        self.received = received

    def respond(self, contact_id, slots, understood):
        self.received.append({"message": understood.text, "metadata": understood.metadata,
                              "intent": understood.intent, "slots": slots})
        return [Reply(f"echo {understood.text}", lang="fr",
                      choices=[Choice("menu:a", "A"), Choice("menu:b", "B")])], {
            "turns": int(slots.get("turns", 0)) + 1}


@dataclass
class World:
    gateway: Gateway
    rasa: FakeRasa
    db: Database
    path: Path
    settled: dict[int, Settled] = field(default_factory=dict)

    def text(self, message_id: str, body: str, address: str = "+22370000001",
             channel: Channel = Channel.WEB) -> Inbound:
        return Inbound(channel, message_id, address, InboundKind.TEXT, text=body)

    async def run_until_settled(self, inbox_id: int, timeout: float = 5) -> bool:
        """Run the inbox worker until this process settles the message (the core's event)."""
        self.settled.pop(inbox_id, None)
        stop = asyncio.Event()
        worker = asyncio.create_task(self.gateway.run_inbox_worker(stop))
        try:
            for _ in range(int(timeout / 0.02)):
                if inbox_id in self.settled:
                    return True
                await asyncio.sleep(0.02)
            return False
        finally:
            stop.set()
            await worker

    def status(self, inbox_id: int) -> str:
        with self.db.session() as session:
            return session.get(InboxMessage, inbox_id).status

    def replies(self, inbox_id: int | None = None) -> list[str]:
        """The texts of the replies stored for a message (or all), in order."""
        with self.db.session() as session:
            query = select(OutboxMessage.payload).order_by(OutboxMessage.id)
            if inbox_id is not None:
                query = query.where(OutboxMessage.inbox_id == inbox_id)
            return [payload["text"] for payload in session.scalars(query)]


@pytest.fixture
def world(tmp_path):
    settings = replace_settings(load_settings(), database_url=f"sqlite:///{tmp_path / 'db.sqlite'}",
                       ack_after_seconds=0.0, worker_poll_seconds=0.05)
    db = Database(settings.database_url)
    db.upgrade()
    rasa = FakeRasa()
    http = httpx.AsyncClient(transport=httpx.MockTransport(rasa.handler))
    gateway = Gateway(settings, db, RasaClient("http://rasa.test", http))
    gateway.inbox.answerer.dialogue = EchoDialogue(rasa.received)
    world = World(gateway, rasa, db, tmp_path)
    gateway.on_settled(lambda inbox_id, settled: world.settled.__setitem__(inbox_id, settled))
    yield world
    db.dispose()
