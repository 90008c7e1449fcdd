"""bot/store/models.py: the migrations build exactly the tables the models describe."""

from __future__ import annotations

import re
from datetime import timezone

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select

import bot.store.dashboard_models  # noqa: F401  (its tables are part of Base.metadata)
from bot.store.models import Base, ChannelIdentity, Contact, InboxMessage, new_contact_id, utcnow


def test_the_migrated_database_matches_every_model(db):
    with db.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == []


def test_contact_ids_are_pseudonymous_and_unguessable():
    ids = {new_contact_id() for _ in range(1000)}
    assert len(ids) == 1000
    assert all(re.fullmatch(r"c_[0-9a-f]{20}", contact_id) for contact_id in ids)


def test_times_are_aware_utc():
    assert utcnow().tzinfo is timezone.utc


def test_defaults_of_a_new_inbound_message(db):
    with db.session() as session:
        contact = Contact()
        session.add(contact)
        session.flush()
        session.add(InboxMessage(channel="web", channel_message_id="m1", contact_id=contact.id,
                                 kind="text", text="bonjour"))
    with db.session() as session:
        message = session.scalars(select(InboxMessage)).one()
        assert (message.status, message.attempts, message.acknowledged) == ("pending", 0, False)
        assert message.received_at is not None and message.processed_at is None


def test_deleting_a_contact_deletes_its_identities_and_inbox(db):
    with db.session() as session:
        contact = Contact()
        session.add(contact)
        session.flush()
        session.add_all([
            ChannelIdentity(contact_id=contact.id, channel="web", address_hash="h",
                            address_encrypted="e"),
            InboxMessage(channel="web", channel_message_id="m1", contact_id=contact.id,
                         kind="text")])
    with db.session() as session:
        session.delete(session.get_one(Contact, contact.id))
    with db.session() as session:
        assert session.scalars(select(ChannelIdentity)).all() == []
        assert session.scalars(select(InboxMessage)).all() == []
