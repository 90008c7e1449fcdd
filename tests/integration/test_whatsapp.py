"""WhatsApp end to end: the real app and its real httpx client against a fake Graph API and a
fake Rasa, both on loopback; deliveries signed like Meta signs them."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import update

from bot.channels.whatsapp import WhatsAppChannel
from bot.core.messages import Choice, Reply
from bot.store.models import Contact, OutboxMessage, utcnow
from bot.testing import graph_api as meta
from bot.testing.graph_api import FakeGraphAPI
from bot.testing.harness import RunningApp, make_settings
from bot.testing.server import wait_for

TOKEN = "EAAG-test-token"
APP_SECRET = "app-secret-1"
VERIFY = "verify-me"
PHONE = "22376543210"  # the user's number: must never reach a log line


@pytest.fixture(scope="module")
def graph():
    fake = FakeGraphAPI(TOKEN).start()
    yield fake
    fake.stop()


@pytest.fixture
def fakes(graph, rasa):
    graph.reset()
    rasa.reset()
    return graph, rasa


@pytest.fixture
def app(tmp_path, fakes, monkeypatch):
    graph, rasa = fakes
    monkeypatch.setattr(WhatsAppChannel, "SEND_TIMEOUT", 1.0)
    settings = make_settings(tmp_path, rasa.url, whatsapp_access_token=TOKEN,
                             whatsapp_phone_number_id=meta.PHONE_NUMBER_ID,
                             whatsapp_app_secret=APP_SECRET, whatsapp_verify_token=VERIFY,
                             whatsapp_api_base_url=graph.url,
                             whatsapp_template_name="reprise_conversation")
    with RunningApp(settings) as running:
        yield running


async def deliver(app, payload: dict | bytes, signature: str | None = "sign") -> httpx.Response:
    body = payload if isinstance(payload, bytes) else meta.encode(payload)
    headers = {"Content-Type": "application/json"}
    if signature == "sign":
        headers["X-Hub-Signature-256"] = meta.sign(body, APP_SECRET)
    elif signature is not None:
        headers["X-Hub-Signature-256"] = signature
    async with httpx.AsyncClient() as client:
        return await client.post(f"{app.url}/webhooks/whatsapp", content=body, headers=headers)


def sent_to_user(graph) -> list[dict]:
    return [body for body in graph.sent() if body and body.get("to") == PHONE]


async def test_verification_handshake(app):
    url = f"{app.url}/webhooks/whatsapp"
    async with httpx.AsyncClient() as client:
        ok = await client.get(url, params={"hub.mode": "subscribe", "hub.verify_token": VERIFY,
                                           "hub.challenge": "1158201444"})
        assert (ok.status_code, ok.text) == (200, "1158201444")
        wrong = await client.get(url, params={"hub.mode": "subscribe",
                                              "hub.verify_token": "nope", "hub.challenge": "1"})
        assert wrong.status_code == 403
        assert (await client.get(url)).status_code == 403


async def test_signature_missing_is_401_and_wrong_is_403(app):
    payload = meta.webhook([meta.text_message(PHONE, "Bonjour")])
    assert (await deliver(app, payload, signature=None)).status_code == 401
    assert (await deliver(app, payload, signature="sha256=" + "0" * 64)).status_code == 403
    assert (await deliver(app, payload, signature="garbage")).status_code == 403
    assert app.inbox() == []


async def test_text_in_reply_buttons_out(app, fakes, caplog):
    graph, rasa = fakes
    caplog.set_level(logging.INFO)
    message = meta.text_message(PHONE, "Bonjour")
    assert (await deliver(app, meta.webhook([message]))).status_code == 200
    [row] = app.inbox()  # stored before the 200
    assert (row.channel_message_id, row.kind, row.text) == (message["id"], "text", "Bonjour")
    [sent] = await wait_for(lambda: sent_to_user(graph))
    # The real dialogue's greeting: its four themes are more than WhatsApp's three buttons.
    assert {k: sent[k] for k in ("messaging_product", "recipient_type", "to", "type")} == {
        "messaging_product": "whatsapp", "recipient_type": "individual", "to": PHONE,
        "type": "interactive"}
    assert sent["interactive"]["type"] == "list"
    assert sent["interactive"]["body"]["text"] == (
        "Bonjour ! Je suis l'assistant des orpailleurs. Choisissez un thème :")
    [request] = graph.calls("messages")
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    [out] = await wait_for(lambda: app.outbox(OutboxMessage.status == "sent"))
    assert out.provider_message_id.startswith("wamid.")
    assert PHONE not in caplog.text


async def test_more_choices_become_a_list_and_fewer_buttons(app, fakes):
    graph, _ = fakes
    await deliver(app, meta.webhook([meta.text_message(PHONE, "menu")]))
    [sent] = await wait_for(lambda: sent_to_user(graph))
    assert sent["interactive"]["type"] == "list"
    assert sent["interactive"]["action"]["sections"][0]["rows"][3] == {
        "id": "menu:protection", "title": "Problèmes et plaintes"}
    # The country question offers three choices: buttons.
    await deliver(app, meta.webhook([meta.button_reply(PHONE, "menu:licensing")]))
    sent = (await wait_for(lambda: len(sent_to_user(graph)) == 2 and sent_to_user(graph)))[1]
    assert sent["interactive"]["type"] == "button", sent


async def test_button_and_list_replies_are_choices(app, fakes):
    graph, rasa = fakes
    await deliver(app, meta.webhook([meta.button_reply(PHONE, "menu:main")]))
    await wait_for(lambda: len(sent_to_user(graph)) == 1)
    await deliver(app, meta.webhook([meta.list_reply(PHONE, "answer:mercury_health")]))
    sent = await wait_for(lambda: len(sent_to_user(graph)) == 2 and sent_to_user(graph))
    assert "Choisissez un thème" in sent[0]["interactive"]["body"]["text"]
    assert sent[1]["interactive"]["body"]["text"].startswith("Le mercure rend malade.")
    assert rasa.messages() == []  # choices need no NLU


async def test_duplicate_delivery_is_answered_once(app, fakes):
    graph, rasa = fakes
    payload = meta.webhook([meta.text_message(PHONE, "Bonjour")])
    for _ in range(3):
        assert (await deliver(app, payload)).status_code == 200
    await wait_for(lambda: sent_to_user(graph))
    time.sleep(0.5)
    assert len(app.inbox()) == 1
    assert len(rasa.messages()) == 1
    assert len(sent_to_user(graph)) == 1


async def test_rate_limit_honours_retry_after(app, fakes):
    graph, _ = fakes
    graph.fail_next(1, status=429, retry_after=2, match="messages")
    await deliver(app, meta.webhook([meta.text_message(PHONE, "Bonjour")]))
    await wait_for(lambda: app.outbox() and app.outbox()[0].attempts == 1)
    started = time.monotonic()
    [out] = await wait_for(lambda: app.outbox(OutboxMessage.status == "sent"))
    assert time.monotonic() - started >= 1.5  # Retry-After: 2, minus the polling slack
    assert out.attempts == 2
    assert len(graph.calls("messages")) == 2


async def test_server_errors_and_timeouts_are_retried(app, fakes):
    graph, _ = fakes
    graph.fail_next(1, status=500, match="messages")
    graph.hang_next(1, seconds=3, match="messages")
    await deliver(app, meta.webhook([meta.text_message(PHONE, "Bonjour")]))
    [out] = await wait_for(lambda: app.outbox(OutboxMessage.status == "sent"), timeout=20)
    assert out.attempts == 3


async def test_a_refused_reply_is_visible_as_failed(app, fakes):
    graph, _ = fakes
    graph.fail_next(1, status=400, code=131026, match="messages")
    await deliver(app, meta.webhook([meta.text_message(PHONE, "Bonjour")]))
    [out] = await wait_for(lambda: app.outbox(OutboxMessage.status == "failed"))
    assert "131026" in out.last_error and out.attempts == 1


async def test_delivery_statuses_update_the_outbox(app, fakes):
    graph, _ = fakes
    await deliver(app, meta.webhook([meta.text_message(PHONE, "Bonjour")]))
    [out] = await wait_for(lambda: app.outbox(OutboxMessage.status == "sent"))
    wamid = out.provider_message_id
    for state in ("delivered", "read", "delivered"):  # the late "delivered" changes nothing
        assert (await deliver(app, meta.webhook(statuses=[meta.status(wamid, state)]))
                ).status_code == 200
    [out] = app.outbox()
    assert out.status == "read" and out.status_updated_at is not None
    # A status for a message we never sent is acknowledged and ignored.
    assert (await deliver(app, meta.webhook(statuses=[meta.status("wamid.unknown", "read")]))
            ).status_code == 200


async def test_failed_status_is_recorded(app, fakes):
    await deliver(app, meta.webhook([meta.text_message(PHONE, "Bonjour")]))
    [out] = await wait_for(lambda: app.outbox(OutboxMessage.status == "sent"))
    errors = [{"code": 131047, "title": "Re-engagement message"}]
    await deliver(app, meta.webhook(statuses=[meta.status(out.provider_message_id, "failed",
                                                          errors=errors)]))
    [out] = app.outbox()
    assert out.status == "failed" and "131047" in out.last_error


async def test_voice_note_is_acknowledged_and_downloaded(app, fakes):
    graph, rasa = fakes
    graph.media["9988776655"] = (b"OggS\x00voice-note", "audio/ogg")
    graph.fail_next(1, status=500, match="media_bytes")  # the download is retried
    await deliver(app, meta.webhook([meta.voice_message(PHONE, media_id="9988776655")]))
    [row] = app.inbox()
    assert row.kind == "voice"
    [sent] = await wait_for(lambda: sent_to_user(graph))
    assert "vocal" in sent["text"]["body"]
    [media] = await wait_for(lambda: [m for m in app.media() if m.status == "stored"],
                             timeout=15)
    assert media.inbox_id == row.id and media.attempts == 2
    assert (app.settings.media_dir / media.path).read_bytes() == b"OggS\x00voice-note"
    assert PHONE not in media.path
    assert rasa.messages() == []


def _age_contact(app, hours: float) -> None:
    with app.db.session() as session:
        session.execute(update(Contact).values(last_inbound_at=utcnow() - timedelta(hours=hours)))


def _queue_reply(app, text: str) -> None:
    [contact] = app.contacts()
    with app.db.session() as session:
        session.add(OutboxMessage(contact_id=contact.id, channel="whatsapp",
                                  payload=Reply(text, [Choice("menu:main", "Menu")]).to_json()))


async def test_outside_the_24_hour_window_only_the_template_is_sent(app, fakes):
    graph, _ = fakes
    await deliver(app, meta.webhook([meta.text_message(PHONE, "Bonjour")]))
    await wait_for(lambda: app.outbox(OutboxMessage.status == "sent"))
    _age_contact(app, 25)
    _queue_reply(app, "Votre demande a une réponse.")
    await wait_for(lambda: len(sent_to_user(graph)) == 2)
    template = sent_to_user(graph)[1]
    assert template["type"] == "template"
    assert template["template"] == {"name": "reprise_conversation", "language": {"code": "fr"}}
    await wait_for(lambda: app.outbox()[1].status == "held")
    late = app.outbox()[1]
    assert "24-hour window" in late.last_error and "reprise_conversation" in late.last_error
    # A second reply meanwhile waits with the first: no second template.
    _queue_reply(app, "Et une deuxième nouvelle.")
    await wait_for(lambda: app.outbox()[2].status == "held")
    await asyncio.sleep(0.3)
    assert len(sent_to_user(graph)) == 2
    # The user answers the template: the held replies go out first, in order, then the answer.
    await deliver(app, meta.webhook([meta.text_message(PHONE, "Oui")]))
    await wait_for(lambda: len(sent_to_user(graph)) == 5, timeout=30)
    bodies = [(b.get("text") or {}).get("body") or b["interactive"]["body"]["text"]
              for b in sent_to_user(graph)[2:]]
    assert bodies[:2] == ["Votre demande a une réponse.", "Et une deuxième nouvelle."]
    assert bodies[2].startswith("Je n'ai pas bien compris.")  # the dialogue's answer to "Oui"
    await wait_for(lambda: all(row.status == "sent" for row in app.outbox()))


async def test_meta_refusing_free_text_falls_back_to_the_template(app, fakes):
    graph, _ = fakes
    graph.fail_next(1, status=400, code=131047, match="messages")
    await deliver(app, meta.webhook([meta.text_message(PHONE, "Bonjour")]))
    [out] = await wait_for(lambda: app.outbox(OutboxMessage.status == "held"))
    assert [body["type"] for body in sent_to_user(graph)] == ["interactive", "template"]
    assert "24-hour window" in out.last_error


@pytest.mark.parametrize("message, kind", [
    (lambda: meta.sticker_message(PHONE), "unsupported"),
    (lambda: meta.location_message(PHONE), "location"),
    (lambda: meta.image_message(PHONE, caption="ma carte"), "media"),
    (lambda: meta.text_message(PHONE, "🙏🙏"), "text"),
    (lambda: {"from": PHONE, "id": meta.wamid(), "timestamp": "1", "type": "unsupported",
              "errors": [{"code": 131051, "title": "Message type unknown"}]}, "unsupported"),
])
async def test_other_message_kinds_are_stored_and_answered(app, fakes, message, kind):
    graph, _ = fakes
    assert (await deliver(app, meta.webhook([message()]))).status_code == 200
    [row] = app.inbox()
    assert row.kind == kind
    await wait_for(lambda: sent_to_user(graph))


async def test_bad_input_is_refused_without_crashing(app, fakes):
    assert (await deliver(app, b"{not json")).status_code == 400
    assert (await deliver(app, b'{"object": "\xff"}')).status_code == 400
    big = b'{"object": "' + b"a" * (1024 * 1024) + b'"}'
    assert (await deliver(app, big)).status_code == 413
    assert (await deliver(app, {"object": "page", "entry": []})).status_code == 200
    assert (await deliver(app, {"object": "whatsapp_business_account",
                                "entry": [{"changes": [{"value": {"messages": [{"x": 1}]}}]}]})
            ).status_code == 200
    reaction = {"from": PHONE, "id": meta.wamid(), "timestamp": "1", "type": "reaction",
                "reaction": {"message_id": "wamid.x", "emoji": "👍"}}
    assert (await deliver(app, meta.webhook([reaction]))).status_code == 200
    assert app.inbox() == []


async def test_failure_after_the_last_retry_is_visible(app, fakes):
    graph, _ = fakes
    await deliver(app, meta.webhook([meta.text_message(PHONE, "Bonjour")]))
    await wait_for(lambda: app.outbox(OutboxMessage.status == "sent"))
    [contact] = app.contacts()
    with app.db.session() as session:  # a reply that has already been tried 11 times
        session.add(OutboxMessage(contact_id=contact.id, channel="whatsapp", attempts=11,
                                  payload=Reply("Encore une fois").to_json()))
    graph.fail_next(1, status=500, match="messages")
    [out] = await wait_for(lambda: app.outbox(OutboxMessage.status == "failed"))
    assert out.attempts == 12 and "HTTP 500" in out.last_error


async def test_a_download_larger_than_the_limit_is_cut_off_as_bytes_arrive(tmp_path, fakes):
    """Issue 14, door 7: Meta says 2 kB, the server streams on without Content-Length;
    the download stops once MEDIA_MAX_BYTES (1 MB here) has arrived, nothing is kept."""
    graph, rasa = fakes
    limit, total = 1024 * 1024, 1 << 40  # a terabyte: endless in practice
    graph.streams["5566778899"] = (total, "audio/ogg", 2048)
    settings = make_settings(tmp_path, rasa.url, whatsapp_access_token=TOKEN,
                             whatsapp_phone_number_id=meta.PHONE_NUMBER_ID,
                             whatsapp_app_secret=APP_SECRET, whatsapp_api_base_url=graph.url,
                             media_max_bytes=limit)
    with RunningApp(settings) as app:
        await deliver(app, meta.webhook([meta.voice_message(PHONE, media_id="5566778899")]))
        [media] = await wait_for(lambda: [m for m in app.media() if m.status == "failed"],
                                 timeout=20)
    assert "too large" in media.last_error and media.path is None
    # Stopped by our side: the server would have streamed on (bytes it pushed into socket
    # buffers before seeing the disconnect are counted too).
    assert graph.streamed["5566778899"] < 1 << 30
    assert not [p for p in settings.media_dir.rglob("*") if p.is_file()]
