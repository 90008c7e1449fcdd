"""A partner's reply from the dashboard reaches the miner: the real app on loopback, a partner
signing in over HTTP, and the reply going out through the outbox to python-telegram-bot
against the fake Bot API, and to the fake WhatsApp Graph API (inside and outside the
24-hour window)."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError

from bot.channels.telegram import TelegramChannel
from bot.channels.whatsapp import WhatsAppChannel
from bot.store import dashboard as ds
from bot.store import requests as store
from bot.store.models import Contact, OutboxMessage, utcnow
from bot.testing import graph_api as meta
from bot.testing.graph_api import FakeGraphAPI
from bot.testing.harness import RunningApp, make_settings
from bot.testing.server import wait_for
from bot.testing.telegram_api import FakeTelegramAPI, text_update

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")

TG_TOKEN, TG_SECRET, CHAT = "123456:TEST-token", "webhook-secret-1", 7301234999
WA_TOKEN, WA_SECRET, PHONE = "EAAG-test-token", "app-secret-1", "22376540000"
PASSWORD = "mot de passe du partenaire"


@pytest.fixture(scope="module")
def telegram_api():
    fake = FakeTelegramAPI(TG_TOKEN).start()
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def graph():
    fake = FakeGraphAPI(WA_TOKEN).start()
    yield fake
    fake.stop()


@pytest.fixture
def running(tmp_path, telegram_api, graph, rasa, monkeypatch):
    telegram_api.reset()
    graph.reset()
    rasa.reset()
    monkeypatch.setattr(TelegramChannel, "SEND_TIMEOUT", 1.0)
    monkeypatch.setattr(WhatsAppChannel, "SEND_TIMEOUT", 1.0)
    settings = make_settings(
        tmp_path, rasa.url, dashboard_cookie_secure=False,
        telegram_bot_token=TG_TOKEN, telegram_api_base_url=f"{telegram_api.url}/bot",
        telegram_api_file_url=f"{telegram_api.url}/file/bot",
        telegram_webhook_secret=TG_SECRET,
        telegram_webhook_url="https://bot.example.org/webhooks/telegram",
        whatsapp_access_token=WA_TOKEN, whatsapp_phone_number_id=meta.PHONE_NUMBER_ID,
        whatsapp_app_secret=WA_SECRET, whatsapp_verify_token="verify",
        whatsapp_api_base_url=graph.url, whatsapp_template_name="reprise_conversation")
    with RunningApp(settings) as app:
        with app.db.session() as session:
            ds.sync_organisations(session)
            store.ensure_reference_data(session)
            ds.create_user(session, "awa", PASSWORD, "femima", "caseworker")
        yield app


async def _partner(app) -> tuple[httpx.AsyncClient, str]:
    client = httpx.AsyncClient(base_url=app.url)
    page = await client.get("/dashboard/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    response = await client.post("/dashboard/login", data={
        "username": "awa", "password": PASSWORD, "csrf_token": csrf})
    assert response.status_code == 303 and response.headers["location"] == "/dashboard/requests"
    listing = await client.get("/dashboard/requests")
    return client, re.search(r'name="csrf_token" value="([^"]+)"', listing.text).group(1)


def _request_for(app, channel: str) -> str:
    """A request made outside the app's process (as a second app process would): on SQLite a
    write racing the app's own can be refused at once (a stale WAL snapshot), so it is retried."""
    [contact] = app.contacts()
    for attempt in range(20):
        try:
            with app.db.session() as session:
                return store.create_request(
                    session, contact_id=contact.id, category="pollution", channel=channel,
                    country="ML", summary="Le cyanure coule dans le marigot").reference_code
        except OperationalError:
            if attempt == 19:
                raise
            time.sleep(0.1)
    raise AssertionError("unreachable")


async def test_reply_reaches_the_miner_on_telegram(running, telegram_api):
    app = running
    async with httpx.AsyncClient() as client:
        response = await client.post(f"{app.url}/webhooks/telegram",
                                     json=text_update(CHAT, "Bonjour"),
                                     headers={"X-Telegram-Bot-Api-Secret-Token": TG_SECRET})
        assert response.status_code == 200
    await wait_for(lambda: len(telegram_api.sent_messages()) == 1)
    code = _request_for(app, "telegram")
    partner, csrf = await _partner(app)
    try:
        response = await partner.post(f"/dashboard/requests/{code}/reply", data={
            "message": "Une équipe passe au marigot jeudi.", "csrf_token": csrf})
        assert response.status_code == 303
        sent = await wait_for(lambda: telegram_api.sent_messages()[1:])
        assert sent[0]["chat_id"] in (CHAT, str(CHAT))
        assert code in sent[0]["text"] and "Une équipe passe au marigot jeudi." in sent[0]["text"]
        await wait_for(lambda: all(o.status == "sent" for o in app.outbox()))
        page = await partner.get(f"/dashboard/requests/{code}")
        assert "envoyé" in page.text
        # A status change with a message reaches the miner the same way.
        response = await partner.post(f"/dashboard/requests/{code}/status", data={
            "status": "resolved", "message": "Le chef de village a fait arrêter.",
            "csrf_token": csrf})
        assert response.status_code == 303
        sent = await wait_for(lambda: telegram_api.sent_messages()[2:])
        assert "résolue" in sent[0]["text"] and "Le chef de village" in sent[0]["text"]
    finally:
        await partner.aclose()


async def test_reply_on_whatsapp_inside_and_outside_the_24_hour_window(running, graph):
    app = running

    async def deliver(payload):
        body = meta.encode(payload)
        async with httpx.AsyncClient() as client:
            return await client.post(f"{app.url}/webhooks/whatsapp", content=body, headers={
                "Content-Type": "application/json",
                "X-Hub-Signature-256": meta.sign(body, WA_SECRET)})

    def to_miner():
        return [b for b in graph.sent() if b and b.get("to") == PHONE]

    await deliver(meta.webhook([meta.text_message(PHONE, "Bonjour")]))
    await wait_for(lambda: len(to_miner()) == 1)
    code = _request_for(app, "whatsapp")
    partner, csrf = await _partner(app)
    try:
        await partner.post(f"/dashboard/requests/{code}/reply", data={
            "message": "Nous avons bien reçu.", "csrf_token": csrf})
        await wait_for(lambda: len(to_miner()) == 2)
        body = to_miner()[1]
        text = (body.get("text") or {}).get("body") or body["interactive"]["body"]["text"]
        assert "Nous avons bien reçu." in text

        # 25 hours later: the template goes, the reply is held, the page says so.
        with app.db.session() as session:
            session.execute(update(Contact).values(
                last_inbound_at=utcnow() - timedelta(hours=25)))
        page = await partner.get(f"/dashboard/requests/{code}")
        assert "plus de 24 heures" in page.text
        await partner.post(f"/dashboard/requests/{code}/reply", data={
            "message": "Pouvez-vous nous rappeler ?", "csrf_token": csrf})
        await wait_for(lambda: len(to_miner()) == 3)
        assert to_miner()[2]["type"] == "template"
        await wait_for(lambda: app.outbox(OutboxMessage.status == "held"))
        page = await partner.get(f"/dashboard/requests/{code}")
        assert "retenu" in page.text
        # The miner writes: the held reply goes out.
        await deliver(meta.webhook([meta.text_message(PHONE, "Oui")]))
        await wait_for(lambda: any(
            "Pouvez-vous nous rappeler ?" in ((b.get("text") or {}).get("body") or
                                               b.get("interactive", {}).get("body", {})
                                               .get("text", ""))
            for b in to_miner()[3:]))
        with app.db.session() as session:
            assert not session.scalars(select(OutboxMessage).where(
                OutboxMessage.status == "held")).all()
    finally:
        await partner.aclose()
