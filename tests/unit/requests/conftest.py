"""Fixtures for follow-up requests: a migrated SQLite database the flows write to, a contact,
and a `chat`: a conversation with the dialogue in process (bot.testing.conversation)."""

from __future__ import annotations

import base64
import secrets
from typing import Any

import pytest

from bot.actions import flows as _flows  # noqa: F401  (registers the flows)
from bot.store import requests as store
from bot.store.db import Database
from bot.store.identities import IdentityVault
from bot.testing.conversation import Conversation, dialogue
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


def miner(contact_id: str | None, channel: str = "whatsapp", **state: Any) -> Conversation:
    """A French-speaking miner talking to the dialogue in process (no Rasa)."""
    return dialogue(contact_id, channel, **{"language": "fr", **state})


@pytest.fixture
def chat(db, contact):
    return miner(contact, country="ML")


@pytest.fixture
def protection_staff(monkeypatch):
    data = with_protection_staff()
    monkeypatch.setattr(store, "ensure_reference_data",
                        lambda session, path=None: store.sync_reference_data(session, data))
    return data
