"""The dialogue: what the assistant says next, given what it understood and what it remembers.

Pure Python over the content files and the interface catalogues: no Rasa import, so it is
unit-tested directly and conversation-tested through the real Rasa server. The caller gives
the intent and entities (or a pressed choice) as a `Turn`, and keeps `State` between turns.

One turn goes: the disclosure safety net, the language proposal, then a pressed choice by its
namespace (`CHOICES`), the flow the conversation is in (`bot/actions/flows/`), or the intent
(`INTENTS`, the flows' intents, the content's answers). Data is reached through `repo` only
(`bot.store.repository`), and flows through `flows` (`bot.actions.flows.build_registry`).

Navigation rules that hold everywhere: "menu" or "0" returns to the main menu, "retour" goes
back one screen, language and country can be changed at any time, and a question asked before
the country is known is answered right after the user gives it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, ClassVar

from bot.actions.flows import REGISTRY, Flow, FlowRegistry
from bot.actions.flows.disclosure import DisclosureOffer
from bot.actions.screens import Screens
from bot.actions.state import COUNTRY_CODES, State, Turn
from bot.actions.understanding import Understanding
from bot.content import Content, get_content
from bot.core.messages import Choice, Reply
from bot.i18n import LANGUAGES, translator
from bot.store.repository import Repository, default_repository

__all__ = ["COUNTRY_CODES", "Flow", "State", "Talk", "Turn"]

log = logging.getLogger(__name__)

LANGUAGE_PROPOSAL_CONFIDENCE = 0.6

ChoiceHandler = Callable[["Talk", str, Turn], "list[Reply]"]
IntentHandler = Callable[["Talk", Turn], "list[Reply]"]


class Talk(Screens, Understanding):
    """One turn of the dialogue: the state, the content, the data, and helpers for replies."""

    def __init__(self, state: State, content: Content | None = None, *,
                 sender_id: str | None = None, repo: Repository | None = None,
                 flows: FlowRegistry | None = None):
        self.state = state
        self.content = content or get_content()
        # The pseudonymous contact id (flows that store requests).
        self.sender_id = sender_id
        self._repo = repo
        self.flows = flows or REGISTRY
        self.metadata: dict[str, Any] = {}  # the caller's metadata of this turn (channel...)

    @property
    def repo(self) -> Repository:
        """The data the dialogue reaches (by default the app's database, built on first use)."""
        if self._repo is None:
            self._repo = default_repository()
        return self._repo

    # ---- helpers used by flows -------------------------------------------------
    @property
    def lang(self) -> str:
        return self.state.language or "fr"

    def _(self, message: str) -> str:
        return translator(self.lang).gettext(message)

    def reply(self, text: str, choices: list[Choice] | None = None, *,
              sensitive: bool = False, nav: bool = True) -> Reply:
        choices = list(choices or [])
        if nav and not any(c.id == "menu:main" for c in choices):
            choices.append(Choice("menu:main", self._("Menu")))
        return Reply(text=text, choices=choices, lang=self.lang, country=self.state.country,
                     sensitive=sensitive)

    def end_flow(self) -> None:
        self.state.flow = None

    # ---- entry point -----------------------------------------------------------
    def respond(self, turn: Turn) -> list[Reply]:
        self.metadata = dict(turn.metadata or {})
        self._adopt_metadata(turn)
        # The disclosure safety net reads every typed message first (bot/actions/flows/
        # disclosure.py): help for violence is never delayed or lost to a misread intent.
        net = self.flows.get("disclosure")
        disclosure = net.screen(self, turn) if isinstance(net, DisclosureOffer) else None
        if disclosure:
            return disclosure
        proposal = self._propose_language(turn)
        if proposal:
            return proposal
        if turn.intent == "choose" and turn.choice:
            return self.choose(turn.choice, turn)
        flow = self.flows.current(self)
        # Back after a pause (a new session): the message is read as new, the flow kept.
        if flow is not None and not (turn.metadata or {}).get("returning"):
            replies = flow.handle(self, turn)
            if replies is not None:
                return replies
        return self._offer_resume(self._also(self.on_intent(turn), turn), turn)

    def _offer_resume(self, replies: list[Reply], turn: Turn) -> list[Reply]:
        """On a greeting, or the first message after a pause, offer what was left
        unfinished ("Reprendre votre guide, étape 5 sur 7"), first."""
        if (not replies or any(r.sensitive for r in replies)
                or not (turn.intent == "greet" or (turn.metadata or {}).get("returning"))):
            return replies
        offered = {c.id for r in replies for c in r.choices}
        choices = [choice for flow in self.flows
                   if (choice := flow.resume_choice(self)) is not None
                   and choice.id not in offered]
        replies[-1].choices[:0] = choices
        return replies

    def _propose_language(self, turn: Turn) -> list[Reply] | None:
        """On a first typed message in a local language, offer to continue in it.

        The language is state: it is proposed once and changes only when the user says so.
        Help for violence is never delayed by the question.
        """
        if (self.state.language or self.state.language_offered or not turn.text
                or turn.intent in ("choose", "violence_help")
                or self.flows.for_intent(turn.intent) is not None or self.state.flow):
            return None
        self.state.language_offered = True
        from bot.core.langid import guess_language

        code, confidence = guess_language(turn.text)
        if code == "fr" or code not in LANGUAGES or confidence < LANGUAGE_PROPOSAL_CONFIDENCE:
            return None
        country = turn.entities.get("country")
        if country in COUNTRY_CODES:
            self.state.country = country
        if turn.intent and self.content.answers_for_intent(turn.intent):
            self.state.pending = f"intent:{turn.intent}"  # answered once the language is set
        t = translator(code)
        text = t.gettext("Voulez-vous continuer en {language} ?").format(
            language=LANGUAGES[code])
        return [Reply(text=text, choices=[Choice(f"lang:{code}", LANGUAGES[code]),
                                          Choice("lang:fr", LANGUAGES["fr"])],
                      lang=None, country=self.state.country)]

    def _adopt_metadata(self, turn: Turn) -> None:
        # The gateway's copy of the contact's language and country survives a lost state.
        meta = turn.metadata or {}
        if not self.state.language and meta.get("language") in LANGUAGES:
            self.state.language = meta["language"]
        if not self.state.country and meta.get("country") in COUNTRY_CODES:
            self.state.country = meta["country"]

    # ---- choices: `namespace:arg` -------------------------------------------------
    def choose(self, choice: str, turn: Turn) -> list[Reply]:
        kind, _, arg = choice.partition(":")
        handler = self.CHOICES.get(kind)
        if handler is None:
            log.info("dialogue: unknown choice namespace %r", kind)
            return self.misunderstood()
        return handler(self, arg, turn)

    def _sources(self, answer_id: str) -> list[Reply]:
        from bot.actions.sources import show_sources

        return show_sources(self, answer_id)

    def _flow_choice(self, arg: str, turn: Turn) -> list[Reply]:
        """`flow:<name>:<step>`: start, resume, or a button of the flow in progress."""
        name, _, step = arg.partition(":")
        flow = self.flows.get(name)
        if flow is None:
            return self.misunderstood()
        if step in ("", "start"):
            self.state.misunderstood = 0
            return flow.start(self, step)
        if step == "resume":
            return flow.resume(self)
        if not flow.is_open(self):
            # A button from an old message of a flow that has ended: start it afresh.
            return flow.start(self, "start")
        replies = flow.handle(self, Turn(intent="choose", choice=f"flow:{arg}", text=turn.text))
        return replies if replies is not None else self.show_menu("main")

    CHOICES: ClassVar[dict[str, ChoiceHandler]] = {
        "menu": lambda talk, arg, turn: talk.show_menu(arg or "main"),
        "answer": lambda talk, arg, turn: talk._choose_answer(arg),
        "more": lambda talk, arg, turn: talk.show_more(arg),
        "sources": lambda talk, arg, turn: talk._sources(arg),
        "lang": lambda talk, arg, turn: talk.set_language(arg),
        "country": lambda talk, arg, turn: talk.set_country(arg),
        "back": lambda talk, arg, turn: talk.go_back(),
        "flow": _flow_choice,
    }

    # ---- intents ---------------------------------------------------------------
    def start_flow(self, flow: Flow, turn: Turn) -> list[Reply]:
        """Start a flow with what the message already carries (a code, a place, a country)."""
        return flow.start_with(self, turn)

    def _claimed(self, turn: Turn) -> list[Reply] | None:
        """A message a flow recognises whatever the intent ("statut ML-7KQ4XR")."""
        for flow in self.flows:
            replies = flow.claim(self, turn)
            if replies is not None:
                return replies
        return None

    def on_intent(self, turn: Turn) -> list[Reply]:
        """The replies to an understood (or not understood) message outside a flow."""
        claimed = self._claimed(turn)
        if claimed is not None:
            return claimed
        intent = turn.intent or "nlu_fallback"
        if intent in ("nlu_fallback", "out_of_scope"):
            return self.misunderstood(turn)
        self.state.misunderstood = 0
        flow = self.flows.for_intent(intent)
        if flow is not None:
            return self.start_flow(flow, turn)
        handler = self.INTENTS.get(intent)
        if handler is not None:
            return handler(self, turn)
        if self.content.answers_for_intent(intent):
            return self.answer_intent(intent, turn)
        log.info("dialogue: no content for intent %s", intent)
        return self.misunderstood()

    def _greet(self, turn: Turn) -> list[Reply]:
        self.state.history = []
        return self.show_menu("main", greeting=True)

    def _more(self, turn: Turn) -> list[Reply]:
        if self.state.last_answer:
            return self.show_more(self.state.last_answer)
        return self.show_menu("main")

    def _help(self, turn: Turn) -> list[Reply]:
        return self.show_menu("main", text=self._(
            "Je réponds aux questions sur les coopératives, les autorisations, l'orpaillage "
            "sans mercure et les plaintes. Choisissez un thème ou posez votre question :"))

    def _change_language(self, turn: Turn) -> list[Reply]:
        # "parle-moi en bambara" names the language: no need to ask which one.
        if turn.entities.get("language") in LANGUAGES:
            return self.set_language(turn.entities["language"])
        return self.ask_language()

    def _change_country(self, turn: Turn) -> list[Reply]:
        if turn.entities.get("country") in COUNTRY_CODES:
            return self.set_country(turn.entities["country"])
        return self.ask_country()

    def _inform(self, turn: Turn) -> list[Reply]:
        language = turn.entities.get("language")
        country = turn.entities.get("country") or self.country_of_place(turn.entities.get("place"))
        if language in LANGUAGES:
            return self.set_language(language)
        if country in COUNTRY_CODES:
            return self.set_country(country)
        return self.misunderstood()

    def _location(self, turn: Turn) -> list[Reply]:
        """A shared location outside a flow: note the country of the nearest known place."""
        from bot.core.places import nearest_place

        try:
            place = nearest_place(float(turn.entities["latitude"]),
                                  float(turn.entities["longitude"]))
        except (KeyError, ValueError):
            place = None
        if place is None or place.country not in COUNTRY_CODES:
            return self.show_menu("main")
        self.state.country = place.country
        text = self._("Position reçue : près de {place}.").format(place=place.name)
        return self._resume(text)

    INTENTS: ClassVar[dict[str, IntentHandler]] = {
        "greet": _greet,
        "menu": lambda talk, turn: talk.show_menu("main"),
        "go_back": lambda talk, turn: talk.go_back(),
        "more": _more,
        "thanks": lambda talk, turn: [talk.reply(talk._(
            "Merci ! Écrivez « menu » quand vous voulez."))],
        "help": _help,
        "change_language": _change_language,
        "change_country": _change_country,
        "inform": _inform,
        "share_location": _location,
        "affirm": lambda talk, turn: talk.show_menu("main"),
        "deny": lambda talk, turn: talk.show_menu("main"),
    }
