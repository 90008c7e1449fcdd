"""WhatsApp Cloud API payloads: Meta's webhook deliveries as the core's `Inbound` and delivery
statuses, the webhook's signature, and the Graph API's error answers. Pure functions, no I/O;
the adapter (whatsapp.py) feeds them what arrives and what the API answers.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from bot.core.messages import Channel, Inbound, InboundKind, Location, Media


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


def graph_error(response: httpx.Response) -> tuple[int | None, str]:
    """The Graph API's error code and message, from an answer that is not a success."""
    try:
        error = response.json().get("error") or {}
    except (ValueError, AttributeError):
        return None, "no error body"
    code = error.get("code")
    return (code if isinstance(code, int) else None), str(error.get("message") or "")[:200]
