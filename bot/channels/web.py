"""The web chat: a phone-sized test page and the `/api/chat` JSON contract.

POST /api/chat  {"sender": "<id>", "text": "..."} or {"sender": "<id>", "choice": "<choice id>"}
                (optional "message_id" makes a retried request idempotent)
             -> {"replies": [{"text": "...", "choices": [{"id": "...", "title": "..."}]}],
                 "pending": false}
`pending: true` means the message is kept but not answered yet (Rasa is starting or down);
GET /api/chat/updates?sender=<id> returns the replies that arrived since.
"""

from __future__ import annotations

import logging
import uuid
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from bot.channels.http import BadRequest, parse_json, read_body
from bot.core.gateway import Gateway
from bot.core.messages import Channel, Inbound, InboundKind, Reply

log = logging.getLogger(__name__)

STATIC = Path(__file__).resolve().parent / "static"
MAX_FIELD = 4096


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


def routes(gateway: Gateway, wait_seconds: float) -> list[Route]:
    async def page(_request: Request) -> Response:
        return FileResponse(STATIC / "index.html", media_type="text/html; charset=utf-8")

    async def chat(request: Request) -> Response:
        try:
            data = parse_json(await read_body(request), "web")
            if not isinstance(data, dict):
                raise BadRequest(400, "expected a JSON object")
            sender = _field(data, "sender", required=True, limit=128)
            if not sender or not sender.strip():
                raise BadRequest(400, "'sender' must not be empty")
            text = _field(data, "text")
            choice = _field(data, "choice", limit=200)
            message_id = _field(data, "message_id", limit=128) or uuid.uuid4().hex
        except BadRequest as exc:
            return exc.response()
        if choice:
            inbound = Inbound(Channel.WEB, message_id, sender, InboundKind.CHOICE, choice_id=choice)
        else:
            inbound = Inbound(Channel.WEB, message_id, sender, InboundKind.TEXT, text=text or "")
        accepted = gateway.accept(inbound)
        settled = await gateway.wait_settled(accepted.inbox_id, wait_seconds,
                                             look_first=accepted.duplicate)
        replies = gateway.take_web_replies(accepted.contact_id, accepted.inbox_id,
                                           settled.outbox_ids if settled else None)
        return JSONResponse({"replies": [_reply_json(r) for r in replies],
                             "pending": settled is None or settled.pending})

    async def updates(request: Request) -> Response:
        sender = request.query_params.get("sender", "")
        if not sender or len(sender) > 128:
            return JSONResponse({"error": "'sender' is required"}, status_code=400)
        contact_id = gateway.find_contact(Channel.WEB, sender)
        if contact_id is None:
            return JSONResponse({"replies": [], "pending": False})
        replies = gateway.take_web_replies(contact_id)
        return JSONResponse({"replies": [_reply_json(r) for r in replies],
                             "pending": gateway.has_pending(contact_id)})

    return [
        Route("/", page, methods=["GET"]),
        Route("/api/chat", chat, methods=["POST"]),
        Route("/api/chat/updates", updates, methods=["GET"]),
    ]
