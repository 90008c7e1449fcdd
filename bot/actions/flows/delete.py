"""Erase my data: confirm, then the gateway erases after the turn (bot/core/privacy.py).

Choice ids: `flow:delete:start`, `flow:delete:confirm`, `flow:delete:cancel`. Erased: channel
identifiers, messages, consents, media and the Rasa tracker; requests stay, anonymised.
"""

from __future__ import annotations

from bot.actions.dialogue import Talk, Turn, register_flow
from bot.actions.flows.protection import clear_chat_help
from bot.actions.flows.report import cancelled, is_cancel_text
from bot.core.messages import Choice, Reply
from bot.core.privacy import request_erasure
from bot.store import requests as store

NAME = "delete"


class DeleteFlow:
    name = NAME

    def start(self, talk: Talk, arg: str) -> list[Reply]:
        talk.state.flow = {"name": NAME, "step": "confirm"}
        return [talk.reply(talk._(
            "Effacer vos données ? Vos messages, votre numéro et vos accords seront effacés. "
            "Vos demandes restent, sans rien qui permette de vous reconnaître. On ne pourra pas "
            "revenir en arrière."),
            [Choice(f"flow:{NAME}:confirm", talk._("Oui, tout effacer")),
             Choice(f"flow:{NAME}:cancel", talk._("Annuler"))])]

    def handle(self, talk: Talk, turn: Turn) -> list[Reply] | None:
        if turn.intent != "choose" or not turn.choice:
            return cancelled(talk) if is_cancel_text(turn) else None
        action = turn.choice.removeprefix(f"flow:{NAME}:")
        if action == "confirm" and (talk.state.flow or {}).get("step") == "confirm":
            if talk.sender_id:
                with store.database().session() as session:
                    request_erasure(session, talk.sender_id)
            talk.end_flow()
            return [talk.reply(talk._("C'est fait : vos données sont effacées.") + "\n\n"
                               + clear_chat_help(talk), nav=False)]
        if action in ("cancel", "exit"):
            talk.end_flow()
            return [talk.reply(talk._("D'accord, rien n'est effacé."))]
        return self.start(talk, "start")


FLOW = register_flow(DeleteFlow(), "delete_data")
