"""The one place that turns a `Reply` into what a channel can show.

Every channel gets the same choices, shaped to what it supports:

* Telegram: an inline keyboard, one button per row; the button's `callback_data` is the
  choice id (Telegram allows 64 bytes; a longer id travels as a short hash key, resolved
  against the choices last offered to the contact).
* WhatsApp: up to 3 short choices (titles <= 20 characters) as reply buttons; up to 10
  (titles <= 24) as a list; anything else as numbered lines.
* Numbered lines ("1. Titre") for anything without buttons; the gateway maps a typed number
  back to the choice.

Long texts are split at paragraph, line, sentence or word boundaries, never mid-word unless a
single word is longer than the limit. Pure functions: no I/O, easy to test.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.core.messages import Choice, Reply
from bot.facts import (
    TELEGRAM_CALLBACK_DATA_BYTES,
    TELEGRAM_TEXT_LIMIT,
    WHATSAPP_BUTTON_ID_LIMIT,
    WHATSAPP_BUTTON_TITLE_LIMIT,
    WHATSAPP_INTERACTIVE_BODY_LIMIT,
    WHATSAPP_LIST_BUTTON_LIMIT,
    WHATSAPP_LIST_ROW_ID_LIMIT,
    WHATSAPP_LIST_ROW_TITLE_LIMIT,
    WHATSAPP_MAX_BUTTONS,
    WHATSAPP_MAX_LIST_ROWS,
    WHATSAPP_TEXT_LIMIT,
)
from bot.i18n import translator

__all__ = [
    "TELEGRAM_TEXT_LIMIT",
    "TELEGRAM_CALLBACK_DATA_BYTES",
    "WHATSAPP_TEXT_LIMIT",
    "WHATSAPP_INTERACTIVE_BODY_LIMIT",
    "WHATSAPP_MAX_BUTTONS",
    "WHATSAPP_BUTTON_TITLE_LIMIT",
    "WHATSAPP_MAX_LIST_ROWS",
    "WHATSAPP_LIST_ROW_TITLE_LIMIT",
    "TelegramMessage",
    "numbered_text",
    "split_text",
    "telegram_messages",
    "callback_data_for",
    "is_hashed_callback",
    "whatsapp_messages",
    "whatsapp_template",
]


_HASH_PREFIX = "#"  # never starts a real choice id (they are namespaced "menu:", "answer:"...)


def utf16_len(text: str) -> int:
    """Length as Telegram counts it (characters outside the BMP count twice)."""
    return len(text.encode("utf-16-le")) // 2


def _fit(text: str, limit: int, measure: Callable[[str], int]) -> int:
    """The largest n such that measure(text[:n]) <= limit."""
    if measure is len:
        return min(len(text), limit)
    units = 0
    for index, char in enumerate(text):
        units += measure(char)
        if units > limit:
            return index
    return len(text)


def split_text(text: str, limit: int, measure: Callable[[str], int] = len) -> list[str]:
    """Cut `text` into pieces of at most `limit`, at the most natural boundary available."""
    text = text.strip()
    pieces: list[str] = []
    while measure(text) > limit:
        window = text[:_fit(text, limit, measure)]
        cut = -1
        for separator in ("\n\n", "\n", ". ", "! ", "? ", "; ", ", ", " "):
            position = window.rfind(separator)
            if position > len(window) // 3:  # a cut too early makes many tiny messages
                cut = position + (1 if separator.strip() else 0)
                break
        if cut <= 0:
            cut = len(window)
        piece = text[:cut].strip()
        if piece:
            pieces.append(piece)
        text = text[cut:].strip()
    if text:
        pieces.append(text)
    return pieces


def _split_tail(text: str, tail_limit: int, head_limit: int) -> tuple[list[str], str]:
    """Split so that the last piece fits `tail_limit` (an interactive body) and the pieces
    before it fit `head_limit` (plain text messages)."""
    text = text.strip()
    if len(text) <= tail_limit:
        return [], text
    pieces = split_text(text, tail_limit)
    tail = pieces[-1]
    head = (text[: len(text) - len(tail)].strip() if text.endswith(tail)
            else "\n\n".join(pieces[:-1]))
    return split_text(head, head_limit), tail


def numbered_lines(choices: list[Choice]) -> str:
    return "\n".join(f"{index}. {choice.title}" for index, choice in enumerate(choices, 1))


def numbered_text(reply: Reply) -> str:
    """The reply as plain text, its choices as numbered lines ("1. Titre") and a hint that
    a number is the answer (the gateway maps it back to the choice)."""
    if not reply.choices:
        return reply.text
    lines = numbered_lines(reply.choices)
    hint = translator(reply.lang).gettext("Répondez avec le numéro de votre choix.")
    body = f"{reply.text.rstrip()}\n\n{lines}" if reply.text.strip() else lines
    return f"{body}\n\n{hint}"


# ------------------------------------------------------------------------------- Telegram
@dataclass(frozen=True)
class TelegramMessage:
    text: str
    buttons: tuple[tuple[str, str], ...] = ()  # (title, callback_data), one per row


def callback_data_for(choice_id: str) -> str:
    """The choice id itself when it fits Telegram's 64 bytes, else a short stable key."""
    if len(choice_id.encode("utf-8")) <= TELEGRAM_CALLBACK_DATA_BYTES and not choice_id.startswith(
        _HASH_PREFIX
    ):
        return choice_id
    digest = hashlib.sha256(choice_id.encode("utf-8")).digest()[:12]
    return _HASH_PREFIX + base64.urlsafe_b64encode(digest).decode().rstrip("=")


def is_hashed_callback(data: str) -> bool:
    return data.startswith(_HASH_PREFIX)


def telegram_messages(reply: Reply) -> list[TelegramMessage]:
    """One or more Telegram messages; the keyboard goes with the last one."""
    text = reply.text.strip()
    if not text and reply.choices:
        text = translator(reply.lang).gettext("Choisissez :")
    pieces = split_text(text, TELEGRAM_TEXT_LIMIT, utf16_len) if text else []
    if not pieces:
        return []
    buttons = tuple((choice.title, callback_data_for(choice.id)) for choice in reply.choices)
    messages = [TelegramMessage(piece) for piece in pieces[:-1]]
    messages.append(TelegramMessage(pieces[-1], buttons))
    return messages


# ------------------------------------------------------------------------------- WhatsApp
def _wa_text(body: str) -> dict[str, Any]:
    return {"type": "text", "text": {"preview_url": False, "body": body}}


def _fits_buttons(choices: list[Choice]) -> bool:
    return 0 < len(choices) <= WHATSAPP_MAX_BUTTONS and all(
        0 < len(c.title) <= WHATSAPP_BUTTON_TITLE_LIMIT and len(c.id) <= WHATSAPP_BUTTON_ID_LIMIT
        for c in choices
    )


def _fits_list(choices: list[Choice]) -> bool:
    return 0 < len(choices) <= WHATSAPP_MAX_LIST_ROWS and all(
        0 < len(c.title) <= WHATSAPP_LIST_ROW_TITLE_LIMIT
        and len(c.id) <= WHATSAPP_LIST_ROW_ID_LIMIT
        for c in choices
    ) and len({c.id for c in choices}) == len(choices)


def whatsapp_messages(reply: Reply) -> list[dict[str, Any]]:
    """The Cloud API message objects (without `to`/`messaging_product`) for one reply."""
    choices = list(reply.choices)
    if _fits_buttons(choices) or _fits_list(choices):
        body_text = reply.text.strip() or translator(reply.lang).gettext("Choisissez :")
        head, body = _split_tail(body_text, WHATSAPP_INTERACTIVE_BODY_LIMIT, WHATSAPP_TEXT_LIMIT)
        messages = [_wa_text(piece) for piece in head]
        if _fits_buttons(choices):
            interactive: dict[str, Any] = {
                "type": "button",
                "body": {"text": body},
                "action": {"buttons": [
                    {"type": "reply", "reply": {"id": c.id, "title": c.title}} for c in choices
                ]},
            }
        else:
            label = translator(reply.lang).gettext("Voir les choix")[:WHATSAPP_LIST_BUTTON_LIMIT]
            interactive = {
                "type": "list",
                "body": {"text": body},
                "action": {"button": label, "sections": [
                    {"rows": [{"id": c.id, "title": c.title} for c in choices]}
                ]},
            }
        messages.append({"type": "interactive", "interactive": interactive})
        return messages
    text = numbered_text(reply)
    return [_wa_text(piece) for piece in split_text(text, WHATSAPP_TEXT_LIMIT)]


def whatsapp_template(name: str, language: str = "fr") -> dict[str, Any]:
    """An approved template: the only message allowed outside the 24-hour window."""
    return {"type": "template", "template": {"name": name, "language": {"code": language}}}
