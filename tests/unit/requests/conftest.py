"""Fixtures for follow-up requests: a migrated SQLite database the flows write to, a contact,
and a `chat` helper that drives `Talk.respond` like a conversation."""

from __future__ import annotations

import base64
import secrets
from typing import Any

import pytest

from bot.actions import flows as _flows  # noqa: F401  (registers the flows)
from bot.actions.dialogue import State, Talk, Turn
from bot.store import requests as store
from bot.store.db import Database
from bot.store.identities import IdentityVault
from bot.testing.requests_world import with_protection_staff


@pytest.fixture
def vault():
    return IdentityVault(base64.urlsafe_b64encode(secrets.token_bytes(32)).decode())


def make_contact(db: Database, vault: IdentityVault, address: str = "+22376000001",
                 channel: str = "whatsapp") -> str:
    with db.session() as session:
        return vault.find_or_create_contact(session, channel, address).id


@pytest.fixture
def contact(db, vault):
    return make_contact(db, vault)


class Chat:
    """A conversation with the dialogue, without Rasa: `say`, `press`, and the last replies."""

    def __init__(self, contact_id: str | None, channel: str = "whatsapp", **state: Any):
        self.state = State(**{"language": "fr", **state})
        self.contact_id = contact_id
        self.channel = channel
        self.replies = []

    def _run(self, turn: Turn):
        turn.metadata = {"channel": self.channel, **turn.metadata}
        self.replies = Talk(self.state, sender_id=self.contact_id).respond(turn)
        return self.replies

    def say(self, text: str, intent: str = "nlu_fallback", *, confidence: float | None = None,
            metadata: dict | None = None, **entities: str):
        return self._run(Turn(intent=intent, text=text, entities=dict(entities),
                              confidence=confidence, metadata=dict(metadata or {})))

    def press(self, choice: str):
        text = f'/choose{{"choice":"{choice}"}}'
        return self._run(Turn(intent="choose", choice=choice, text=text,
                              entities={"choice": choice}))

    @property
    def text(self) -> str:
        return "\n".join(r.text for r in self.replies)

    @property
    def choices(self) -> list[str]:
        return [c.id for r in self.replies for c in r.choices]

    @property
    def step(self) -> str | None:
        return (self.state.flow or {}).get("step")


@pytest.fixture
def chat(db, contact):
    return Chat(contact, country="ML")


@pytest.fixture
def protection_staff(monkeypatch):
    data = with_protection_staff()
    monkeypatch.setattr(store, "ensure_reference_data",
                        lambda session, path=None: store.sync_reference_data(session, data))
    return data
