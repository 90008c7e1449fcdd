"""Where is my request? Answers only to the contact who made it: its status, what the status
means, what happens next and by when (the due date), and the partner's last message.
Choice ids: `flow:status:start`, `flow:status:ref:<code>`, `flow:status:cancel`.

A message that carries a code ("statut ML-7KQ4XR", "ml 7kq4xr", "statut de ML7KQ4XR") is
answered at once, whatever the intent the NLU gave it (`claim`).
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from bot.actions.flows.base import Flow
from bot.actions.state import Turn
from bot.core.messages import Choice, Reply
from bot.core.notify import status_label
from bot.i18n import N_, format_date
from bot.store import requests as store

if TYPE_CHECKING:  # pragma: no cover
    from bot.actions.dialogue import Talk

# A code inside a sentence: country, optional separator, 6 characters of the code alphabet.
_CODE_IN_TEXT = re.compile(
    rf"(?<![A-Za-z0-9])(ML|GN|SN|XX)[\s._–—-]*([{store.CODE_ALPHABET}]{{{store.CODE_LENGTH}}})"
    r"(?![A-Za-z0-9])", re.IGNORECASE)
# What each status means for the miner, and what happens next.
STATUS_MEANINGS = {
    "new": N_("Elle est bien reçue. Un partenaire va la prendre en charge."),
    "assigned": N_("Un partenaire l'a prise en charge. Il va l'étudier et vous répondre ici."),
    "in_progress": N_("Un partenaire s'en occupe. Ses messages arriveront ici."),
    "resolved": N_("Le partenaire la considère comme réglée. Si le problème continue, vous "
                   "pouvez parler à une personne."),
    "closed": N_("Elle est terminée. Pour un nouveau problème, faites une nouvelle demande."),
}


def find_reference_code(text: str | None) -> str | None:
    """The first reference code in a message, as stored ("statut de ml 7kq4xr" ->
    "ML-7KQ4XR"); None if there is none."""
    match = _CODE_IN_TEXT.search(text or "")
    if not match:
        return None
    return store.normalize_reference_code(match.group(1) + match.group(2))


class StatusFlow(Flow):
    name = "status"
    ACTIONS = {(None, "ref"): "_show", (None, "cancel"): "_cancel", (None, "exit"): "_cancel"}

    def claim(self, talk: Talk, turn: Turn) -> list[Reply] | None:
        """A typed code is answered at once (a disclosure never: it goes to protection)."""
        if turn.intent in ("violence_help", "choose"):
            return None
        code = find_reference_code(turn.text)
        return self._show(talk, code) if code else None

    def start_with(self, talk: Talk, turn: Turn) -> list[Reply]:
        code = find_reference_code(turn.text)
        return self._show(talk, code) if code else self.start(talk, "start")

    def start(self, talk: Talk, arg: str) -> list[Reply]:
        talk.state.flow = {"name": self.name, "step": "code"}
        mine = talk.repo.request_codes(talk.sender_id)
        choices = [Choice(self.cid(f"ref:{code}"), code) for code in mine]
        choices.append(Choice(self.cid("cancel"), talk._("Annuler")))
        text = talk._("Écrivez le code de votre demande (par exemple ML-7KQ4XR).")
        if mine:
            text = talk._("Choisissez votre demande, ou écrivez son code.")
        return [talk.reply(text, choices)]

    def handle(self, talk: Talk, turn: Turn) -> list[Reply] | None:
        if turn.intent == "choose" and turn.choice:
            replies = self.dispatch(talk, turn)
            return replies if replies is not None else self.start(talk, "start")
        if turn.intent == "menu":
            return None
        if self.is_cancel_text(turn):
            return self.cancelled(talk)
        code = find_reference_code(turn.text) or store.normalize_reference_code(turn.text)
        if code is None:
            if turn.intent not in (None, "nlu_fallback", "out_of_scope", "inform", "check_status"):
                return None  # a new question: let the dialogue answer it
            return [talk.reply(talk._("Ce n'est pas un code. Un code ressemble à ML-7KQ4XR."),
                               [Choice(self.cid("cancel"), talk._("Annuler"))])]
        return self._show(talk, code)

    def _cancel(self, talk: Talk, arg: str) -> list[Reply]:
        return self.cancelled(talk)

    def _show(self, talk: Talk, code: str) -> list[Reply]:
        request = talk.repo.find_request(talk.sender_id, code)
        if request is None:
            # Same answer whether the code does not exist or belongs to someone else.
            return [talk.reply(talk._("Je ne trouve pas de demande {code} faite depuis ce "
                                      "téléphone.").format(code=code),
                               [Choice(self.cid("cancel"), talk._("Annuler"))])]
        text = talk._("Demande {code} ({category}) : {status}.").format(
            code=request.reference_code, category=self.category_label(talk, request.category),
            status=status_label(talk._, request.status))
        if request.status in STATUS_MEANINGS:
            text += "\n" + talk._(STATUS_MEANINGS[request.status])
        choices = []
        due = request.due_at
        if due is not None and request.status in ("new", "assigned", "in_progress"):
            if due.tzinfo is None:
                due = due.replace(tzinfo=timezone.utc)
            date = format_date(due.date(), talk.lang, talk.state.country)
            if due >= datetime.now(timezone.utc):
                text += "\n" + talk._("Réponse prévue avant le {date}.").format(date=date)
            else:
                text += "\n" + talk._("La réponse était prévue avant le {date} : elle a du "
                                      "retard. Vous pouvez parler à une personne.").format(
                    date=date)
                choices.append(Choice("flow:talk:start", talk._("Parler à une personne")))
        if request.status == "resolved":
            choices.append(Choice("flow:talk:start", talk._("Parler à une personne")))
        if request.partner_message:
            text += "\n" + talk._("Dernier message du partenaire : « {message} »").format(
                message=request.partner_message)
        talk.end_flow()
        return [talk.reply(text, choices)]
