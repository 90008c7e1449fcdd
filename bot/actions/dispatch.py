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
    return Turn(intent=intent, entities=entities, choice=entities.get("choice"),
                text=message.get("text"), metadata=message.get("metadata") or {})


class ActionDispatch(Action):
    def name(self) -> str:
        return "action_dispatch"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        state = State.from_slots({slot: tracker.get_slot(slot) for slot in SLOTS})
        before = state.to_slots()
        talk = Talk(state, sender_id=tracker.sender_id)
        replies = talk.respond(turn_from_tracker(tracker))
        for reply in replies:
            dispatcher.utter_message(json_message=reply.to_json())
        after = state.to_slots()
        return [SlotSet(slot, after[slot]) for slot in SLOTS if after[slot] != before[slot]]
