"""A fake WhatsApp Cloud (Graph) API on loopback, spoken to by the app's real httpx client.

    fake = FakeGraphAPI(token="EAAG-test", phone_number_id="1234567890").start()
    WHATSAPP_API_BASE_URL = fake.url

Routes: POST /{phone_number_id}/messages (returns a wamid), GET /{media_id} (media info with
a url on this server), GET /media-bytes/{media_id} (the bytes). All need the Bearer token.
Faults: `fail_next(n, status=429, retry_after=2)` (sets Retry-After and Meta's error body),
`fail_next(n, status=400, code=131047)`, `fail_next(n, status=500)`, `hang_next(n, seconds=5)`.

Builders make Meta's published webhook payloads (text, interactive button_reply/list_reply,
audio with voice true, location, statuses) and sign them like Meta does.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import time
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from bot.testing.server import FaultInjector, LoopbackServer, Recorded, ServedFake

PHONE_NUMBER_ID = "106540352242922"
DISPLAY_NUMBER = "15550783881"
_counter = itertools.count(1)


# ------------------------------------------------------------------------------ payloads
def wamid() -> str:
    return f"wamid.HBgLMTY1MDUwNzY1MjAVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA{next(_counter):05d}="


def webhook(messages: list[dict] | None = None, statuses: list[dict] | None = None,
            phone_number_id: str = PHONE_NUMBER_ID, wa_id: str = "16505551234") -> dict[str, Any]:
    """The envelope Meta posts (one entry, one change)."""
    value: dict[str, Any] = {"messaging_product": "whatsapp",
                             "metadata": {"display_phone_number": DISPLAY_NUMBER,
                                          "phone_number_id": phone_number_id}}
    if messages is not None:
        value["contacts"] = [{"profile": {"name": "Kerry Fisher"}, "wa_id": wa_id}]
        value["messages"] = messages
    if statuses is not None:
        value["statuses"] = statuses
    return {"object": "whatsapp_business_account",
            "entry": [{"id": "102290129340398", "changes": [{"value": value,
                                                             "field": "messages"}]}]}


def _message(sender: str, kind: str, body: dict[str, Any], message_id: str | None) -> dict:
    return {"from": sender, "id": message_id or wamid(), "timestamp": str(int(time.time())),
            "type": kind, **body}


def text_message(sender: str, text: str, message_id: str | None = None) -> dict[str, Any]:
    return _message(sender, "text", {"text": {"body": text}}, message_id)


def button_reply(sender: str, choice_id: str, title: str = "Oui",
                 message_id: str | None = None) -> dict[str, Any]:
    return _message(sender, "interactive", {
        "context": {"from": DISPLAY_NUMBER, "id": wamid()},
        "interactive": {"type": "button_reply",
                        "button_reply": {"id": choice_id, "title": title}}}, message_id)


def list_reply(sender: str, choice_id: str, title: str = "Mercure",
               message_id: str | None = None) -> dict[str, Any]:
    return _message(sender, "interactive", {
        "context": {"from": DISPLAY_NUMBER, "id": wamid()},
        "interactive": {"type": "list_reply",
                        "list_reply": {"id": choice_id, "title": title,
                                       "description": ""}}}, message_id)


def voice_message(sender: str, media_id: str = "1013859600285441",
                  message_id: str | None = None) -> dict[str, Any]:
    return _message(sender, "audio", {"audio": {
        "mime_type": "audio/ogg; codecs=opus", "sha256": "dGVzdA==", "id": media_id,
        "voice": True}}, message_id)


def image_message(sender: str, media_id: str = "1479537139650973",
                  message_id: str | None = None, caption: str | None = None) -> dict[str, Any]:
    image: dict[str, Any] = {"mime_type": "image/jpeg", "sha256": "dGVzdA==", "id": media_id}
    if caption:
        image["caption"] = caption
    return _message(sender, "image", {"image": image}, message_id)


def location_message(sender: str, latitude: float = 12.65, longitude: float = -8.0,
                     message_id: str | None = None) -> dict[str, Any]:
    return _message(sender, "location", {"location": {
        "latitude": latitude, "longitude": longitude, "name": "Kéniéba",
        "address": "Kéniéba, Mali"}}, message_id)


def sticker_message(sender: str, message_id: str | None = None) -> dict[str, Any]:
    return _message(sender, "sticker", {"sticker": {
        "mime_type": "image/webp", "sha256": "dGVzdA==", "id": "3333", "animated": False}},
        message_id)


def status(message_id: str, state: str, recipient: str = "16505551234",
           errors: list[dict] | None = None) -> dict[str, Any]:
    entry: dict[str, Any] = {"id": message_id, "status": state,
                             "timestamp": str(int(time.time())), "recipient_id": recipient}
    if state in ("sent", "delivered"):
        entry["conversation"] = {"id": "CONVERSATION_ID",
                                 "origin": {"type": "service"}}
        entry["pricing"] = {"billable": True, "pricing_model": "PMP", "category": "service"}
    if errors:
        entry["errors"] = errors
    return entry


def sign(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def encode(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False).encode()


# ------------------------------------------------------------------------------ the fake
class FakeGraphAPI(FaultInjector, ServedFake):
    def __init__(self, token: str = "EAAG-test-token", phone_number_id: str = PHONE_NUMBER_ID):
        super().__init__()
        self.token = token
        self.phone_number_id = phone_number_id
        self.media: dict[str, tuple[bytes, str]] = {}  # media id -> (bytes, mime type)
        # media id -> (bytes to stream, mime type, file_size to declare): a server that lies
        # about the size and streams more, without Content-Length. `streamed` counts what left.
        self.streams: dict[str, tuple[int, str, int]] = {}
        self.streamed: dict[str, int] = {}
        self.server = LoopbackServer(Starlette(routes=[
            Route("/media-bytes/{media_id}", self._media_bytes, methods=["GET"]),
            Route("/{phone_id}/messages", self._messages, methods=["POST"]),
            Route("/{media_id}", self._media_info, methods=["GET"]),
        ]))


    def sent(self) -> list[dict[str, Any]]:
        return [r.body for r in self.calls("messages")]

    # ------------------------------------------------------------------ helpers
    def _authorised(self, request: Request) -> bool:
        return request.headers.get("authorization") == f"Bearer {self.token}"

    @staticmethod
    def _error(status: int, code: int, message: str, retry_after: float | None = None
               ) -> JSONResponse:
        headers = {"Retry-After": str(int(retry_after))} if retry_after is not None else None
        return JSONResponse({"error": {"message": message, "type": "OAuthException",
                                       "code": code, "fbtrace_id": "AbCdEf"}},
                            status_code=status, headers=headers)

    async def _fault(self, name: str) -> Response | None:
        fault = self.take_fault(name)
        if fault is None:
            return None
        if fault.hang_seconds:
            await asyncio.sleep(fault.hang_seconds)
            return None
        if fault.status == 429:
            return self._error(429, fault.code or 130429, "(#130429) Rate limit hit",
                               fault.retry_after)
        default = {400: 100, 401: 190, 500: 1}.get(fault.status, 1)
        return self._error(fault.status, fault.code or default, f"(#{fault.code or default}) "
                           "Simulated failure")

    # ------------------------------------------------------------------ routes
    async def _messages(self, request: Request) -> Response:
        raw = await request.body()
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        self.record(Recorded("POST", request.url.path, "messages", body, dict(request.headers)))
        if not self._authorised(request):
            return self._error(401, 190, "Invalid OAuth access token.")
        if request.path_params["phone_id"] != self.phone_number_id:
            return self._error(400, 100, "Unsupported post request.")
        if (response := await self._fault("messages")) is not None:
            return response
        if not isinstance(body, dict) or body.get("messaging_product") != "whatsapp" \
                or not body.get("to") or body.get("type") not in (
                    "text", "interactive", "template"):
            return self._error(400, 100, "(#100) Invalid parameter")
        return JSONResponse({"messaging_product": "whatsapp",
                             "contacts": [{"input": body["to"], "wa_id": body["to"]}],
                             "messages": [{"id": wamid()}]})

    async def _media_info(self, request: Request) -> Response:
        media_id = request.path_params["media_id"]
        self.record(Recorded("GET", request.url.path, "media_info", None, dict(request.headers)))
        if not self._authorised(request):
            return self._error(401, 190, "Invalid OAuth access token.")
        if (response := await self._fault("media_info")) is not None:
            return response
        if media_id in self.streams:
            total, mime, declared = self.streams[media_id]
            return JSONResponse({"messaging_product": "whatsapp",
                                 "url": f"{self.url}/media-bytes/{media_id}",
                                 "mime_type": mime, "file_size": declared, "id": media_id})
        if media_id not in self.media:
            return self._error(400, 100, "(#100) Invalid media id")
        content, mime = self.media[media_id]
        return JSONResponse({"messaging_product": "whatsapp",
                             "url": f"{self.url}/media-bytes/{media_id}",
                             "mime_type": mime, "sha256": hashlib.sha256(content).hexdigest(),
                             "file_size": len(content), "id": media_id})

    async def _media_bytes(self, request: Request) -> Response:
        media_id = request.path_params["media_id"]
        self.record(Recorded("GET", request.url.path, "media_bytes", None, dict(request.headers)))
        if not self._authorised(request):
            return Response(status_code=401)
        if (response := await self._fault("media_bytes")) is not None:
            return response
        if media_id in self.streams:
            total, mime, _declared = self.streams[media_id]
            return StreamingResponse(self._stream(media_id, total), media_type=mime)
        if media_id not in self.media:
            return Response(status_code=404)
        content, mime = self.media[media_id]
        return Response(content, media_type=mime)

    async def _stream(self, media_id: str, total: int, chunk: int = 64 * 1024):
        self.streamed[media_id] = 0
        while self.streamed[media_id] < total:
            size = min(chunk, total - self.streamed[media_id])
            self.streamed[media_id] += size
            yield b"\0" * size
            await asyncio.sleep(0)
