"""The one custom action Rasa calls: every intent is routed here by a rule (nlu/data/rules.yml).

It reads the dialogue state from slots, lets `bot.actions.dialogue` decide the replies, sends
them as `json_message` payloads (DESIGN.md, "What actions send back") and writes the state back.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.dialogue import State, Talk, Turn

log = logging.getLogger(__name__)

SLOTS = tuple(State.__dataclass_fields__)


def turn_from_tracker(tracker: Tracker) -> Turn:
    message = tracker.latest_message or {}
    intent = (message.get("intent") or {}).get("name")
    entities: dict[str, str] = {}
    for entity in message.get("entities") or []:
        name, value = entity.get("entity"), entity.get("value")
        if name and value is not None and name not in entities:
            entities[name] = str(value)
    # Under a fallback, the intent the classifier leaned to (kept with a misunderstood message).
    guess, confidence = None, (message.get("intent") or {}).get("confidence")
    for ranked in message.get("intent_ranking") or []:
        if ranked.get("name") and ranked.get("name") != "nlu_fallback":
            guess, confidence = ranked["name"], ranked.get("confidence")
            break
    return Turn(intent=intent, entities=entities, choice=entities.get("choice"),
                text=message.get("text"), metadata=message.get("metadata") or {},
                guess=guess, confidence=float(confidence) if confidence is not None else None)


RETURNING_AFTER_SECONDS = 3600  # = the domain's session_expiration_time (60 minutes)


def returning_after_pause(tracker: Tracker) -> bool:
    """Is this the first message after a pause? Rasa starts a new session after an hour of
    silence (nlu/domain.yml) and carries the slots over: the message is then the only user
    message since `session_started`, and slots were carried over (a first visit has none).
    A tracker with the whole history also tells by the previous message's timestamp."""
    events = list(tracker.events or [])
    users = [i for i, e in enumerate(events) if e.get("event") == "user"]
    if len(users) >= 2:
        previous, current = events[users[-2]], events[users[-1]]
        try:
            if float(current["timestamp"]) - float(previous["timestamp"]) > (
                    RETURNING_AFTER_SECONDS):
                return True
        except (KeyError, TypeError, ValueError):
            pass
    starts = [i for i, e in enumerate(events) if e.get("event") == "session_started"]
    if not starts or not users:
        return False
    since = starts[-1]
    if sum(1 for i in users if i > since) != 1:
        return False
    carried = any(e.get("event") == "slot" and e.get("value") not in (None, [], {}, False, 0)
                  for e in events[since:users[-1]])
    return carried or any(i < since for i in users)


class ActionDispatch(Action):
    def name(self) -> str:
        return "action_dispatch"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        state = State.from_slots({slot: tracker.get_slot(slot) for slot in SLOTS})
        before = state.to_slots()
        talk = Talk(state, sender_id=tracker.sender_id)
        turn = turn_from_tracker(tracker)
        if returning_after_pause(tracker):
            turn.metadata = {**turn.metadata, "returning": True}
        replies = talk.respond(turn)
        for reply in replies:
            dispatcher.utter_message(json_message=reply.to_json())
        after = state.to_slots()
        return [SlotSet(slot, after[slot]) for slot in SLOTS if after[slot] != before[slot]]
