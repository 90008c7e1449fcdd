"""Intake (bot/core/delivery/intake.py): a message is stored once, before anything else, and
the address only encrypted."""

from __future__ import annotations

import sqlite3

from bot.store.models import Contact, InboxMessage


async def test_a_message_is_stored_once_even_when_delivered_twice(world):
    first = world.gateway.accept(world.text("m1", "bonjour"))
    again = world.gateway.accept(world.text("m1", "bonjour"))
    assert again.duplicate and again.inbox_id == first.inbox_id
    assert not first.duplicate
    with world.db.session() as session:
        assert session.query(InboxMessage).count() == 1


async def test_the_phone_number_is_stored_only_encrypted(world):
    world.gateway.accept(world.text("m1", "bonjour", address="+22370123456"))
    dump = "\n".join(sqlite3.connect(world.path / "db.sqlite").iterdump())
    assert "22370123456" not in dump


async def test_one_contact_per_address_and_its_last_message_time_moves(world):
    first = world.gateway.accept(world.text("m1", "bonjour"))
    with world.db.session() as session:
        before = session.get(Contact, first.contact_id).last_inbound_at
    second = world.gateway.accept(world.text("m2", "encore"))
    other = world.gateway.accept(world.text("m3", "salut", address="+22370000002"))
    assert second.contact_id == first.contact_id != other.contact_id
    with world.db.session() as session:
        assert session.get(Contact, first.contact_id).last_inbound_at > before


async def test_typed_text_in_a_sensitive_step_is_not_stored(world):
    accepted = world.gateway.accept(world.text("m1", "bonjour"))
    with world.db.session() as session:
        session.get(Contact, accepted.contact_id).sensitive_mode = "protection"
    private = world.gateway.accept(world.text("m2", "mon chef me menace"))
    with world.db.session() as session:
        row = session.get(InboxMessage, private.inbox_id)
        assert row.text is None and "private" in row.payload
    dump = "\n".join(sqlite3.connect(world.path / "db.sqlite").iterdump())
    assert "menace" not in dump
