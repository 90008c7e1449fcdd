"""Partner notifications and partner updates, with fake transports (no network)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.core.messages import Reply
from bot.core.notify import (
    NotifyError,
    PartnerNotifier,
    partner_notification,
    record_partner_update,
)
from bot.store import requests as store
from bot.store.models import Contact, FollowUpRequest, OutboxMessage, RequestEvent

PARTNERS = store.ReferenceData(
    partners=[
        {"id": "pact", "name": "Pact", "notify": {"kind": "telegram", "target": "-100200"}},
        {"id": "femima", "name": "FEMIMA",
         "notify": {"kind": "email", "target": "suivi@femima.test"},
         "protection_notify": {"kind": "email", "target": "protection@femima.test"}},
    ],
    routing=[{"country": "ML", "partner": "femima"}, {"partner": "pact"}],
    targets={"pollution": 168, "protection": 24})


class Recorder:
    def __init__(self, fail: bool = False):
        self.sent: list[tuple] = []
        self.fail = fail

    async def send(self, *args):
        if self.fail:
            raise NotifyError("smtp: ConnectionRefusedError")
        self.sent.append(args)


@pytest.fixture
def partners(db, monkeypatch):
    monkeypatch.setattr(store, "ensure_reference_data",
                        lambda session, path=None: store.sync_reference_data(session, PARTNERS))
    return PARTNERS


def new_request(db, contact, vault=None, **values):
    defaults = {"category": "pollution", "channel": "whatsapp", "country": "ML",
                "language": "bm", "locality": "Kéniéba", "summary": "Cyanure dans le marigot",
                "callback_method": "channel"}
    defaults.update(values)
    with db.session() as session:
        return store.create_request(session, contact_id=contact, **defaults)


async def test_a_new_request_is_emailed_to_its_partner(db, contact, partners):
    request = new_request(db, contact)
    email, telegram = Recorder(), Recorder()
    assert await PartnerNotifier(db, email, telegram).send_due() == 1
    [(to, subject, body)] = email.sent
    assert to == "suivi@femima.test" and subject == f"Demande {request.reference_code}"
    assert "Pollution" in body and "Kéniéba" in body and "Cyanure" in body
    assert telegram.sent == []
    assert await PartnerNotifier(db, email, telegram).send_due() == 0  # once only
    with db.session() as session:
        kinds = [e.kind for e in session.scalars(select(RequestEvent))]
    assert kinds == ["created", "notified"]


async def test_other_countries_go_to_the_fallback_partners_telegram_group(db, contact, partners):
    new_request(db, contact, country="GN")
    email, telegram = Recorder(), Recorder()
    await PartnerNotifier(db, email, telegram).send_due()
    assert [chat for chat, _ in telegram.sent] == ["-100200"]


async def test_protection_goes_to_protection_staff_without_any_detail(db, contact, vault,
                                                                      partners):
    new_request(db, contact, category="protection", callback_method="phone",
                callback_contact_encrypted=vault.encrypt("+22376123456"), callback_time="morning")
    email = Recorder()
    await PartnerNotifier(db, email).send_due()
    [(to, subject, body)] = email.sent
    assert to == "protection@femima.test"
    assert "76123456" not in body and "Cyanure" not in body and "Kéniéba" not in body
    assert "le matin" in body and "protection" not in subject.lower()


def test_a_phone_callback_never_shows_the_number(db, contact, vault, partners):
    request = new_request(db, contact, callback_method="phone",
                          callback_contact_encrypted=vault.encrypt("+22376123456"))
    _, body = partner_notification(request, None)
    assert "76123456" not in body and "tableau de bord" in body


async def test_a_failed_notification_is_retried_later(db, contact, partners):
    request = new_request(db, contact)
    await PartnerNotifier(db, Recorder(fail=True)).send_due()
    with db.session() as session:
        row = session.get(FollowUpRequest, request.id)
        assert row.notified_at is None and row.notify_attempts == 1
        assert row.notify_next_at is not None and "ConnectionRefused" in row.notify_error


async def test_a_partner_without_a_channel_is_not_retried(db, contact, partners):
    new_request(db, contact, country="ML")
    await PartnerNotifier(db, email=None).send_due()
    with db.session() as session:
        row = session.scalar(select(FollowUpRequest))
        assert row.notify_next_at is None and row.notify_error == "not_configured"


def test_a_partner_update_reaches_the_miner_on_their_channel(db, contact, partners):
    request = new_request(db, contact, language="fr")
    with db.session() as session:
        record_partner_update(session, request.reference_code, "in_progress",
                              "Nous venons jeudi.", actor="femima:awa")
    with db.session() as session:
        [row] = session.scalars(select(OutboxMessage)).all()
        reply = Reply.from_json(row.payload)
        assert (row.channel, row.contact_id) == ("whatsapp", contact)
        assert request.reference_code in reply.text and "Nous venons jeudi." in reply.text
        assert "en cours" in reply.text
        updated = session.get(FollowUpRequest, request.id)
        assert (updated.status, updated.partner_message) == ("in_progress", "Nous venons jeudi.")


def test_a_forbidden_status_is_refused(db, contact, partners):
    request = new_request(db, contact)
    with db.session() as session, pytest.raises(store.InvalidTransition):
        record_partner_update(session, session.get(FollowUpRequest, request.id),
                              "archived", "x")


def test_a_protection_update_says_nothing_in_the_preview(db, contact, vault, partners):
    request = new_request(db, contact, category="protection", callback_method="phone",
                          callback_contact_encrypted=vault.encrypt("+22376123456"))
    with db.session() as session:
        record_partner_update(session, session.get(FollowUpRequest, request.id), "assigned",
                              "Awa vous appelle demain matin.")
        reply = Reply.from_json(session.scalar(select(OutboxMessage)).payload)
    assert "Awa" not in reply.text and "suivi" in reply.text


def test_no_message_to_a_miner_who_asked_to_be_erased(db, contact, partners):
    request = new_request(db, contact)
    with db.session() as session:
        session.get(Contact, contact).erase_requested_at = request.created_at
    with db.session() as session:
        record_partner_update(session, session.get(FollowUpRequest, request.id), "assigned")
        assert session.scalars(select(OutboxMessage)).all() == []


async def test_two_notifiers_never_send_the_same_request_twice(db, contact, partners):
    import asyncio

    new_request(db, contact)
    email = Recorder()
    sent = await asyncio.gather(PartnerNotifier(db, email).send_due(),
                                PartnerNotifier(db, email).send_due())
    assert sorted(sent) == [0, 1] and len(email.sent) == 1
