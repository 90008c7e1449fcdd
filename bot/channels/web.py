"""The web chat: a phone-sized test page and the `/api/chat` JSON contract.

POST /api/chat  {"sender": "<id>", "text": "..."} or {"sender": "<id>", "choice": "<choice id>"}
                (optional "message_id" makes a retried request idempotent)
             -> {"replies": [{"text": "...", "choices": [{"id": "...", "title": "..."}]}],
                 "pending": false, "sender": "<id>"}
`pending: true` means the message is kept but not answered yet (Rasa is starting or down);
GET /api/chat/updates?sender=<id> returns the replies that arrived since.

Three modes (settings `WEB_CHAT_ENABLED`, `WEB_CHAT_OPEN`; docs/SECURITY.md):
- off (the default of a deployment): none of these routes exists (404);
- on: the sender is the one of a signed cookie the server issued (`chat_sender`, HttpOnly,
  SameSite=Strict); a body or query naming another sender gets the cookie's. Requests are
  rate-limited per client address and per sender (429 with Retry-After);
- open (`make run`, the tests, the bench; loopback only): the client names its sender, as the
  contract always allowed; no cookie, no rate limit.
A `message_id` is deduplicated per sender in every mode: two senders may use the same one.

The web chat pushes nothing: its replies stay in the outbox until a request takes them
(bot/channels/web_waiters.py: the requests waiting for their message, told by the gateway's
"settled" event or, when another process answered, by the database).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
import math
import time
import uuid
from datetime import datetime
from pathlib import Path

from itsdangerous import BadSignature, URLSafeTimedSerializer
from limits import parse_many
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Route

from bot.channels import base
from bot.channels.http import BadRequest, parse_json, read_body
from bot.channels.web_waiters import Waiters
from bot.config import Settings, reveal
from bot.core.gateway import Gateway, SendError, Sent
from bot.core.messages import Channel, Inbound, InboundKind, Reply
from bot.i18n import translator

log = logging.getLogger(__name__)

STATIC = Path(__file__).resolve().parent / "static"
MAX_FIELD = 4096
MAX_MESSAGE_ID = 128
COOKIE = "chat_sender"
COOKIE_PATH = "/"  # the page issues it; /api/chat and /api/chat/updates read it
COOKIE_MAX_AGE = 90 * 24 * 3600  # a browser keeps its conversation for 90 days
_KEY_ROOM = 128 - 17  # channel_message_id is 128 characters: the message id, "@", 16 hex


def _reply_json(reply: Reply) -> dict:
    return {"text": reply.text,
            "choices": [{"id": c.id, "title": c.title} for c in reply.choices]}


def _field(data: dict, name: str, *, required: bool = False, limit: int = MAX_FIELD) -> str | None:
    value = data.get(name)
    if value is None:
        if required:
            raise BadRequest(400, f"'{name}' is required")
        return None
    if not isinstance(value, (str, int)) or isinstance(value, bool):
        raise BadRequest(400, f"'{name}' must be a string")
    value = str(value)
    if len(value) > limit:
        raise BadRequest(413 if name == "text" else 400, f"'{name}' is too long")
    return value


def message_key(gateway: Gateway, sender: str, message_id: str) -> str:
    """The inbox's deduplication key of a web message: the client's message id tied to its
    sender (a keyed hash, so the key reveals nothing), so that two senders who use the same
    message id send two messages, and a sender cannot collide with another's messages."""
    if len(message_id) > _KEY_ROOM:
        message_id = hashlib.sha256(message_id.encode()).hexdigest()
    return f"{message_id}@{gateway.vault.hash(Channel.WEB.value, sender)[:16]}"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class SenderCookie:
    """The sender a browser may speak as: issued by the server, signed, never chosen by the
    client (itsdangerous: HMAC-SHA1 over the value and its timestamp, salted per use)."""

    def __init__(self, secret: str, *, secure: bool):
        self._serializer = URLSafeTimedSerializer(secret, salt="web-chat-sender")
        self.secure = secure

    def read(self, request: Request) -> str | None:
        token = request.cookies.get(COOKIE)
        if not token:
            return None
        try:
            sender = self._serializer.loads(token, max_age=COOKIE_MAX_AGE)
        except BadSignature:  # forged, altered, expired (SignatureExpired is a BadSignature)
            return None
        return sender if isinstance(sender, str) and sender else None

    def issue(self) -> tuple[str, str]:
        """A new sender and its signed cookie value."""
        sender = "web-" + uuid.uuid4().hex
        return sender, self._serializer.dumps(sender)

    def attach(self, response: Response, token: str) -> None:
        response.set_cookie(COOKIE, token, max_age=COOKIE_MAX_AGE, path=COOKIE_PATH,
                            httponly=True, samesite="strict", secure=self.secure)


class RateLimits:
    """Per client address and per sender, with `limits` (moving windows): in memory, or in
    Redis when `REDIS_URL` is set so that several app processes share the counts. If the
    storage fails the request goes through (logged): a miner is not refused for our outage."""

    def __init__(self, per_address: str, per_sender: str, redis_url: str | None, secret: str):
        self._limiter = MovingWindowRateLimiter(storage_from_string(redis_url or "memory://"))
        self._limits = {"address": parse_many(per_address), "sender": parse_many(per_sender),
                        "poll": parse_many(per_address)}
        self._key = hashlib.sha256(b"web-chat-rate:" + secret.encode()).digest()
        self._warned_at = 0.0

    def _id(self, value: str) -> str:
        # Addresses and senders are personal data (a sender is even a credential): only a
        # keyed hash of them reaches the storage.
        return hmac.new(self._key, value.encode(), hashlib.sha256).hexdigest()[:32]

    def wait_seconds(self, scope: str, value: str) -> int | None:
        """Count one request of `value` in `scope`; None when allowed, else the seconds to
        wait before the next one is."""
        ident = self._id(value)
        try:
            for item in self._limits[scope]:
                if not self._limiter.hit(item, "web-chat", scope, ident):
                    reset = self._limiter.get_window_stats(item, "web-chat", scope, ident)[0]
                    return max(1, math.ceil(reset - time.time()))
        except Exception as exc:  # the storage is down: let the request through, say so
            if time.monotonic() - self._warned_at > 60:
                self._warned_at = time.monotonic()
                log.warning("web: rate limit storage unavailable (%s); not limiting",
                            type(exc).__name__)
        return None


def _too_many(seconds: int) -> JSONResponse:
    t = translator("fr")
    return JSONResponse(
        {"error": t.gettext("Trop de messages en peu de temps. Attendez un moment, puis "
                            "écrivez de nouveau."),
         "retry_after": seconds},
        status_code=429, headers={"Retry-After": str(seconds)})


def _client_address(request: Request) -> str:
    # Behind a reverse proxy, uvicorn puts the real client here when FORWARDED_ALLOW_IPS
    # names the proxy (README, "Configuration").
    return request.client.host if request.client else "unknown"


def routes(gateway: Gateway, settings: Settings) -> list[Route]:
    """The web chat's routes; none when it is off."""
    if not (settings.web_chat_enabled or settings.web_chat_open):
        return []
    wait_seconds = settings.web_wait_seconds
    open_mode = settings.web_chat_open
    if open_mode and not is_loopback(settings.host):
        raise RuntimeError("WEB_CHAT_OPEN lets any client speak as any sender: it is for "
                           f"local runs on loopback only (HOST is {settings.host!r}). Use "
                           "WEB_CHAT_ENABLED.")
    secret = reveal(settings.web_chat_secret) or hashlib.sha256(
        b"web-chat-cookie:" + settings.data_key.get_secret_value().encode()).hexdigest()
    cookies = SenderCookie(secret, secure=settings.web_chat_cookie_secure)
    waiters = Waiters(gateway)
    limits = None if open_mode else RateLimits(settings.web_chat_rate_per_address,
                                               settings.web_chat_rate_per_sender,
                                               settings.redis_url, secret)

    async def page(request: Request) -> Response:
        response = FileResponse(STATIC / "index.html", media_type="text/html; charset=utf-8")
        if not open_mode and cookies.read(request) is None:
            # Issued with the page, so that every request the page makes carries it.
            cookies.attach(response, cookies.issue()[1])
        return response

    async def chat(request: Request) -> Response:
        issued: str | None = None
        if limits is not None and (wait := limits.wait_seconds(
                "address", _client_address(request))) is not None:
            return _too_many(wait)
        try:
            data = parse_json(await read_body(request), "web")
            if not isinstance(data, dict):
                raise BadRequest(400, "expected a JSON object")
            claimed = _field(data, "sender", required=open_mode, limit=128)
            if open_mode and (not claimed or not claimed.strip()):
                raise BadRequest(400, "'sender' must not be empty")
            text = _field(data, "text")
            choice = _field(data, "choice", limit=200)
            message_id = _field(data, "message_id", limit=MAX_MESSAGE_ID) or uuid.uuid4().hex
        except BadRequest as exc:
            return exc.response()
        if open_mode:
            sender = claimed or ""  # required and checked not empty above
        else:
            sender = cookies.read(request) or ""
            if not sender:  # a new browser, or a cookie that is forged or expired
                sender, issued = cookies.issue()
            elif claimed and claimed != sender:
                log.info("web: a request named another sender than its cookie's; the "
                         "cookie's is used")
            if limits is not None and (wait := limits.wait_seconds("sender",
                                                                   sender)) is not None:
                return _too_many(wait)
        key = message_key(gateway, sender, message_id)
        if choice:
            inbound = Inbound(Channel.WEB, key, sender, InboundKind.CHOICE, choice_id=choice)
        else:
            inbound = Inbound(Channel.WEB, key, sender, InboundKind.TEXT, text=text or "")
        accepted = gateway.accept(inbound)
        settled = await waiters.wait_settled(accepted.inbox_id, wait_seconds,
                                             look_first=accepted.duplicate)
        replies = waiters.take_replies(accepted.contact_id, accepted.inbox_id,
                                       settled.outbox_ids if settled else None)
        response = JSONResponse({"replies": [_reply_json(r) for r in replies],
                                 "pending": settled is None or settled.pending,
                                 "sender": sender})
        if issued:
            cookies.attach(response, issued)
        return response

    async def updates(request: Request) -> Response:
        if open_mode:
            sender = request.query_params.get("sender", "")
            if not sender or len(sender) > 128:
                return JSONResponse({"error": "'sender' is required"}, status_code=400)
        else:
            if limits is not None and (wait := limits.wait_seconds(
                    "poll", _client_address(request))) is not None:
                return _too_many(wait)
            sender = cookies.read(request) or ""  # the query's sender is not trusted
            if not sender:
                return JSONResponse({"replies": [], "pending": False})
        contact_id = waiters.find_contact(Channel.WEB, sender)
        if contact_id is None:
            return JSONResponse({"replies": [], "pending": False})
        replies = waiters.take_replies(contact_id)
        return JSONResponse({"replies": [_reply_json(r) for r in replies],
                             "pending": waiters.has_pending(contact_id)})

    return [
        Route("/", page, methods=["GET"]),
        Route("/api/chat", chat, methods=["POST"]),
        Route("/api/chat/updates", updates, methods=["GET"]),
    ]


class WebChat(base.ChannelAdapter):
    """The web chat as a channel adapter: its routes (none when it is off), no background
    work. Its replies are not pushed (`capabilities.pushed` is False): each HTTP answer takes
    them from the outbox, so the outbox worker never calls `send`."""

    name = Channel.WEB.value
    capabilities = base.WEB

    def __init__(self, settings: Settings, gateway: Gateway):
        self.settings = settings
        self.gateway = gateway

    def routes(self) -> list[BaseRoute]:
        return list(routes(self.gateway, self.settings))

    async def send(self, address: str, reply: Reply, *,
                   last_inbound_at: datetime | None = None) -> str | Sent | None:
        raise SendError("web: replies are taken by the chat's HTTP answers", retryable=False)
