"""WhatsApp Cloud API adapter: the webhook, sending, delivery statuses and media download.

GET  /webhooks/whatsapp   Meta's verification handshake (hub.verify_token == WHATSAPP_VERIFY_TOKEN)
POST /webhooks/whatsapp   deliveries, signed with WHATSAPP_APP_SECRET (X-Hub-Signature-256):
                          messages are stored through `Gateway.accept` before the 200;
                          statuses (sent/delivered/read/failed) update the outbox row.
Sending: POST {WHATSAPP_API_BASE_URL}/{WHATSAPP_PHONE_NUMBER_ID}/messages (Bearer token), as
text, reply buttons or a list (see render.py). Outside the 24-hour customer-service window
only an approved template may be sent (WHATSAPP_TEMPLATE_NAME); the outbox row says so.

The phone number (`from`) is the address: it goes to the gateway (stored encrypted) and
nowhere else; log lines name wamids' database rows or contact ids, never a number.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from bot.channels import render
from bot.channels.http import BadRequest, parse_json, read_body
from bot.channels.media import MediaError, MediaSink, MediaWorker, stream_into
from bot.config import Settings, reveal
from bot.core.gateway import Gateway, SendError, Sent
from bot.core.messages import Channel, Inbound, InboundKind, Location, Media, Reply
from bot.store.models import MediaFile

log = logging.getLogger(__name__)

CUSTOMER_SERVICE_WINDOW = timedelta(hours=24)
# Meta answers some throttling with HTTP 400 and these codes: retry them later.
RATE_LIMIT_CODES = {4, 80007, 130429, 131048, 131056}
OUTSIDE_WINDOW_CODE = 131047  # "Re-engagement message": more than 24 h since the user wrote


@dataclass(frozen=True)
class StatusUpdate:
    provider_message_id: str
    status: str  # sent | delivered | read | failed
    error: str | None = None


@dataclass
class Delivery:
    """What one webhook POST carried."""

    messages: list[Inbound]
    statuses: list[StatusUpdate]
    ignored: list[str]  # short reasons, for the log


# ------------------------------------------------------------------------------- parsing
def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _media(message: dict[str, Any], kind: str, media_kind: str | None = None) -> Media | None:
    body = _dict(message.get(kind))
    ref = _str(body.get("id"))
    if ref is None:
        return None
    return Media(kind=media_kind or kind, ref=ref, mime_type=_str(body.get("mime_type")))


def parse_message(message: dict[str, Any]) -> Inbound | None:
    """One entry of `value.messages[]` as an Inbound; None when it is not a user message
    (a reaction) or lacks an id or a sender."""
    wamid, sender = _str(message.get("id")), _str(message.get("from"))
    if wamid is None or sender is None:
        return None
    kind = message.get("type")

    def make(kind: InboundKind, **fields: Any) -> Inbound:
        return Inbound(Channel.WHATSAPP, wamid, sender, kind, **fields)

    if kind == "text":
        return make(InboundKind.TEXT, text=str(_dict(message.get("text")).get("body") or ""))
    if kind == "interactive":
        interactive = _dict(message.get("interactive"))
        reply = _dict(interactive.get(interactive.get("type") or ""))
        choice = _str(reply.get("id"))
        if interactive.get("type") in ("button_reply", "list_reply") and choice:
            return make(InboundKind.CHOICE, choice_id=choice)
        return make(InboundKind.UNSUPPORTED)
    if kind == "button":  # a quick-reply button of a template
        button = _dict(message.get("button"))
        payload, text = _str(button.get("payload")), _str(button.get("text"))
        if payload and ":" in payload:
            return make(InboundKind.CHOICE, choice_id=payload)
        return make(InboundKind.TEXT, text=text or payload or "")
    if kind == "audio":
        voice = bool(_dict(message.get("audio")).get("voice"))
        media = _media(message, "audio", "voice" if voice else "audio")
        if media is None:
            return make(InboundKind.UNSUPPORTED)
        return make(InboundKind.VOICE if voice else InboundKind.MEDIA, media=media)
    if kind in ("image", "document", "video"):
        media = _media(message, kind, "photo" if kind == "image" else kind)
        caption = _str(_dict(message.get(kind)).get("caption"))
        if media is None:
            return make(InboundKind.UNSUPPORTED)
        return make(InboundKind.MEDIA, media=media, text=caption)
    if kind == "location":
        location = _dict(message.get("location"))
        try:
            latitude, longitude = float(location["latitude"]), float(location["longitude"])
        except (KeyError, TypeError, ValueError):
            return make(InboundKind.UNSUPPORTED)
        if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
            return make(InboundKind.UNSUPPORTED)
        return make(InboundKind.LOCATION, location=Location(latitude, longitude))
    if kind == "contacts":
        return make(InboundKind.CONTACT)  # the card's numbers are not kept
    if kind == "reaction":
        return None  # an emoji on one of our messages: nothing to answer
    return make(InboundKind.UNSUPPORTED)  # sticker, unsupported, order, system, unknown...


def parse_status(status: dict[str, Any]) -> StatusUpdate | None:
    wamid, state = _str(status.get("id")), _str(status.get("status"))
    if wamid is None or state not in ("sent", "delivered", "read", "failed"):
        return None
    error = None
    errors = _list(status.get("errors"))
    if errors:
        first = _dict(errors[0])
        error = f"{first.get('code', '?')} {first.get('title') or first.get('message') or ''}"
    return StatusUpdate(wamid, state, error.strip() if error else None)


def _values(data: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for entry in _list(data.get("entry")):
        for change in _list(_dict(entry).get("changes")):
            change = _dict(change)
            if change.get("field") in (None, "messages"):
                yield _dict(change.get("value"))


def parse_webhook(data: Any, phone_number_id: str | None = None) -> Delivery:
    """Meta's payload (`entry[].changes[].value.messages[]` and `.statuses[]`)."""
    delivery = Delivery([], [], [])
    if not isinstance(data, dict) or data.get("object") != "whatsapp_business_account":
        delivery.ignored.append("not a whatsapp_business_account payload")
        return delivery
    for value in _values(data):
        metadata = _dict(value.get("metadata"))
        if phone_number_id and metadata.get("phone_number_id") not in (None, phone_number_id):
            delivery.ignored.append("another phone number id")
            continue
        for message in _list(value.get("messages")):
            inbound = parse_message(_dict(message))
            if inbound is None:
                delivery.ignored.append(f"message of type {_dict(message).get('type')!s:.20}")
            else:
                delivery.messages.append(inbound)
        for status in _list(value.get("statuses")):
            update = parse_status(_dict(status))
            if update is None:
                delivery.ignored.append("unreadable status")
            else:
                delivery.statuses.append(update)
    return delivery


def signature_matches(secret: str, body: bytes, header: str) -> bool:
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(header.strip().encode(), expected.encode())


def retry_after_seconds(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


class _OutsideWindow(Exception):
    pass


# ------------------------------------------------------------------------------- adapter
class WhatsAppChannel:
    name = Channel.WHATSAPP.value
    # Outside the 24-hour window a reply is held (a template goes instead) until the user
    # writes again: the gateway then sends it (Sent.held).
    holds_replies = True
    SEND_TIMEOUT = 15.0
    MEDIA_TIMEOUT = 60.0
    # A receipt can overtake the API's answer to our send (the wamid is not stored yet):
    # such receipts are tried again a few times before being dropped.
    STATUS_RETRY_DELAYS = (0.5, 1.0, 2.0, 4.0, 8.0, 15.0)

    def __init__(self, settings: Settings, gateway: Gateway, http: httpx.AsyncClient):
        self.settings = settings
        self.gateway = gateway
        self.http = http
        self.base_url = settings.whatsapp_api_base_url.rstrip("/")
        self.phone_number_id = settings.whatsapp_phone_number_id
        self._headers = {"Authorization": f"Bearer {reveal(settings.whatsapp_access_token)}"}
        self.media = MediaWorker(gateway, Channel.WHATSAPP, settings.media_dir, self._fetch_media,
                                 max_bytes=settings.media_max_bytes)
        # How many parts of a split reply went out, so a retry does not repeat them.
        self._progress: dict[tuple[str, str], int] = {}
        self._stop: asyncio.Event | None = None
        self._task: asyncio.Task | None = None
        self._background: set[asyncio.Task] = set()

    def routes(self) -> list[Route]:
        return [Route("/webhooks/whatsapp", self.verify, methods=["GET"]),
                Route("/webhooks/whatsapp", self.receive, methods=["POST"])]

    async def start(self) -> None:
        if not self.settings.whatsapp_app_secret:
            log.error("whatsapp: WHATSAPP_APP_SECRET is not set; the webhook refuses deliveries")
        self._stop = asyncio.Event()
        self._task = asyncio.create_task(self.media.run(self._stop))

    async def stop(self) -> None:
        if self._stop is not None:
            self._stop.set()
            self.media.wake()
        for task in self._background:
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
        if self._task is not None:
            try:
                await asyncio.wait_for(self._task, 10)
            except (asyncio.TimeoutError, asyncio.CancelledError):
                self._task.cancel()

    # ------------------------------------------------------------------- webhook
    async def verify(self, request: Request) -> Response:
        params = request.query_params
        token, challenge = params.get("hub.verify_token"), params.get("hub.challenge")
        expected = reveal(self.settings.whatsapp_verify_token)
        if (params.get("hub.mode") == "subscribe" and expected and token and challenge
                and len(challenge) <= 256
                and hmac.compare_digest(token.encode(), expected.encode())):
            log.info("whatsapp: webhook verified")
            return PlainTextResponse(challenge)
        log.warning("whatsapp: webhook verification refused")
        return JSONResponse({"error": "verification failed"}, status_code=403)

    async def receive(self, request: Request) -> Response:
        try:
            body = await read_body(request)
        except BadRequest as exc:
            log.warning("whatsapp: refused a delivery: %s", exc.reason)
            return exc.response()
        secret = reveal(self.settings.whatsapp_app_secret)
        header = request.headers.get("x-hub-signature-256")
        if not header:
            log.warning("whatsapp: refused an unsigned delivery (%d bytes)", len(body))
            return JSONResponse({"error": "missing signature"}, status_code=401)
        if not secret or not signature_matches(secret, body, header):
            log.warning("whatsapp: refused a delivery with a wrong signature (%d bytes)", len(body))
            return JSONResponse({"error": "invalid signature"}, status_code=403)
        try:
            data = parse_json(body, "whatsapp")
        except BadRequest as exc:
            return exc.response()
        delivery = parse_webhook(data, self.phone_number_id)
        for reason in delivery.ignored:
            log.info("whatsapp: ignored %s", reason)
        try:
            media = False
            for inbound in delivery.messages:
                accepted = self.gateway.accept(inbound)
                media = media or inbound.media is not None
                if accepted.duplicate:
                    log.info("whatsapp: message %s delivered again; kept once", accepted.inbox_id)
            unmatched = [update for update in delivery.statuses
                         if not self._record_status(update)]
        except Exception:
            # Not stored: a 500 makes Meta deliver it again (accept is idempotent).
            log.exception("whatsapp: could not store a delivery; Meta will retry it")
            return JSONResponse({"error": "try again"}, status_code=500)
        if media:
            self.media.wake()
        if unmatched:
            task = asyncio.create_task(self.retry_statuses(unmatched))
            self._background.add(task)
            task.add_done_callback(self._background.discard)
        return JSONResponse({"status": "ok"})

    def _record_status(self, update: StatusUpdate) -> bool:
        return self.gateway.record_delivery_status(
            Channel.WHATSAPP, update.provider_message_id, update.status, update.error)

    async def retry_statuses(self, updates: list[StatusUpdate]) -> None:
        for delay in self.STATUS_RETRY_DELAYS:
            await asyncio.sleep(delay)
            try:
                updates = [update for update in updates if not self._record_status(update)]
            except Exception:
                log.exception("whatsapp: could not record delivery statuses")
            if not updates:
                return
        for update in updates:
            log.info("whatsapp: %s status for a message we do not know; dropped", update.status)

    # ------------------------------------------------------------------- sending
    def _window_closed(self, address: str, last: datetime | None = None) -> bool:
        if last is None:
            last = self.gateway.last_inbound_at(Channel.WHATSAPP, address)
        return last is None or datetime.now(timezone.utc) - last > CUSTOMER_SERVICE_WINDOW

    def _template_note(self) -> str:
        return (f"outside WhatsApp's 24-hour window: template "
                f"'{self.settings.whatsapp_template_name}' sent; the reply is held and sent "
                f"when the user writes again")

    async def send(self, address: str, reply: Reply, *,
                   last_inbound_at: datetime | None = None) -> str | Sent | None:
        template = render.whatsapp_template(reply.template or self.settings.whatsapp_template_name)
        if reply.template:
            return Sent(await self._post(address, template), self._template_note())
        if self._window_closed(address, last_inbound_at):
            return Sent(await self._post(address, template), self._template_note(), held=True)
        messages = render.whatsapp_messages(reply)
        key = (address, hashlib.sha256(json.dumps(reply.to_json(), sort_keys=True)
                                       .encode()).hexdigest())
        provider_id = None
        for index in range(self._progress.get(key, 0), len(messages)):
            try:
                provider_id = await self._post(address, messages[index])
            except _OutsideWindow:
                # Parts already sent stay sent; the rest goes out when the user writes again.
                return Sent(await self._post(address, template), self._template_note(),
                            held=True)
            if len(self._progress) > 10_000:
                self._progress.clear()
            self._progress[key] = index + 1
        self._progress.pop(key, None)
        return provider_id

    async def _post(self, address: str, message: dict[str, Any]) -> str | None:
        body = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": address,
                **message}
        try:
            response = await self.http.post(f"{self.base_url}/{self.phone_number_id}/messages",
                                            json=body, headers=self._headers,
                                            timeout=self.SEND_TIMEOUT)
        except httpx.TimeoutException:
            raise SendError("whatsapp: timed out") from None
        except httpx.HTTPError as exc:
            raise SendError(f"whatsapp: {type(exc).__name__}") from None
        if response.is_success:
            try:
                return str(response.json()["messages"][0]["id"])
            except (ValueError, KeyError, IndexError, TypeError):
                log.warning("whatsapp: message accepted without an id")
                return None
        code, title = _graph_error(response)
        reason = f"whatsapp: HTTP {response.status_code}, error {code}: {title}"[:300]
        if response.status_code == 429 or code in RATE_LIMIT_CODES:
            raise SendError(reason, retry_after=retry_after_seconds(response))
        if code == OUTSIDE_WINDOW_CODE:
            raise _OutsideWindow()
        # 401: an expired token is the operator's to fix; keep the reply until then.
        retryable = response.status_code >= 500 or response.status_code in (401, 408)
        raise SendError(reason, retryable=retryable)

    # --------------------------------------------------------------------- media
    async def _fetch_media(self, row: MediaFile, sink: MediaSink) -> str | None:
        info = await self._get(f"{self.base_url}/{row.ref}", "media info")
        try:
            meta = info.json()
            url = str(meta["url"])
        except (ValueError, KeyError, TypeError):
            raise MediaError("media info without a url") from None
        sink.check_declared(meta.get("file_size"))
        try:
            async with self.http.stream("GET", url, headers=self._headers,
                                        timeout=self.MEDIA_TIMEOUT) as response:
                if not response.is_success:
                    retryable = response.status_code >= 500 or response.status_code in (
                        401, 408, 429)
                    raise MediaError(f"media download: HTTP {response.status_code}",
                                     retryable=retryable)
                await stream_into(response, sink)  # cut off past the limit as bytes arrive
                content_type = response.headers.get("content-type")
        except httpx.HTTPError as exc:
            raise MediaError(f"media download: {type(exc).__name__}") from None
        return _str(meta.get("mime_type")) or content_type

    async def _get(self, url: str, what: str) -> httpx.Response:
        try:
            response = await self.http.get(url, headers=self._headers, timeout=self.MEDIA_TIMEOUT)
        except httpx.HTTPError as exc:
            raise MediaError(f"{what}: {type(exc).__name__}") from None
        if response.is_success:
            return response
        retryable = response.status_code >= 500 or response.status_code in (401, 408, 429)
        raise MediaError(f"{what}: HTTP {response.status_code}", retryable=retryable)


def _graph_error(response: httpx.Response) -> tuple[int | None, str]:
    try:
        error = response.json().get("error") or {}
    except (ValueError, AttributeError):
        return None, "no error body"
    code = error.get("code")
    return (code if isinstance(code, int) else None), str(error.get("message") or "")[:200]
