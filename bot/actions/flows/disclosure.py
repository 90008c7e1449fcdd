"""The disclosure safety net in the dialogue: route to protection, or offer it first.

`Talk.respond` runs `DisclosureOffer.screen` on every typed message before anything else
(the intent, the language proposal). The detector (`bot.core.disclosure`) reads the text in
process; nothing of it is kept:

* ``sure``: the protection flow starts (its replies are sensitive: the next message is read
  privately by the gateway);
* ``unsure``: one question first, "Voulez-vous de l'aide confidentielle ?", with "Oui"
  (the protection flow) and "Non, continuer". The offer is sensitive too, so what the user
  types next is read privately. Only the *name* of the intent the NLU found is kept (in
  `State.flow`), so that "Non, continuer" answers the original question.

Never analysed: button presses, messages inside the protection flow (it reads its own
input), and messages Rasa already understood as `violence_help` (the protection flow starts
through its intent).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bot.actions.flows.base import Flow
from bot.actions.state import Turn
from bot.core.messages import Choice, Reply

if TYPE_CHECKING:  # pragma: no cover
    from bot.actions.dialogue import Talk

log = logging.getLogger(__name__)

NAME = "disclosure"
PROTECTION = "protection"
# Intents that are no question to come back to after "Non, continuer".
NO_QUESTION = {None, "nlu_fallback", "out_of_scope", "choose", "affirm", "deny"}


class DisclosureOffer(Flow):
    name = NAME

    def screen(self, talk: Talk, turn: Turn) -> list[Reply] | None:
        """Replies for a typed message that discloses violence, or None to carry on."""
        text = turn.text or ""
        if (not text.strip() or turn.choice or turn.intent == "choose"
                or text.lstrip()[:1] == "/" or turn.intent == "violence_help"
                or PROTECTION not in talk.flows):
            return None
        if (talk.state.flow or {}).get("name") == PROTECTION:
            return None
        from bot.core.disclosure import detect

        found = detect(text)
        if found.level == "none":
            return None
        log.info("disclosure: %s (%s)", found.level, found.kind)  # never the text
        if found.sure:
            talk.state.misunderstood = 0
            return talk.flows.start(PROTECTION, talk)
        if talk.state.flow and talk.state.flow.get("name") != NAME:
            # Inside another flow (a report, a guide) only a sure disclosure interrupts it.
            return None
        return self.offer(talk, turn.intent)

    def offer(self, talk: Talk, intent: str | None, *, again: bool = False) -> list[Reply]:
        kept = intent if intent not in NO_QUESTION else None
        self._go(talk, "offer", intent=kept, asked=2 if again else 1)
        question = talk._("Voulez-vous de l'aide confidentielle ?")
        if again:
            question = talk._("Ce que vous écrivez ici n'est pas gardé. Répondez avec un "
                              "bouton : voulez-vous de l'aide confidentielle ?")
        choices = [Choice(f"flow:{PROTECTION}:start", talk._("Oui")),
                   Choice(self.cid("cancel"), talk._("Non, continuer"))]
        return [talk.reply(question, choices, sensitive=True)]

    def start(self, talk: Talk, arg: str) -> list[Reply]:
        # Only reached by an old button of an offer that is over: nothing to continue.
        talk.end_flow()
        return talk.show_menu("main")

    def handle(self, talk: Talk, turn: Turn) -> list[Reply] | None:
        state = self._state(talk)
        if turn.intent != "choose" or not turn.choice:
            # Typed text that reached us in clear (not through the gateway's private path):
            # it was screened already; leave the offer and understand it normally.
            talk.end_flow()
            return None
        action = turn.choice.removeprefix(f"flow:{NAME}:")
        if action == "exit":
            talk.end_flow()
            return talk.show_menu("main")
        if action == "input" and state.get("asked", 1) < 2:
            return self.offer(talk, state.get("intent"), again=True)
        return self._carry_on(talk, state.get("intent"))

    @staticmethod
    def _carry_on(talk: Talk, intent: str | None) -> list[Reply]:
        """"Non, continuer": answer the question the message asked, or show the menu."""
        talk.end_flow()
        if not intent:
            return talk.show_menu("main")
        return talk.on_intent(Turn(intent=intent))

