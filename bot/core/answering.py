"""One message to the dialogue: what the inbox worker hands over for an inbox row.

A pressed button or a typed choice becomes a choice message; typed text is cut, matched
against the offered choices, normalised and, when long, reduced to its strongest question
(bot/core/segments.py); a voice note or an unsupported kind is answered here.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from bot.core import choice_match, segments
from bot.core.messages import Choice, InboundKind, Reply
from bot.core.normalize import normalize
from bot.core.rasa_client import RasaClient, choice_message
from bot.i18n import common, translator
from bot.store.models import InboxMessage

log = logging.getLogger(__name__)

MAX_TEXT_CHARS = 2000  # longer messages are cut before NLU; the user is not punished for it
SEGMENT_PARSE_TIMEOUT = 4.0  # the parts of a long message, parsed at once (seconds, in all)


@dataclass
class ContactView:
    """What the inbox worker needs of a contact while it answers one of its messages."""

    id: str
    language: str | None = None
    country: str | None = None
    last_choices: list[dict[str, str]] | None = None
    last_inbound_at: datetime | None = None



@dataclass
class Answered:
    """The replies to one inbox message, and what the turn keeps: `persist(session)` runs in
    the transaction that stores the replies and marks the message done, so a turn interrupted
    by a crash leaves nothing half-kept and is simply answered again."""

    replies: list[Reply]
    persist: Callable[[Session], None] | None = None


def _json(data: dict) -> str:
    return json.dumps(data, ensure_ascii=False)


class Answerer:
    """Turns an inbox row into the dialogue's replies (through Rasa)."""

    def __init__(self, rasa: RasaClient):
        self.rasa = rasa

    async def answer(self, row: InboxMessage, contact: ContactView) -> Answered:
        return Answered(await self._replies(row, contact))

    async def _replies(self, row: InboxMessage, contact: ContactView) -> list[Reply]:
        lang = contact.language or "fr"
        t = translator(lang)
        payload = row.payload or {}
        kind = InboundKind(row.kind)
        metadata = {"language": contact.language, "country": contact.country,
                    "channel": row.channel}
        message: str | None = None
        if payload.get("private"):  # a sensitive step: Rasa gets a content-free choice only
            message = choice_message(payload["private"]["choice"])
        elif kind == InboundKind.CHOICE and payload.get("choice_id"):
            message = choice_message(payload["choice_id"])
        elif kind == InboundKind.TEXT:
            metadata["original_text"] = row.text  # the message as typed, for the flows
            message = self.text_to_message(row.text or "", contact)
            if message and not message.startswith("/"):
                message = await self.strongest_question(message, metadata)
        elif kind == InboundKind.LOCATION and payload.get("location"):
            loc = payload["location"]
            message = "/share_location" + _json({"latitude": loc["latitude"],
                                                 "longitude": loc["longitude"]})
        elif kind == InboundKind.VOICE:
            # Kept for a partner to listen to until speech recognition exists.
            return [Reply(t.gettext(common.VOICE_RECEIVED), lang=lang)]
        if message is None:
            return [Reply(t.gettext(common.UNSUPPORTED_MESSAGE),
                          choices=[Choice("menu:main", t.gettext(common.MENU))], lang=lang)]
        return await self.rasa.send(contact.id, message, metadata)

    async def strongest_question(self, text: str, metadata: dict[str, Any]) -> str:
        """A long message: the part that is its strongest question (bot/core/segments.py).

        Each part is parsed by Rasa (at most MAX_SEGMENTS, at once, short timeouts); the other
        parts' intents go to the dialogue as `other_intents` (names only, never their text).
        A message that may be a disclosure is never split, and if any parse fails the whole
        message goes on as before."""
        parts = segments.split_sentences(text)
        if len(parts) < 2 or segments.keep_whole(text):
            return text
        try:
            parses = await asyncio.wait_for(asyncio.gather(
                *(self.rasa.parse(part, timeout=SEGMENT_PARSE_TIMEOUT) for part in parts)),
                timeout=SEGMENT_PARSE_TIMEOUT)
        except Exception as exc:  # a help, never a reason to lose or delay the message
            log.info("segments: parse failed (%s); the whole message goes on",
                     type(exc).__name__)
            return text
        for part, parse in zip(parts, parses):
            parse["text"] = part  # what was parsed, for the detector (never logged)
        index = segments.strongest(parses)
        if any((p.get("intent") or {}).get("name") == segments.VIOLENCE for p in parses):
            metadata["violence_segment"] = True
        if not segments.is_content(parses[index]):
            return text
        others = segments.other_intents(parses, index)
        if others:
            metadata["other_intents"] = others
        log.info("segments: %d parts, answering part %d (%s)", len(parts), index + 1,
                 (parses[index].get("intent") or {}).get("name"))
        return parts[index]

    def text_to_message(self, text: str, contact: ContactView) -> str | None:
        text = text[:MAX_TEXT_CHARS]
        # A typed number, the title of an offered choice (any language, close spelling) or a
        # yes/no word where the step has a yes/no choice selects it (bot/core/choice_match.py).
        # A choice that cannot be undone is never selected this way: the text goes on as text.
        chosen = choice_match.match_choice(text, contact.last_choices or [])
        if chosen:
            return choice_message(chosen)
        if text.strip() and not any(ch.isalnum() for ch in text):
            # Punctuation or emoji only: "👍" is an ok, "🙏" a thanks, "?" asks for help.
            return "/thanks" if choice_match.yes_no(text) or "🙏" in text else "/help"
        cleaned = normalize(text)
        if not cleaned.strip(" .!?,;:-_*#") or not any(ch.isalnum() for ch in cleaned):
            return None  # empty
        # A leading slash would be read by Rasa as an intent payload: never from users.
        return cleaned.lstrip("/")

