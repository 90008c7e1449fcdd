"""A report through the whole pipeline, the partner's e-mail through a loopback SMTP server,
the partner's answer back to the miner, and the migration both ways; SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import logging
import secrets

import pytest
from sqlalchemy import inspect, select

from bot.core.notify import EmailSender, PartnerNotifier, SmtpSettings, record_partner_update
from bot.store import requests as store
from bot.store.db import Database
from bot.store.identities import IdentityVault
from bot.store.models import (
    Base,
    ChannelIdentity,
    FollowUpRequest,
    OutboxMessage,
    RequestEvent,
)
from bot.testing.requests_world import World
from bot.testing.smtp import FakeSmtp

PARTNERS = store.ReferenceData(
    partners=[{"id": "pact", "name": "Pact"},
              {"id": "femima", "name": "FEMIMA",
               "notify": {"kind": "email", "target": "suivi@femima.test"}}],
    routing=[{"country": "ML", "partner": "femima"}, {"partner": "pact"}],
    targets={"pollution": 168})


async def test_report_notify_the_partner_and_answer_the_miner(world: World, monkeypatch, caplog):
    caplog.set_level(logging.INFO)
    monkeypatch.setattr(store, "ensure_reference_data",
                        lambda session, path=None: store.sync_reference_data(session, PARTNERS))
    await world.say("bonjour")
    await world.say("Je veux signaler un problème")
    await world.press("flow:report:cat:pollution")
    await world.say("Kéniéba")
    await world.say("Le cyanure coule dans le marigot du village")
    await world.press("flow:report:contact:here")
    await world.press("flow:report:confirm")
    with world.db.session() as session:
        request = session.scalar(select(FollowUpRequest))
    assert request.reference_code in world.text and request.country == "ML"
    assert request.summary == "Le cyanure coule dans le marigot du village"

    with FakeSmtp() as smtp:
        notifier = PartnerNotifier(world.db, EmailSender(SmtpSettings("127.0.0.1", smtp.port,
                                                                      "bot@assistant.test",
                                                                      starttls=False)))
        assert await notifier.send_due() == 1
    [message] = smtp.messages
    assert message["To"] == "suivi@femima.test"
    assert message["Subject"] == f"Demande {request.reference_code}"
    body = message.get_content()
    assert "Pollution" in body and "Kéniéba (zone 4)" in body and "cyanure" in body
    assert "22376000001" not in body

    # The dashboard records the partner's answer: the miner hears it on WhatsApp.
    with world.db.session() as session:
        record_partner_update(session, request.reference_code, "in_progress",
                              "Une équipe passe jeudi.", actor="femima:awa")
    with world.db.session() as session:
        row = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc())).first()
        kinds = [e.kind for e in session.scalars(select(RequestEvent).order_by(RequestEvent.id))]
    assert row.channel == "whatsapp" and row.status == "pending" and row.inbox_id is None
    assert "Une équipe passe jeudi." in row.payload["text"]
    assert kinds == ["created", "notified", "status"]

    await world.say("suivi")
    await world.press(f"flow:status:ref:{request.reference_code}")
    assert "en cours" in world.text and "Une équipe passe jeudi." in world.text
    assert "22376000001" not in caplog.text


def test_the_migration_goes_up_and_down(database_url):
    db = Database(database_url)
    try:
        db.upgrade("head")
        inspector = inspect(db.engine)
        for table in Base.metadata.sorted_tables:
            columns = {c["name"] for c in inspector.get_columns(table.name)}
            assert {c.name for c in table.columns} <= columns, table.name
        db.downgrade("base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        db.upgrade("head")
        assert "follow_up_requests" in inspect(db.engine).get_table_names()
    finally:
        db.dispose()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_downgrading_keeps_the_contacts(database_url):
    """Dropping the request tables must not cascade into contacts and identities."""
    db = Database(database_url)
    try:
        db.upgrade("head")
        vault = IdentityVault(base64.urlsafe_b64encode(secrets.token_bytes(32)).decode())
        with db.session() as session:
            vault.find_or_create_contact(session, "whatsapp", "+22376000001")
        db.downgrade("0003_channels")
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM channel_identities").scalar() == 1
        db.upgrade("head")
        with db.session() as session:
            assert len(session.scalars(select(ChannelIdentity)).all()) == 1
    finally:
        db.dispose()


async def test_a_partner_can_be_notified_in_a_telegram_group(world: World, monkeypatch):
    import httpx

    from bot.core.notify import TelegramGroupSender
    from bot.testing.telegram_api import FakeTelegramAPI

    data = store.ReferenceData(
        partners=[{"id": "pact", "name": "Pact",
                   "notify": {"kind": "telegram", "target": "-1001234"}}],
        routing=[{"partner": "pact"}], targets={})
    monkeypatch.setattr(store, "ensure_reference_data",
                        lambda session, path=None: store.sync_reference_data(session, data))
    with world.db.session() as session:
        request = store.create_request(session, contact_id=None, category="accident",
                                       channel="web", country="GN", summary="Puits effondré")
    telegram = FakeTelegramAPI(token="123:ABC").start()
    try:
        async with httpx.AsyncClient() as http:
            sender = TelegramGroupSender(http, "123:ABC", f"{telegram.url}/bot")
            telegram.fail_next(1, status=500, match="sendMessage")
            notifier = PartnerNotifier(world.db, telegram=sender)
            assert await notifier.send_due() == 0  # failed: retried later, not lost
            with world.db.session() as session:
                session.get(FollowUpRequest, request.id).notify_next_at = request.created_at
            assert await notifier.send_due() == 1
        [sent] = telegram.sent_messages()[-1:]
        assert int(sent["chat_id"]) == -1001234
        assert request.reference_code in sent["text"] and "Puits effondré" in sent["text"]
    finally:
        telegram.stop()
