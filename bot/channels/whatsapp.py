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
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from bot.channels import base, render
from bot.channels.http import BadRequest, parse_json, read_body
from bot.channels.media import MediaError, MediaSink, MediaWorker, stream_into
from bot.channels.whatsapp_payloads import (
    Delivery,
    StatusUpdate,
    graph_error,
    parse_message,
    parse_status,
    parse_webhook,
    retry_after_seconds,
    signature_matches,
)
from bot.config import Settings, reveal
from bot.core.gateway import Gateway, SendError, Sent
from bot.core.messages import Channel, Reply
from bot.store.models import MediaFile

# The payload functions are imported from here too (tests, the fakes).
__all__ = ["Delivery", "StatusUpdate", "WhatsAppChannel", "parse_message", "parse_status",
           "parse_webhook", "retry_after_seconds", "signature_matches"]

log = logging.getLogger(__name__)

CUSTOMER_SERVICE_WINDOW = timedelta(hours=24)
# Meta answers some throttling with HTTP 400 and these codes: retry them later.
RATE_LIMIT_CODES = {4, 80007, 130429, 131048, 131056}
OUTSIDE_WINDOW_CODE = 131047  # "Re-engagement message": more than 24 h since the user wrote


class _OutsideWindow(Exception):
    pass


# ------------------------------------------------------------------------------- adapter
class WhatsAppChannel(base.ChannelAdapter):
    name = Channel.WHATSAPP.value
    # Outside the 24-hour window a reply is held (a template goes instead) until the user
    # writes again: the gateway then sends it (Sent.held).
    capabilities = base.WHATSAPP
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

    def routes(self) -> list[BaseRoute]:
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
        code, title = graph_error(response)
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
        mime_type = meta.get("mime_type")
        return mime_type if isinstance(mime_type, str) and mime_type else content_type

    async def _get(self, url: str, what: str) -> httpx.Response:
        try:
            response = await self.http.get(url, headers=self._headers, timeout=self.MEDIA_TIMEOUT)
        except httpx.HTTPError as exc:
            raise MediaError(f"{what}: {type(exc).__name__}") from None
        if response.is_success:
            return response
        retryable = response.status_code >= 500 or response.status_code in (401, 408, 429)
        raise MediaError(f"{what}: HTTP {response.status_code}", retryable=retryable)
