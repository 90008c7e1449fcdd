"""One message to the dialogue: what the inbox worker hands over for an inbox row.

A pressed button or a typed choice becomes a choice turn without Rasa; typed text is cut,
matched against the offered choices, normalised and, when long, reduced to its strongest
question (bot/core/segments.py), then read by Rasa's NLU (`/model/parse`); a voice note or an
unsupported kind is answered here. The dialogue then runs in the app with the contact's state
from `conversation_states`, written back in the transaction that stores the replies.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy.orm import Session

from bot.core import choice_match, segments
from bot.core.messages import Choice, InboundKind, Reply
from bot.core.normalize import normalize
from bot.core.rasa_client import RasaClient
from bot.i18n import common, translator
from bot.store.conversations import load_state, save_state
from bot.store.db import Database
from bot.store.models import InboxMessage, utcnow

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


@dataclass
class Understood:
    """What the app understood of one message: Rasa's NLU reading of typed text, or a pressed
    choice (no NLU). The fields of `bot.actions.dialogue.Turn`."""

    intent: str | None
    entities: dict[str, str] = field(default_factory=dict)
    choice: str | None = None
    text: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    guess: str | None = None  # the classifier's best real intent (also under a fallback)
    confidence: float | None = None


class Dialogue(Protocol):
    """The dialogue (bot/conversation.py): the replies to a turn, and the new state."""

    def respond(self, contact_id: str, slots: dict[str, Any],
                understood: Understood) -> tuple[list[Reply], dict[str, Any]]: ...


RETURNING_AFTER = timedelta(hours=1)  # a message after this long a silence is a return


def choice_message(choice_id: str) -> str:
    """The text of a pressed choice in the turn (the payload Rasa used to receive): flows and
    the disclosure screen read text starting with "/" as no typed text."""
    return "/choose" + _json({"choice": choice_id})


def chosen(choice_id: str, metadata: dict[str, Any]) -> Understood:
    return Understood("choose", {"choice": choice_id}, choice_id, choice_message(choice_id),
                      metadata, "choose", 1.0)


def from_parse(parse: dict[str, Any], text: str, metadata: dict[str, Any]) -> Understood:
    """A turn from Rasa's `/model/parse` reading of `text` (what the action server read from
    the tracker's latest message)."""
    intent = (parse.get("intent") or {}).get("name")
    entities: dict[str, str] = {}
    for entity in parse.get("entities") or []:
        name, value = entity.get("entity"), entity.get("value")
        if name and value is not None and name not in entities:
            entities[name] = str(value)
    # Under a fallback, the intent the classifier leaned to (kept with a misunderstood message).
    guess, confidence = None, (parse.get("intent") or {}).get("confidence")
    for ranked in parse.get("intent_ranking") or []:
        if ranked.get("name") and ranked.get("name") != "nlu_fallback":
            guess, confidence = ranked["name"], ranked.get("confidence")
            break
    return Understood(intent, entities, entities.get("choice"), text, metadata, guess,
                      float(confidence) if confidence is not None else None)


def _json(data: dict) -> str:
    return json.dumps(data, ensure_ascii=False)


class Answerer:
    """Turns an inbox row into the dialogue's replies: Rasa reads typed text (`/model/parse`);
    the dialogue runs here, with the contact's state from the app's database. A pressed
    choice, a location or a voice note needs no Rasa: only typed text waits for it."""

    def __init__(self, rasa: RasaClient, db: Database, dialogue: Dialogue | None = None):
        self.rasa = rasa
        self.db = db
        if dialogue is None:  # the app's dialogue; imported here, bot.core never imports it
            from bot.conversation import TalkDialogue

            dialogue = TalkDialogue(db)
        self.dialogue = dialogue

    async def answer(self, row: InboxMessage, contact: ContactView) -> Answered:
        understood = await self.understand(row, contact)
        if isinstance(understood, list):
            return Answered(understood)
        with self.db.session() as session:
            saved = load_state(session, contact.id)
        # As Rasa's sessions did: the time the message is read, after an hour of silence.
        now = utcnow()
        if saved.last_user_at is not None and now - saved.last_user_at > RETURNING_AFTER:
            understood.metadata["returning"] = True
        replies, slots = self.dialogue.respond(contact.id, saved.slots, understood)

        def persist(session: Session) -> None:
            save_state(session, contact.id, slots, now)

        return Answered(replies, persist)

    async def understand(self, row: InboxMessage, contact: ContactView) -> Understood | list[Reply]:
        """The turn of an inbox row, or the replies when there is nothing to understand."""
        lang = contact.language or "fr"
        t = translator(lang)
        payload = row.payload or {}
        kind = InboundKind(row.kind)
        metadata: dict[str, Any] = {"language": contact.language, "country": contact.country,
                                    "channel": row.channel}
        if payload.get("private"):  # a sensitive step: the dialogue gets a content-free choice
            return chosen(payload["private"]["choice"], metadata)
        if kind == InboundKind.CHOICE and payload.get("choice_id"):
            return chosen(payload["choice_id"], metadata)
        if kind == InboundKind.TEXT:
            metadata["original_text"] = row.text  # the message as typed, for the flows
            return await self.understand_text(row.text or "", contact, metadata)
        if kind == InboundKind.LOCATION and payload.get("location"):
            loc = payload["location"]
            position = {"latitude": loc["latitude"], "longitude": loc["longitude"]}
            return Understood("share_location", {k: str(v) for k, v in position.items()},
                              None, "/share_location" + _json(position), metadata,
                              "share_location", 1.0)
        if kind == InboundKind.VOICE:
            # Kept for a partner to listen to until speech recognition exists.
            return [Reply(t.gettext(common.VOICE_RECEIVED), lang=lang)]
        return self.unsupported(lang)

    @staticmethod
    def unsupported(lang: str) -> list[Reply]:
        t = translator(lang)
        return [Reply(t.gettext(common.UNSUPPORTED_MESSAGE),
                      choices=[Choice("menu:main", t.gettext(common.MENU))], lang=lang)]

    async def understand_text(self, text: str, contact: ContactView,
                              metadata: dict[str, Any]) -> Understood | list[Reply]:
        text = text[:MAX_TEXT_CHARS]
        # A typed number, the title of an offered choice (any language, close spelling) or a
        # yes/no word where the step has a yes/no choice selects it (bot/core/choice_match.py).
        # A choice that cannot be undone is never selected this way: the text goes on as text.
        choice = choice_match.match_choice(text, contact.last_choices or [])
        if choice:
            return chosen(choice, metadata)
        if text.strip() and not any(ch.isalnum() for ch in text):
            # Punctuation or emoji only: "👍" is an ok, "🙏" a thanks, "?" asks for help.
            intent = "thanks" if choice_match.yes_no(text) or "🙏" in text else "help"
            return Understood(intent, {}, None, f"/{intent}", metadata, intent, 1.0)
        cleaned = normalize(text)
        if not cleaned.strip(" .!?,;:-_*#") or not any(ch.isalnum() for ch in cleaned):
            return self.unsupported(contact.language or "fr")  # empty
        # A leading slash used to be read by Rasa as an intent payload: never from users.
        message = await self.strongest_question(cleaned.lstrip("/"), metadata)
        return from_parse(await self.rasa.parse(message, timeout=self.rasa.timeout), message,
                          metadata)

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
        for part, parse in zip(parts, parses, strict=True):
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
