"""Talk to a person: log a request a partner answers here, with the messages the user shares.

Choice ids: `flow:talk:start`, `flow:talk:share` (send the messages shown), `flow:talk:send`
(send without them), `flow:talk:country:<code>`, `flow:talk:cancel`. Offered by
`dialogue.misunderstood()` after two misunderstandings. Only the last few non-sensitive
messages are offered, they are shown to the user before they agree, and the consent is
recorded (`share_conversation`).
"""

from __future__ import annotations

import re

from sqlalchemy import select

from bot.actions.dialogue import COUNTRY_CODES, StepFlow, Talk, Turn, register_flow
from bot.actions.flows.report import ask_country, cancelled, code_note, is_cancel_text
from bot.core.messages import Choice, Reply
from bot.store import requests as store
from bot.store.models import InboxMessage

NAME = "talk"
SHARE_LIMIT = 3
_NOT_WORTH_SHARING = re.compile(r"^\s*(\d{1,2}|menu|ok|oui|non|merci)?\s*[.!?]*\s*$", re.I)


def cid(step: str) -> str:
    return f"flow:{NAME}:{step}"


def shareable_messages(contact_id: str | None, limit: int = SHARE_LIMIT) -> list[tuple[int, str]]:
    """The contact's last typed messages that are worth sharing (none from sensitive steps:
    those have no text)."""
    if not contact_id:
        return []
    with store.database().session() as session:
        rows = session.execute(
            select(InboxMessage.id, InboxMessage.text)
            .where(InboxMessage.contact_id == contact_id, InboxMessage.kind == "text",
                   InboxMessage.text.is_not(None), InboxMessage.status == "done")
            .order_by(InboxMessage.id.desc()).limit(limit * 3)).all()
    kept = [(row.id, " ".join(row.text.split())[:200]) for row in rows
            if not _NOT_WORTH_SHARING.match(row.text)]
    return list(reversed(kept[:limit]))


class TalkFlow(StepFlow):
    name = NAME
    sends_request = True

    def start_with(self, talk: Talk, turn: Turn) -> list[Reply]:
        """A country (or a place) named in the message is not asked again."""
        country = (turn.entities.get("country") or talk._country_of_place(
            turn.entities.get("place")) or talk.country_in_text(turn.text))
        if country in COUNTRY_CODES and talk.state.country not in COUNTRY_CODES:
            talk.state.country = country
        return self.start(talk, "start")

    def ask_again(self, talk: Talk) -> Reply | None:
        if self._state(talk).get("step") == "country":
            return ask_country(talk, NAME, talk._("Dans quel pays êtes-vous ?"))
        return self.start(talk, "start")[0]

    def resume_choice(self, talk: Talk) -> Choice | None:
        if (talk.state.flow or {}).get("name") != NAME:
            return None
        return Choice(cid("resume"), talk._("Reprendre votre demande"))

    def start(self, talk: Talk, arg: str) -> list[Reply]:
        messages = shareable_messages(talk.sender_id)
        talk.state.flow = {"name": NAME, "step": "share", "messages": [m[0] for m in messages]}
        cancel = Choice(cid("cancel"), talk._("Annuler"))
        if not messages:
            return [talk.reply(talk._("Une personne d'une organisation partenaire peut vous "
                                      "répondre ici. On lui envoie votre demande ?"),
                               [Choice(cid("send"), talk._("Oui, envoyer")), cancel])]
        lines = "\n".join(f"« {text} »" for _, text in messages)
        text = talk._("Une personne d'une organisation partenaire peut vous répondre ici. "
                      "Voulez-vous lui montrer vos derniers messages ?\n{messages}").format(
            messages=lines)
        return [talk.reply(text, [Choice(cid("share"), talk._("Oui, les montrer")),
                                  Choice(cid("send"), talk._("Non, sans eux")), cancel])]

    def handle(self, talk: Talk, turn: Turn) -> list[Reply] | None:
        state = self._state(talk)
        if turn.intent != "choose" or not turn.choice:
            if is_cancel_text(turn):
                return cancelled(talk)
            if turn.intent == "menu":
                return None
            # "oui", "ok envoie", "waaw": the buttons' answer; anything else asks again.
            return self.typed(talk, turn)
        action, _, arg = turn.choice.removeprefix(f"flow:{NAME}:").partition(":")
        if action in ("cancel", "exit"):
            return cancelled(talk)
        if action in ("share", "send") and state.get("step") == "share":
            talk.state.flow = {**state, "step": "country", "share": action == "share"}
            if talk.state.country not in COUNTRY_CODES:
                return [ask_country(talk, NAME, talk._("Dans quel pays êtes-vous ?"))]
            return self._create(talk)
        if action == "country" and arg in COUNTRY_CODES and state.get("step") == "country":
            talk.state.country = arg
            return self._create(talk)
        return self.start(talk, "start")

    def _create(self, talk: Talk) -> list[Reply]:
        state = self._state(talk)
        share = bool(state.get("share"))
        summary = None
        if share and state.get("messages"):
            with store.database().session() as session:
                rows = session.execute(select(InboxMessage.id, InboxMessage.text).where(
                    InboxMessage.id.in_(state["messages"]),
                    InboxMessage.contact_id == talk.sender_id)).all()
            texts = {row.id: " ".join((row.text or "").split()) for row in rows}
            summary = "\n".join(texts[i] for i in state["messages"] if texts.get(i)) or None
        with store.database().session() as session:
            request = store.create_request(
                session, contact_id=talk.sender_id, category="talk_to_person",
                channel=talk.metadata.get("channel") or "web", country=talk.state.country,
                language=talk.lang, summary=summary, callback_method="channel",
                share_conversation=share and summary is not None)
            code, due_at = request.reference_code, request.due_at
        talk.end_flow()
        text = talk._("C'est envoyé. Une personne vous répondra ici. Votre code : "
                      "{code}").format(code=code)
        return [talk.reply(f"{text}\n{code_note(talk, code, due_at)}")]


FLOW = register_flow(TalkFlow(), "talk_to_person")
