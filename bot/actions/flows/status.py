"""Where is my request? Answers only to the contact who made it: its status and the partner's
last message. Choice ids: `flow:status:start`, `flow:status:ref:<code>`, `flow:status:cancel`.
"""

from __future__ import annotations

from bot.actions.dialogue import Talk, Turn, register_flow
from bot.actions.flows.report import category_label, cancelled, is_cancel_text
from bot.core.messages import Choice, Reply
from bot.core.notify import status_label
from bot.store import requests as store

NAME = "status"


def cid(step: str) -> str:
    return f"flow:{NAME}:{step}"


class StatusFlow:
    name = NAME

    def start(self, talk: Talk, arg: str) -> list[Reply]:
        talk.state.flow = {"name": NAME, "step": "code"}
        mine = []
        if talk.sender_id:
            with store.database().session() as session:
                mine = [r.reference_code for r in store.requests_of(session, talk.sender_id)]
        choices = [Choice(cid(f"ref:{code}"), code) for code in mine]
        choices.append(Choice(cid("cancel"), talk._("Annuler")))
        text = talk._("Écrivez le code de votre demande (par exemple ML-7KQ4XR).")
        if mine:
            text = talk._("Choisissez votre demande, ou écrivez son code.")
        return [talk.reply(text, choices)]

    def handle(self, talk: Talk, turn: Turn) -> list[Reply] | None:
        if turn.intent == "choose" and turn.choice:
            action, _, arg = turn.choice.removeprefix(f"flow:{NAME}:").partition(":")
            if action == "ref":
                return self._show(talk, arg)
            if action in ("cancel", "exit"):
                return cancelled(talk)
            return self.start(talk, "start")
        if turn.intent == "menu":
            return None
        if is_cancel_text(turn):
            return cancelled(talk)
        code = store.normalise_reference_code(turn.text)
        if code is None:
            if turn.intent not in (None, "nlu_fallback", "out_of_scope", "inform", "check_status"):
                return None  # a new question: let the dialogue answer it
            return [talk.reply(talk._("Ce n'est pas un code. Un code ressemble à ML-7KQ4XR."),
                               [Choice(cid("cancel"), talk._("Annuler"))])]
        return self._show(talk, code)

    def _show(self, talk: Talk, code: str) -> list[Reply]:
        with store.database().session() as session:
            request = store.find_for_contact(session, code, talk.sender_id)
            if request is None:
                # Same answer whether the code does not exist or belongs to someone else.
                return [talk.reply(talk._("Je ne trouve pas de demande {code} faite depuis ce "
                                          "téléphone.").format(code=code),
                                   [Choice(cid("cancel"), talk._("Annuler"))])]
            text = talk._("Demande {code} ({category}) : {status}.").format(
                code=request.reference_code, category=category_label(talk, request.category),
                status=status_label(talk._, request.status))
            if request.partner_message:
                text += "\n" + talk._("Dernier message du partenaire : « {message} »").format(
                    message=request.partner_message)
        talk.end_flow()
        return [talk.reply(text)]


FLOW = register_flow(StatusFlow(), "check_status")
