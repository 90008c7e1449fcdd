"""WhatsApp: parsing Meta's published webhook payloads, the signature, and how sending maps
the Graph API's answers to SendError (httpx.MockTransport: no network)."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import httpx
import pytest

from bot.channels.whatsapp import (
    WhatsAppChannel,
    parse_webhook,
    retry_after_seconds,
    signature_matches,
)
from bot.core.gateway import SendError, Sent
from bot.core.messages import Channel, Choice, InboundKind, Location, Reply

PHONE_NUMBER_ID = "106540352242922"


def envelope(value: dict) -> dict:
    """Meta's documented envelope, as in the Cloud API webhook reference."""
    return {"object": "whatsapp_business_account", "entry": [{
        "id": "102290129340398",
        "changes": [{"value": {"messaging_product": "whatsapp",
                               "metadata": {"display_phone_number": "15550783881",
                                            "phone_number_id": PHONE_NUMBER_ID},
                               **value},
                     "field": "messages"}]}]}


def one_message(message: dict):
    delivery = parse_webhook(envelope({
        "contacts": [{"profile": {"name": "Sheena Nelson"}, "wa_id": "16505551234"}],
        "messages": [message]}), PHONE_NUMBER_ID)
    assert delivery.statuses == []
    [inbound] = delivery.messages
    assert inbound.channel == Channel.WHATSAPP
    assert inbound.address == "16505551234"
    return inbound


def test_text_message():
    inbound = one_message({
        "from": "16505551234",
        "id": "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=",
        "timestamp": "1749416383", "type": "text",
        "text": {"body": "Does it come in another color?"}})
    assert inbound.kind == InboundKind.TEXT
    assert inbound.text == "Does it come in another color?"
    assert inbound.channel_message_id == \
        "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA="


def test_interactive_button_reply():
    inbound = one_message({
        "context": {"from": "15550783881",
                    "id": "wamid.HBgLMTY0NjcwNDM1OTUVAgARGBI1RjQyNUE3NEYxMzAzMzQ5MkEA"},
        "from": "16505551234",
        "id": "wamid.HBgLMTY0NjcwNDM1OTUVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=",
        "timestamp": "1714510003", "type": "interactive",
        "interactive": {"type": "button_reply",
                        "button_reply": {"id": "country:ML", "title": "Mali"}}})
    assert (inbound.kind, inbound.choice_id) == (InboundKind.CHOICE, "country:ML")


def test_interactive_list_reply():
    inbound = one_message({
        "context": {"from": "15550783881",
                    "id": "wamid.HBgLMTY0NjcwNDM1OTUVAgARGBI1RjQyNUE3NEYxMzAzMzQ5MkEA"},
        "from": "16505551234",
        "id": "wamid.HBgLMTY0NjcwNDM1OTUVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgB=",
        "timestamp": "1714510003", "type": "interactive",
        "interactive": {"type": "list_reply",
                        "list_reply": {"id": "answer:mercury_health", "title": "Mercure et santé",
                                       "description": ""}}})
    assert (inbound.kind, inbound.choice_id) == (InboundKind.CHOICE, "answer:mercury_health")


def test_audio_with_voice_true_is_a_voice_note():
    inbound = one_message({
        "from": "16505551234",
        "id": "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgC=",
        "timestamp": "1744344496", "type": "audio",
        "audio": {"mime_type": "audio/ogg; codecs=opus",
                  "sha256": "mgbW1uk6+fxfQGHbZ0VjTlyS2Cg5pMRmDnBHLsBjTK8=",
                  "id": "1003383421387256", "voice": True}})
    assert inbound.kind == InboundKind.VOICE
    assert inbound.media.kind == "voice" and inbound.media.ref == "1003383421387256"
    assert inbound.media.mime_type == "audio/ogg; codecs=opus"


def test_audio_file_is_media():
    inbound = one_message({"from": "16505551234", "id": "wamid.A1", "timestamp": "1",
                           "type": "audio", "audio": {"mime_type": "audio/mpeg", "id": "77",
                                                      "voice": False}})
    assert (inbound.kind, inbound.media.kind) == (InboundKind.MEDIA, "audio")


def test_location():
    inbound = one_message({
        "from": "16505551234",
        "id": "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgD=",
        "timestamp": "1744344496", "type": "location",
        "location": {"address": "101 Forest Ave, Palo Alto, California",
                     "latitude": 37.44216251868683, "longitude": -122.16153582049394,
                     "name": "Philz Coffee", "url": "https://philzcoffee.com/"}})
    assert inbound.kind == InboundKind.LOCATION
    assert inbound.location == Location(37.44216251868683, -122.16153582049394)


@pytest.mark.parametrize("message, kind", [
    ({"type": "sticker", "sticker": {"mime_type": "image/webp", "id": "1", "animated": False}},
     InboundKind.UNSUPPORTED),
    ({"type": "image", "image": {"mime_type": "image/jpeg", "id": "2", "caption": "ma carte"}},
     InboundKind.MEDIA),
    ({"type": "document", "document": {"mime_type": "application/pdf", "id": "3"}},
     InboundKind.MEDIA),
    ({"type": "video", "video": {"mime_type": "video/mp4", "id": "4"}}, InboundKind.MEDIA),
    ({"type": "contacts", "contacts": [{"name": {"formatted_name": "Moussa"},
                                        "phones": [{"phone": "+22370000000"}]}]},
     InboundKind.CONTACT),
    ({"type": "unsupported", "errors": [{"code": 131051, "title": "Message type unknown"}]},
     InboundKind.UNSUPPORTED),
    ({"type": "location", "location": {"latitude": "north"}}, InboundKind.UNSUPPORTED),
    ({"type": "interactive", "interactive": {"type": "nfm_reply"}}, InboundKind.UNSUPPORTED),
    ({"type": "button", "button": {"payload": "menu:main", "text": "Continuer"}},
     InboundKind.CHOICE),
    ({"type": "button", "button": {"payload": "CONTINUE", "text": "Continuer"}},
     InboundKind.TEXT),
    ({"type": "brand_new_type"}, InboundKind.UNSUPPORTED),
])
def test_other_kinds(message, kind):
    inbound = one_message({"from": "16505551234", "id": "wamid.X", "timestamp": "1", **message})
    assert inbound.kind == kind
    assert "+22370000000" not in repr(inbound)


def test_image_keeps_its_caption():
    inbound = one_message({"from": "16505551234", "id": "wamid.X", "timestamp": "1",
                           "type": "image", "image": {"mime_type": "image/jpeg", "id": "2",
                                                      "caption": "ma carte"}})
    assert (inbound.text, inbound.media.kind) == ("ma carte", "photo")


def test_statuses():
    delivery = parse_webhook(envelope({"statuses": [
        {"id": "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI3MTE5MjVBOTE3MDk5QUVFM0YA", "status": "sent",
         "timestamp": "1750263773", "recipient_id": "16505551234",
         "conversation": {"id": "6ceb9d929c0ad1b0d2b8e9d2f1e4f7a1",
                          "expiration_timestamp": "1750350180",
                          "origin": {"type": "service"}},
         "pricing": {"billable": True, "pricing_model": "PMP", "category": "service"}},
        {"id": "wamid.B", "status": "delivered", "timestamp": "1750263774",
         "recipient_id": "16505551234"},
        {"id": "wamid.C", "status": "read", "timestamp": "1750263775",
         "recipient_id": "16505551234"},
        {"id": "wamid.D", "status": "failed", "timestamp": "1750263776",
         "recipient_id": "16505551234",
         "errors": [{"code": 131047, "title": "Re-engagement message",
                     "message": "Re-engagement message"}]},
        {"id": "wamid.E", "status": "deleted"},
    ]}))
    assert [(s.provider_message_id, s.status) for s in delivery.statuses] == [
        ("wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI3MTE5MjVBOTE3MDk5QUVFM0YA", "sent"),
        ("wamid.B", "delivered"), ("wamid.C", "read"), ("wamid.D", "failed")]
    assert delivery.statuses[3].error == "131047 Re-engagement message"
    assert delivery.ignored == ["unreadable status"]


@pytest.mark.parametrize("data", [None, [], "x", {"object": "page"},
                                  {"object": "whatsapp_business_account", "entry": "x"},
                                  {"object": "whatsapp_business_account",
                                   "entry": [{"changes": [{"value": {"messages": [{}, 3]}}]}]}])
def test_malformed_payloads_yield_nothing(data):
    delivery = parse_webhook(data, PHONE_NUMBER_ID)
    assert delivery.messages == [] and delivery.statuses == []


def test_reactions_are_not_messages():
    delivery = parse_webhook(envelope({"messages": [
        {"from": "16505551234", "id": "wamid.R", "timestamp": "1", "type": "reaction",
         "reaction": {"message_id": "wamid.Y", "emoji": "👍"}}]}))
    assert delivery.messages == [] and delivery.ignored == ["message of type reaction"]


def test_another_phone_number_is_ignored():
    payload = envelope({"messages": [{"from": "1", "id": "wamid.Z", "type": "text",
                                      "text": {"body": "x"}}]})
    assert parse_webhook(payload, "999").messages == []


def test_signature():
    body = b'{"object":"whatsapp_business_account"}'
    good = "sha256=" + hmac.new(b"secret", body, hashlib.sha256).hexdigest()
    assert signature_matches("secret", body, good)
    assert not signature_matches("secret", body + b" ", good)
    assert not signature_matches("other", body, good)
    assert not signature_matches("secret", body, "sha256=é")


def test_retry_after_header():
    assert retry_after_seconds(httpx.Response(429, headers={"Retry-After": "7"})) == 7.0
    when = (datetime.now(timezone.utc) + timedelta(seconds=30)).strftime(
        "%a, %d %b %Y %H:%M:%S GMT")
    assert 25 <= retry_after_seconds(httpx.Response(429, headers={"Retry-After": when})) <= 31
    assert retry_after_seconds(httpx.Response(429)) is None
    assert retry_after_seconds(httpx.Response(429, headers={"Retry-After": "soon"})) is None


# ----------------------------------------------------------------------------- sending
class FakeGateway:
    def __init__(self, last_inbound: datetime | None):
        self.last = last_inbound

    def last_inbound_at(self, _channel, _address):
        return self.last


def channel_with(handler, last_inbound=timedelta(minutes=5)) -> WhatsAppChannel:
    settings = SimpleNamespace(
        whatsapp_api_base_url="https://graph.test/v21.0", whatsapp_phone_number_id="42",
        whatsapp_access_token="tok", whatsapp_template_name="reprise_conversation",
        whatsapp_app_secret="s", media_dir="/nonexistent",
        media_max_bytes=64 * 1024 * 1024)
    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    when = datetime.now(timezone.utc) - last_inbound if last_inbound is not None else None
    return WhatsAppChannel(settings, FakeGateway(when), http)


def graph_error(status: int, code: int, headers: dict | None = None) -> httpx.Response:
    return httpx.Response(status, headers=headers,
                          json={"error": {"message": f"(#{code}) error", "code": code}})


def ok(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={"messages": [{"id": "wamid.OK"}]})


async def test_send_posts_to_the_phone_number_with_the_token():
    seen = []

    def handler(request):
        seen.append(request)
        return ok(request)

    assert await channel_with(handler).send("22370000000", Reply("Bonjour")) == "wamid.OK"
    [request] = seen
    assert str(request.url) == "https://graph.test/v21.0/42/messages"
    assert request.headers["authorization"] == "Bearer tok"


@pytest.mark.parametrize("response, retryable, retry_after", [
    (graph_error(429, 130429, {"Retry-After": "3"}), True, 3.0),
    (graph_error(400, 131056), True, None),  # pair rate limit
    (graph_error(500, 1), True, None),
    (graph_error(503, 2), True, None),
    (graph_error(401, 190), True, None),  # an expired token: fixed by the operator
    (graph_error(400, 100), False, None),
    (graph_error(400, 131026), False, None),
    (graph_error(404, 100), False, None),
    (httpx.Response(502, text="<html>bad gateway</html>"), True, None),
])
async def test_send_errors(response, retryable, retry_after):
    channel = channel_with(lambda request: response)
    with pytest.raises(SendError) as error:
        await channel.send("22370000000", Reply("Bonjour"))
    assert (error.value.retryable, error.value.retry_after) == (retryable, retry_after)
    assert "22370000000" not in str(error.value)


async def test_timeouts_and_connection_errors_are_retryable():
    def timeout(request):
        raise httpx.ReadTimeout("slow", request=request)

    def refused(request):
        raise httpx.ConnectError("refused", request=request)

    for handler in (timeout, refused):
        with pytest.raises(SendError) as error:
            await channel_with(handler).send("22370000000", Reply("Bonjour"))
        assert error.value.retryable


async def test_outside_the_window_the_template_is_sent_with_a_note():
    bodies = []

    def handler(request):
        bodies.append(request.read())
        return ok(request)

    channel = channel_with(handler, last_inbound=timedelta(hours=25))
    result = await channel.send("22370000000", Reply("Bonjour", [Choice("menu:main", "Menu")]))
    assert isinstance(result, Sent) and result.provider_message_id == "wamid.OK"
    assert "24-hour window" in result.note
    assert b'"type":"template"' in bodies[0].replace(b" ", b"")
    never = channel_with(handler, last_inbound=None)
    assert isinstance(await never.send("1", Reply("x")), Sent)


async def test_a_split_reply_resumes_where_it_stopped():
    text = "\n\n".join("mot " * 900 for _ in range(2))  # two text messages
    calls = []

    def handler(request):
        calls.append(request)
        if len(calls) == 2:
            return graph_error(500, 1)
        return ok(request)

    channel = channel_with(handler)
    with pytest.raises(SendError):
        await channel.send("22370000000", Reply(text))
    assert await channel.send("22370000000", Reply(text)) == "wamid.OK"
    assert len(calls) == 3  # the first part was not sent twice


async def test_a_receipt_that_overtakes_the_send_is_recorded_later(monkeypatch):
    from bot.channels.whatsapp import StatusUpdate

    class SlowGateway(FakeGateway):
        def __init__(self):
            super().__init__(None)
            self.attempts = 0

        def record_delivery_status(self, _channel, wamid, status, error):
            self.attempts += 1
            return self.attempts >= 3  # the wamid is stored by the third try

    channel = channel_with(ok)
    channel.gateway = SlowGateway()
    monkeypatch.setattr(WhatsAppChannel, "STATUS_RETRY_DELAYS", (0, 0, 0, 0))
    await channel.retry_statuses([StatusUpdate("wamid.A", "delivered")])
    assert channel.gateway.attempts == 3
