"""Talk to a person: log a request a partner answers here, with the messages the user shares.

Choice ids: `flow:talk:start`, `flow:talk:share` (send the messages shown), `flow:talk:send`
(send without them), `flow:talk:country:<code>`, `flow:talk:cancel`. Offered by
`dialogue.misunderstood()` after two misunderstandings. Only the last few non-sensitive
messages are offered, they are shown to the user before they agree, and the consent is
recorded (`share_conversation`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.actions.flows.base import Flow
from bot.actions.state import COUNTRY_CODES, Turn
from bot.core.messages import Choice, Reply

if TYPE_CHECKING:  # pragma: no cover
    from bot.actions.dialogue import Talk


class TalkFlow(Flow):
    name = "talk"
    sends_request = True
    ACTIONS = {
        (None, "cancel"): "cancelled_by_button", (None, "exit"): "cancelled_by_button",
        ("share", "share"): "_share", ("share", "send"): "_send",
        ("country", "country"): "_country",
    }

    def start_with(self, talk: Talk, turn: Turn) -> list[Reply]:
        """A country (or a place) named in the message is not asked again."""
        country = (turn.entities.get("country") or talk.country_of_place(
            turn.entities.get("place")) or talk.country_in_text(turn.text))
        if country in COUNTRY_CODES and talk.state.country not in COUNTRY_CODES:
            talk.state.country = country
        return self.start(talk, "start")

    def ask_again(self, talk: Talk) -> Reply | None:
        if self._state(talk).get("step") == "country":
            return self.ask_country(talk, talk._("Dans quel pays êtes-vous ?"))
        return self.start(talk, "start")[0]

    def resume_choice(self, talk: Talk) -> Choice | None:
        if not self.is_open(talk):
            return None
        return Choice(self.cid("resume"), talk._("Reprendre votre demande"))

    def start(self, talk: Talk, arg: str) -> list[Reply]:
        messages = talk.repo.shareable_messages(talk.sender_id)
        talk.state.flow = {"name": self.name, "step": "share",
                           "messages": [m[0] for m in messages]}
        cancel = Choice(self.cid("cancel"), talk._("Annuler"))
        if not messages:
            return [talk.reply(talk._("Une personne d'une organisation partenaire peut vous "
                                      "répondre ici. On lui envoie votre demande ?"),
                               [Choice(self.cid("send"), talk._("Oui, envoyer")), cancel])]
        lines = "\n".join(f"« {text} »" for _, text in messages)
        text = talk._("Une personne d'une organisation partenaire peut vous répondre ici. "
                      "Voulez-vous lui montrer vos derniers messages ?\n{messages}").format(
            messages=lines)
        return [talk.reply(text, [Choice(self.cid("share"), talk._("Oui, les montrer")),
                                  Choice(self.cid("send"), talk._("Non, sans eux")), cancel])]

    def handle(self, talk: Talk, turn: Turn) -> list[Reply] | None:
        if turn.intent != "choose" or not turn.choice:
            if self.is_cancel_text(turn):
                return self.cancelled(talk)
            if turn.intent == "menu":
                return None
            # "oui", "ok envoie", "waaw": the buttons' answer; anything else asks again.
            return self.typed(talk, turn)
        replies = self.dispatch(talk, turn)
        return replies if replies is not None else self.start(talk, "start")

    # ---- button presses (ACTIONS) ------------------------------------------------------
    def cancelled_by_button(self, talk: Talk, arg: str) -> list[Reply]:
        return self.cancelled(talk)

    def _share(self, talk: Talk, arg: str) -> list[Reply]:
        return self._agree(talk, share=True)

    def _send(self, talk: Talk, arg: str) -> list[Reply]:
        return self._agree(talk, share=False)

    def _agree(self, talk: Talk, *, share: bool) -> list[Reply]:
        self._go(talk, "country", share=share)
        if talk.state.country not in COUNTRY_CODES:
            return [self.ask_country(talk, talk._("Dans quel pays êtes-vous ?"))]
        return self._create(talk)

    def _country(self, talk: Talk, arg: str) -> list[Reply] | None:
        if arg not in COUNTRY_CODES:
            return None
        talk.state.country = arg
        return self._create(talk)

    def _create(self, talk: Talk) -> list[Reply]:
        state = self._state(talk)
        shared = list(state.get("messages") or []) if state.get("share") else None
        request = talk.repo.create_request(
            contact_id=talk.sender_id, category="talk_to_person",
            channel=talk.metadata.get("channel") or "web", shared_messages=shared,
            country=talk.state.country, language=talk.lang, callback_method="channel")
        assert request is not None  # no call-back number is asked for
        talk.end_flow()
        text = talk._("C'est envoyé. Une personne vous répondra ici. Votre code : "
                      "{code}").format(code=request.reference_code)
        note = self.code_note(talk, request.reference_code, request.due_at)
        return [talk.reply(f"{text}\n{note}")]
