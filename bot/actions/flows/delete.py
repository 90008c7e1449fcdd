"""Erase my data: confirm, then the gateway erases after the turn (bot/core/privacy.py).

Choice ids: `flow:delete:start`, `flow:delete:confirm`, `flow:delete:cancel`. Erased: channel
identifiers, messages, consents, media and the conversation state; requests stay, anonymised.

Nothing is erased by accident (issue 11, item 7):
* the flow starts on an explicit request only: the `delete_data` intent predicted with a
  confidence of at least `CONFIDENCE` in a message that names erasing; otherwise the user is
  asked first ("Voulez-vous effacer vos données ?", with a button);
* the erasure is confirmed by its button or by typing the confirmation word (« EFFACER »),
  never by a typed number (the gateway does not map a number to `flow:delete:confirm`, see
  `bot.core.choice_match.DESTRUCTIVE_CHOICES`), a yes word or a guessed intent.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from bot.actions.flows.base import Flow
from bot.actions.state import Turn
from bot.core.choice_match import fold, yes_no
from bot.core.messages import Choice, Reply
from bot.core.privacy import QUICK_EXIT_WORDS

if TYPE_CHECKING:  # pragma: no cover
    from bot.actions.dialogue import Talk

CONFIDENCE = 0.9
# Words that name erasing (French, folded): a message without one is not an explicit request.
_EXPLICIT = re.compile(r"\b(effac|supprim|delet|eras|oubli|retir|enlev|detrui)", re.I)
CONFIRM_WORD = "EFFACER"


class DeleteFlow(Flow):
    name = "delete"
    ACTIONS = {("confirm", "confirm"): "_erase", (None, "cancel"): "_keep",
               (None, "exit"): "_keep"}

    def start_with(self, talk: Talk, turn: Turn) -> list[Reply]:
        explicit = bool(_EXPLICIT.search(fold(turn.text)))
        if explicit and turn.confidence is not None and turn.confidence >= CONFIDENCE:
            return self.start(talk, "start")
        return self.propose(talk)

    def propose(self, talk: Talk) -> list[Reply]:
        """Not sure the user asked to erase: ask, with a button that opens the confirmation."""
        return [talk.reply(talk._("Voulez-vous effacer vos données ?"),
                           [Choice(self.cid("start"), talk._("Oui, effacer mes données")),
                            Choice("menu:main", talk._("Non"))])]

    def start(self, talk: Talk, arg: str) -> list[Reply]:
        talk.state.flow = {"name": self.name, "step": "confirm"}
        word = talk._(CONFIRM_WORD)
        text = talk._(
            # Exactly what bot/core/privacy.py erases and keeps (KEPT_FOR_STATISTICS).
            "Effacer vos données ? Seront effacés : vos messages, vocaux et photos, votre "
            "numéro, vos accords, et dans vos demandes ce que vous avez écrit, le lieu et la "
            "position. Pour les statistiques, on garde seulement le type de problème, le pays, "
            "la zone, l'application, les dates et l'état de vos demandes. On ne pourra pas "
            "revenir en arrière.") + "\n" + talk._(
            "Pour confirmer, écrivez {word} ou appuyez sur « {button} ».").format(
            word=word, button=talk._("Effacer"))
        # "Annuler" first: a stray "1" cancels; a typed number never confirms.
        return [talk.reply(text, [Choice(self.cid("cancel"), talk._("Annuler")),
                                  Choice(self.cid("confirm"), talk._("Effacer"))])]

    def _confirm_word(self, talk: Talk, turn: Turn) -> bool:
        typed = fold(turn.text)
        return bool(typed) and typed in {fold(talk._(CONFIRM_WORD)), fold(CONFIRM_WORD)}

    def handle(self, talk: Talk, turn: Turn) -> list[Reply] | None:
        confirming = (talk.state.flow or {}).get("step") == "confirm"
        if turn.intent == "choose" and turn.choice:
            replies = self.dispatch(talk, turn)
            return replies if replies is not None else self.start(talk, "start")
        if turn.intent == "menu":
            return None
        if confirming and self._confirm_word(talk, turn):
            return self._erase(talk, "")
        if (self.is_cancel_text(turn) or fold(turn.text) in QUICK_EXIT_WORDS
                or yes_no(turn.text) == "no"):
            return self._keep(talk, "")
        if yes_no(turn.text) == "yes" or turn.intent in (
                None, "nlu_fallback", "affirm", "delete_data", "out_of_scope"):
            # "oui", "1", "ok": not a confirmation. Say how to confirm; nothing is erased.
            replies = self.start(talk, "start")
            replies[0].text = talk._("Rien n'est effacé pour l'instant.") + " " + replies[0].text
            return replies
        # Another question: leave the confirmation, erase nothing, answer it.
        talk.end_flow()
        return None

    def _erase(self, talk: Talk, arg: str) -> list[Reply]:
        talk.repo.request_erasure(talk.sender_id)
        talk.end_flow()
        return [talk.reply(talk._("C'est fait : vos données sont effacées.") + "\n\n"
                           + self.clear_chat_help(talk), nav=False)]

    def _keep(self, talk: Talk, arg: str) -> list[Reply]:
        talk.end_flow()
        return [talk.reply(talk._("D'accord, rien n'est effacé."))]

