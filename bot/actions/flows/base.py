"""The base of every multi-step flow, with the helpers flows share.

A flow keeps its step and values in `State.flow` (`{"name": ..., "step": ..., ...}`), reads
and writes data through `talk.repo` only (`bot.store.repository`), and reaches another flow
through `talk.flows`, never by importing it. A button press inside a flow is dispatched by its
`ACTIONS` table, `{(step, action): method name}` (`None` as the step: any step).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar

from bot.actions.state import Turn
from bot.core.messages import Choice, Reply
from bot.facts import COUNTRIES, MINER_CATEGORIES

if TYPE_CHECKING:  # pragma: no cover
    from bot.actions.dialogue import Talk

# What a button press inside a flow calls: method(talk, arg) -> replies.
Handler = Callable[["Talk", str], "list[Reply]"]


class Flow:
    """A multi-step conversation (the group guide, reporting a problem, ...)."""

    name: ClassVar[str]
    # The flow ends by sending a request: say so when the user leaves before it is sent.
    sends_request: ClassVar[bool] = False
    # {(step, action): method name}; a step of None matches any step.
    ACTIONS: ClassVar[dict[tuple[str | None, str], str]] = {}

    # ---- what the dialogue calls ------------------------------------------------------
    def start(self, talk: Talk, arg: str) -> list[Reply]:
        raise NotImplementedError

    def start_with(self, talk: Talk, turn: Turn) -> list[Reply]:
        """Start with what the message already carries (a code, a place, a country)."""
        return self.start(talk, "start")

    def handle(self, talk: Talk, turn: Turn) -> list[Reply] | None:
        """A turn inside the flow; None lets the dialogue handle it normally."""
        return None

    def claim(self, talk: Talk, turn: Turn) -> list[Reply] | None:
        """A message this flow recognises whatever the intent (None: not this flow's)."""
        return None

    def resume_choice(self, talk: Talk) -> Choice | None:
        """The "Reprendre" button offered on a greeting while this flow is unfinished."""
        return None

    def resume(self, talk: Talk) -> list[Reply]:
        """"Reprendre": the step the user left, or the start."""
        if self.is_open(talk):
            again = self.ask_again(talk)
            if again is not None:
                return [again]
            return self.start(talk, "start")
        return self.start(talk, "resume")

    def ask_again(self, talk: Talk) -> Reply | None:
        """The reply that asks the current step again (None: the flow has no step open)."""
        return None

    def leaving_note(self, talk: Talk) -> str | None:
        """What to say when the user leaves the flow for the menu before the end."""
        if self.sends_request and self.is_open(talk):
            return talk._("Votre demande n'a pas été envoyée.")
        return None

    # ---- state -------------------------------------------------------------------------
    def is_open(self, talk: Talk) -> bool:
        return (talk.state.flow or {}).get("name") == self.name

    def _state(self, talk: Talk) -> dict:
        flow = talk.state.flow or {}
        return dict(flow) if flow.get("name") == self.name else {"name": self.name}

    def _go(self, talk: Talk, step: str, **values) -> None:
        talk.state.flow = {**self._state(talk), **values, "step": step}

    def cid(self, step: str) -> str:
        return f"flow:{self.name}:{step}"

    # ---- button presses by table ---------------------------------------------------------
    def action_of(self, turn: Turn) -> tuple[str, str]:
        """("cat", "accident") for `flow:report:cat:accident`."""
        action, _, arg = (turn.choice or "").removeprefix(f"flow:{self.name}:").partition(":")
        return action, arg

    def dispatch(self, talk: Talk, turn: Turn) -> list[Reply] | None:
        """Call the `ACTIONS` method for this press at this step; None if there is none."""
        action, arg = self.action_of(turn)
        step = self._state(talk).get("step")
        name = self.ACTIONS.get((step, action)) or self.ACTIONS.get((None, action))
        return getattr(self, name)(talk, arg) if name else None

    # ---- typed text at a step with buttons ---------------------------------------------
    def typed(self, talk: Talk, turn: Turn) -> list[Reply] | None:
        """Typed text where the step expects a button: never silently end the flow.

        An offered choice is selected by its title (any language, close spelling), its
        number or a yes/no word (`bot.core.choice_match`); "annuler" and the exit words
        leave; anything else keeps the draft, says what is expected and offers the buttons
        again."""
        from bot.core.choice_match import fold, match_choice, polarity
        from bot.core.privacy import CANCEL_WORDS, QUICK_EXIT_WORDS

        reply = self.ask_again(talk)
        if reply is None:
            return None
        text = "" if (turn.text or "").lstrip().startswith("/") else (turn.text or "")
        ids = [c.id for c in reply.choices]
        chosen = None
        if fold(text) in CANCEL_WORDS | QUICK_EXIT_WORDS:
            chosen = self.cid("cancel") if self.cid("cancel") in ids else "menu:main"
        elif text:
            chosen = match_choice(text, reply.choices)
        if chosen is None and turn.intent in ("affirm", "deny"):
            wanted = ("yes",) if turn.intent == "affirm" else ("no", "cancel")
            kinds = {c.id: polarity(c) for c in reply.choices}
            if any(kind == "yes" for kind in kinds.values()):
                chosen = next((cid for want in wanted for cid, kind in kinds.items()
                               if kind == want), None)
        if chosen is None and turn.intent == "violence_help" and self.name != "protection":
            return talk.flows.start("protection", talk)
        if chosen is not None:
            return talk.choose(chosen, Turn(intent="choose", choice=chosen, text=turn.text,
                                            metadata=turn.metadata))
        note = talk._("Je n'ai pas compris votre réponse.")
        if self.sends_request:
            note += " " + talk._("Votre demande n'est pas encore envoyée.")
        note += "\n" + talk._("Appuyez sur un bouton ou écrivez son numéro. Pour arrêter, "
                              "écrivez « annuler ».")
        reply.text = f"{note}\n\n{reply.text}"
        return [reply]

    # ---- helpers several flows use -----------------------------------------------------
    @staticmethod
    def is_cancel_text(turn: Turn) -> bool:
        from bot.core.privacy import CANCEL_WORDS

        return (turn.text or "").strip().casefold().rstrip(".! ") in CANCEL_WORDS

    def cancelled(self, talk: Talk) -> list[Reply]:
        """"Annuler": nothing is sent, a typed call-back number is forgotten."""
        talk.repo.clear_callback_draft(talk.sender_id)
        talk.end_flow()
        return [talk.reply(talk._("C'est annulé. Rien n'a été envoyé."))]

    def ask_country(self, talk: Talk, text: str) -> Reply:
        """A country question that stays inside the flow (the global `country:` would not)."""
        return talk.reply(text, [*(Choice(self.cid(f"country:{code}"), talk._(name))
                                   for code, name in COUNTRIES.items()),
                                 Choice(self.cid("cancel"), talk._("Annuler"))])

    @staticmethod
    def code_note(talk: Talk, code: str, due_at: datetime | None = None) -> str:
        """What a reference code is for, said when it is given."""
        note = talk._("Gardez ce code : il sert à suivre votre demande. Écrivez « statut "
                      "{code} » pour savoir où elle en est.").format(code=code)
        if due_at is not None:
            from bot.i18n import format_date

            note += "\n" + talk._("Un partenaire doit la traiter avant le {date}.").format(
                date=format_date(due_at.date(), talk.lang, talk.state.country))
        return note

    @staticmethod
    def category_label(talk: Talk, category: str) -> str:
        return talk._(MINER_CATEGORIES[category]) if category in MINER_CATEGORIES else category

    @staticmethod
    def clear_chat_help(talk: Talk) -> str:
        return talk._("Pour effacer cette discussion sur votre téléphone :\n"
                      "• WhatsApp : ouvrez la discussion, ⋮ › Plus › Effacer la discussion.\n"
                      "• Telegram : appui long sur la discussion › Supprimer.")
