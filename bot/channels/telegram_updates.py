"""Telegram updates (python-telegram-bot's `Update`) as the core's `Inbound`: pure mapping,
no I/O. The adapter (telegram.py) feeds it updates from the webhook and from long polling.

Only a user writing to the bot in a private chat is a message: edited messages, group chats,
channel posts and member changes map to None. The bot's commands become what the NLU
understands; a pressed button becomes a CHOICE.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

from telegram import Audio, Message, Update, Voice
from telegram.error import RetryAfter

from bot.channels import render
from bot.core.messages import Channel, Inbound, InboundKind, Location, Media

T = TypeVar("T")

ALLOWED_UPDATES = ["message", "callback_query"]
# Shown in Telegram's command menu; each becomes something the NLU understands.
COMMANDS = [
    ("start", "Commencer"),
    ("menu", "Menu principal"),
    ("langue", "Changer de langue"),
    ("aide", "Aide"),
]
_COMMAND_TEXT = {"start": "bonjour", "langue": "changer de langue", "aide": "aide"}
_COMMAND_CHOICE = {"menu": "menu:main"}


def _seconds(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, timedelta):
        return value.total_seconds()
    return float(value)


def _quiet(getter: Callable[[], T]) -> T:
    """Read a PTB attribute without its int/timedelta transition warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return getter()


def retry_after_seconds(error: RetryAfter) -> float | None:
    """How long Telegram's flood control asks us to wait."""
    return _seconds(_quiet(lambda: error.retry_after))


def _command(text: str) -> tuple[InboundKind, dict[str, Any]] | None:
    if not text.startswith("/"):
        return None
    name = text[1:].split(maxsplit=1)[0].split("@", 1)[0].lower() if len(text) > 1 else ""
    if name in _COMMAND_CHOICE:
        return InboundKind.CHOICE, {"choice_id": _COMMAND_CHOICE[name]}
    if name in _COMMAND_TEXT:
        return InboundKind.TEXT, {"text": _COMMAND_TEXT[name]}
    return None  # an unknown command is plain text (the gateway drops the slash)


def _file(kind: str, ref: str, mime_type: str | None, size: int | None,
          caption: str | None) -> tuple[InboundKind, dict[str, Any]]:
    return InboundKind.MEDIA, {"media": Media(kind=kind, ref=ref, mime_type=mime_type,
                                              size=size), "text": caption}


def _message_fields(message: Message) -> tuple[InboundKind, dict[str, Any]]:
    caption = message.caption or None
    if message.text is not None:
        return _command(message.text) or (InboundKind.TEXT, {"text": message.text})
    sound: Voice | Audio | None = message.voice if message.voice is not None else message.audio
    if sound is not None:
        duration = int(_seconds(_quiet(lambda: sound.duration)) or 0) or None
        return InboundKind.VOICE, {"media": Media(
            kind="voice" if isinstance(sound, Voice) else "audio", ref=sound.file_id,
            mime_type=sound.mime_type, size=sound.file_size, duration=duration),
            "text": caption}
    if message.photo:
        photo = message.photo[-1]  # the largest size
        return _file("photo", photo.file_id, "image/jpeg", photo.file_size, caption)
    if message.sticker is not None:
        return InboundKind.UNSUPPORTED, {}
    if message.video is not None:
        video = message.video
        return _file("video", video.file_id, video.mime_type, video.file_size, caption)
    if message.video_note is not None:
        note = message.video_note
        return _file("video_note", note.file_id, None, note.file_size, caption)
    if message.document is not None:
        document = message.document
        return _file("document", document.file_id, document.mime_type, document.file_size,
                     caption)
    if message.location is not None:
        return InboundKind.LOCATION, {"location": Location(message.location.latitude,
                                                           message.location.longitude)}
    if message.contact is not None:
        return InboundKind.CONTACT, {}  # the card's number is not kept
    return InboundKind.UNSUPPORTED, {}


def update_to_inbound(update: Update) -> Inbound | None:
    """The Inbound for one update; None for updates that are not a user writing to us
    (edited messages, group chats, channel posts, member changes...).

    A pressed button whose data is a hashed key (see render.callback_data_for) comes back as a
    CHOICE with that key and the button's title as text; the channel resolves it."""
    message_id = str(update.update_id)
    query = update.callback_query
    if query is not None:
        message = query.message
        chat = message.chat if message is not None else None
        if chat is not None and chat.type != "private":
            return None
        address = str(chat.id if chat is not None else query.from_user.id)
        data = query.data or ""
        if not data:
            return Inbound(Channel.TELEGRAM, message_id, address, InboundKind.UNSUPPORTED)
        title = None
        if render.is_hashed_callback(data) and isinstance(message, Message) \
                and message.reply_markup is not None:
            for row in message.reply_markup.inline_keyboard:
                for button in row:
                    if button.callback_data == data:
                        title = button.text
        return Inbound(Channel.TELEGRAM, message_id, address, InboundKind.CHOICE,
                       choice_id=data[:200], text=title)
    message = update.message
    if message is None or message.chat.type != "private":
        return None
    kind, fields = _message_fields(message)
    return Inbound(Channel.TELEGRAM, message_id, str(message.chat.id), kind, **fields)


_UPDATE_KINDS = ("edited_message", "channel_post", "edited_channel_post", "my_chat_member",
                 "chat_member", "inline_query", "poll", "message_reaction", "message",
                 "callback_query")


def update_kind(update: Update) -> str:
    """Which field of an update is set, for the log line of an ignored update."""
    return next((name for name in _UPDATE_KINDS if getattr(update, name, None) is not None),
                "unknown")
