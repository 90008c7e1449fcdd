"""The dialogue: what the assistant says next, given what it understood and what it remembers.

Pure Python over the content files and the interface catalogues: no Rasa import, so it is
unit-tested directly and conversation-tested through the real Rasa server. Rasa gives us the
intent and entities (or a pressed choice) and keeps `State` in its tracker as slots
(`bot/actions/dispatch.py`).

Navigation rules that hold everywhere: "menu" or "0" returns to the main menu, "retour" goes
back one screen, language and country can be changed at any time, and a question asked before
the country is known is answered right after the user gives it.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from bot.content import Content, get_content
from bot.core.messages import Choice, Reply
from bot.i18n import LANGUAGES, translator

log = logging.getLogger(__name__)

COUNTRY_CODES = ("ML", "GN", "SN")
HISTORY_LIMIT = 10
MISUNDERSTOOD_LIMIT = 2
LANGUAGE_PROPOSAL_CONFIDENCE = 0.6
SUGGESTION_LIMIT = 3  # answers offered after a miss, or as the other topics of a long message
OFF_TOPIC_CONFIDENCE = 0.9  # out_of_scope this sure: no content suggestions
# Flows whose turns are private: nothing typed there is searched, kept or mixed with topics.
SENSITIVE_FLOWS = frozenset({"protection"})
# Intents whose answer is a navigation screen rather than content.
NAVIGATION = {
    "greet", "menu", "more", "go_back", "thanks", "help", "affirm", "deny", "change_language",
    "change_country", "talk_to_person", "report_problem", "check_status", "delete_data",
    "out_of_scope", "nlu_fallback", "inform", "choose", "share_location",
}
# Intents handled by a flow (registered by the modules that implement them).
FLOW_INTENTS: dict[str, str] = {}


@dataclass
class Turn:
    """What Rasa understood of one user message."""

    intent: str | None
    entities: dict[str, str] = field(default_factory=dict)
    choice: str | None = None
    text: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    # The classifier's best real intent and its confidence (also under a fallback).
    guess: str | None = None
    confidence: float | None = None


@dataclass
class State:
    """What the assistant remembers about a conversation (kept as Rasa slots)."""

    language: str | None = None
    country: str | None = None
    flow: dict[str, Any] | None = None
    misunderstood: int = 0
    history: list[str] = field(default_factory=list)
    pending: str | None = None  # what to show once the missing language/country is known
    last_answer: str | None = None
    progress: dict[str, Any] = field(default_factory=dict)  # guides: steps done, per guide
    language_offered: bool = False  # a detected language is proposed once, never imposed

    def to_slots(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_slots(cls, slots: dict[str, Any]) -> State:
        known = {k: v for k, v in slots.items() if k in cls.__dataclass_fields__}
        state = cls(**{k: v for k, v in known.items() if v is not None})
        state.misunderstood = int(state.misunderstood or 0)
        state.history = list(state.history or [])
        state.progress = dict(state.progress or {})
        return state


class Flow(Protocol):
    """A multi-step conversation (the group guide, reporting a problem, ...)."""

    name: str

    def start(self, talk: Talk, arg: str) -> list[Reply]: ...

    def handle(self, talk: Talk, turn: Turn) -> list[Reply] | None:
        """Handle a turn inside the flow; None lets the dialogue handle it normally."""


FLOWS: dict[str, Flow] = {}


class StepFlow:
    """Base for flows that keep their current step and values in `State.flow`."""

    name: str

    def _state(self, talk: Talk) -> dict:
        flow = talk.state.flow or {}
        return dict(flow) if flow.get("name") == self.name else {"name": self.name}

    def _go(self, talk: Talk, step: str, **values) -> None:
        talk.state.flow = {**self._state(talk), **values, "step": step}

    # ---- typed text at a step with buttons (shared by every flow) -------------------
    sends_request = False  # the flow ends by sending a request: say so when it was not sent

    def ask_again(self, talk: Talk) -> Reply | None:
        """The reply that asks the current step again (None: the flow has no step open)."""
        return None

    def leaving_note(self, talk: Talk) -> str | None:
        """What to say when the user leaves the flow for the menu before the end."""
        if self.sends_request and (talk.state.flow or {}).get("name") == self.name:
            return talk._("Votre demande n'a pas été envoyée.")
        return None

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
            chosen = f"flow:{self.name}:cancel" if f"flow:{self.name}:cancel" in ids else "menu:main"
        elif text:
            chosen = match_choice(text, reply.choices)
        if chosen is None and turn.intent in ("affirm", "deny"):
            wanted = ("yes",) if turn.intent == "affirm" else ("no", "cancel")
            kinds = {c.id: polarity(c) for c in reply.choices}
            if any(kind == "yes" for kind in kinds.values()):
                chosen = next((cid for want in wanted for cid, kind in kinds.items()
                               if kind == want), None)
        if chosen is None and turn.intent == "violence_help" and self.name != "protection":
            protection = FLOWS.get("protection")
            if protection is not None:
                return protection.start(talk, "start")
        if chosen is not None:
            return talk._choose(chosen, Turn(intent="choose", choice=chosen, text=turn.text,
                                             metadata=turn.metadata))
        note = talk._("Je n'ai pas compris votre réponse.")
        if self.sends_request:
            note += " " + talk._("Votre demande n'est pas encore envoyée.")
        note += "\n" + talk._("Appuyez sur un bouton ou écrivez son numéro. Pour arrêter, "
                              "écrivez « annuler ».")
        reply.text = f"{note}\n\n{reply.text}"
        return [reply]


def register_flow(flow: Flow, *intents: str) -> Flow:
    FLOWS[flow.name] = flow
    for intent in intents:
        FLOW_INTENTS[intent] = flow.name
    return flow


class Talk:
    """One turn of the dialogue: the state, the content, and helpers to build replies."""

    def __init__(self, state: State, content: Content | None = None, *,
                 sender_id: str | None = None):
        self.state = state
        self.content = content or get_content()
        # The Rasa sender id, which is our pseudonymous contact id (flows that store requests).
        self.sender_id = sender_id
        self.metadata: dict[str, Any] = {}  # the gateway's metadata of this turn (channel...)

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
        from bot.actions.flows.disclosure import screen

        disclosure = screen(self, turn)
        if disclosure:
            return disclosure
        proposal = self._propose_language(turn)
        if proposal:
            return proposal
        if turn.intent == "choose" and turn.choice:
            return self._choose(turn.choice, turn)
        flow = FLOWS.get((self.state.flow or {}).get("name", ""))
        # Back after a pause (a new Rasa session): the message is read as new, the flow kept.
        if flow is not None and not (turn.metadata or {}).get("returning"):
            replies = flow.handle(self, turn)
            if replies is not None:
                return replies
        return self._offer_resume(self._also(self._intent(turn), turn), turn)

    def _offer_resume(self, replies: list[Reply], turn: Turn) -> list[Reply]:
        """On a greeting, or the first message after a pause, offer what was left
        unfinished ("Reprendre votre guide, étape 5 sur 7"), first."""
        if (not replies or any(r.sensitive for r in replies)
                or not (turn.intent == "greet" or (turn.metadata or {}).get("returning"))):
            return replies
        offered = {c.id for r in replies for c in r.choices}
        choices = []
        for flow in FLOWS.values():
            resume = getattr(flow, "resume_choice", None)
            choice = resume(self) if resume else None
            if choice is not None and choice.id not in offered:
                choices.append(choice)
        replies[-1].choices[:0] = choices
        return replies

    def _propose_language(self, turn: Turn) -> list[Reply] | None:
        """On a first typed message in a local language, offer to continue in it.

        The language is state: it is proposed once and changes only when the user says so.
        Help for violence is never delayed by the question.
        """
        if (self.state.language or self.state.language_offered or not turn.text
                or turn.intent in ("choose", "violence_help") or turn.intent in FLOW_INTENTS
                or self.state.flow):
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
        # The gateway's copy of the contact's language and country survives a lost tracker.
        meta = turn.metadata or {}
        if not self.state.language and meta.get("language") in LANGUAGES:
            self.state.language = meta["language"]
        if not self.state.country and meta.get("country") in COUNTRY_CODES:
            self.state.country = meta["country"]

    # ---- choices -----------------------------------------------------------------
    def _choose(self, choice: str, turn: Turn) -> list[Reply]:
        kind, _, arg = choice.partition(":")
        if kind == "menu":
            return self.show_menu(arg or "main")
        if kind == "answer":
            return self._choose_answer(arg)
        if kind == "more":
            return self.show_more(arg)
        if kind == "sources":
            from bot.actions.sources import show_sources

            return show_sources(self, arg)
        if kind == "lang":
            return self.set_language(arg)
        if kind == "country":
            return self.set_country(arg)
        if kind == "back":
            return self.go_back()
        if kind == "flow":
            name, _, step = arg.partition(":")
            flow = FLOWS.get(name)
            if flow is None:
                return self.misunderstood()
            if step in ("", "start"):
                self.state.misunderstood = 0
                return flow.start(self, step)
            if step == "resume" and hasattr(flow, "resume"):
                return flow.resume(self)
            if step == "resume" and (self.state.flow or {}).get("name") == name:
                again = getattr(flow, "ask_again", lambda talk: None)(self)
                return [again] if again is not None else flow.start(self, "start")
            if step == "resume":
                return flow.start(self, "resume")
            if (self.state.flow or {}).get("name") != name:
                # A button from an old message of a flow that has ended: start it afresh.
                return flow.start(self, "start")
            replies = flow.handle(self, Turn(intent="choose", choice=choice, text=turn.text))
            return replies if replies is not None else self.show_menu("main")
        log.info("dialogue: unknown choice namespace %r", kind)
        return self.misunderstood()

    # ---- intents ---------------------------------------------------------------
    def start_flow(self, flow: Flow, turn: Turn) -> list[Reply]:
        """Start a flow with what the message already carries (a code, a place, a country)."""
        start_with = getattr(flow, "start_with", None)
        return start_with(self, turn) if start_with else flow.start(self, "start")

    def _claimed(self, turn: Turn) -> list[Reply] | None:
        """A message a flow recognises whatever the intent ("statut ML-7KQ4XR")."""
        for flow in FLOWS.values():
            claim = getattr(flow, "claim", None)
            replies = claim(self, turn) if claim else None
            if replies is not None:
                return replies
        return None

    def _intent(self, turn: Turn) -> list[Reply]:
        claimed = self._claimed(turn)
        if claimed is not None:
            return claimed
        intent = turn.intent or "nlu_fallback"
        if intent in ("nlu_fallback", "out_of_scope"):
            return self.misunderstood(turn)
        self.state.misunderstood = 0
        if intent in FLOW_INTENTS:
            return self.start_flow(FLOWS[FLOW_INTENTS[intent]], turn)
        if intent == "greet":
            self.state.history = []
            return self.show_menu("main", greeting=True)
        if intent == "menu":
            return self.show_menu("main")
        if intent == "go_back":
            return self.go_back()
        if intent == "more":
            if self.state.last_answer:
                return self.show_more(self.state.last_answer)
            return self.show_menu("main")
        if intent == "thanks":
            return [self.reply(self._("Merci ! Écrivez « menu » quand vous voulez."))]
        if intent == "help":
            return self.show_menu("main", text=self._(
                "Je réponds aux questions sur les coopératives, les autorisations, l'orpaillage "
                "sans mercure et les plaintes. Choisissez un thème ou posez votre question :"))
        if intent == "change_language":
            # "parle-moi en bambara" names the language: no need to ask which one.
            if turn.entities.get("language") in LANGUAGES:
                return self.set_language(turn.entities["language"])
            return self.ask_language()
        if intent == "change_country":
            if turn.entities.get("country") in COUNTRY_CODES:
                return self.set_country(turn.entities["country"])
            return self.ask_country()
        if intent == "inform":
            return self._inform(turn)
        if intent == "share_location":
            return self._location(turn)
        if intent in ("affirm", "deny"):
            return self.show_menu("main")
        if self.content.answers_for_intent(intent):
            return self.answer_intent(intent, turn)
        log.info("dialogue: no content for intent %s", intent)
        return self.misunderstood()

    def _inform(self, turn: Turn) -> list[Reply]:
        language = turn.entities.get("language")
        country = turn.entities.get("country") or self._country_of_place(turn.entities.get("place"))
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

    @staticmethod
    def country_in_text(text: str | None) -> str | None:
        """The one country a message names, by name or by its places ("à Kéniéba")."""
        if not text or text.lstrip().startswith("/"):
            return None
        from bot.core.choice_match import COUNTRY_NAMES, fold

        words = f" {fold(text)} "
        named = {code for code, names in COUNTRY_NAMES.items()
                 if any(len(n) > 2 and f" {n} " in words for n in names)}
        try:
            from bot.core.places import places_in_text

            named |= {p.country for p in places_in_text(text)}
        except (ImportError, OSError, ValueError):  # pragma: no cover - no gazetteer
            pass
        return named.pop() if len(named) == 1 else None

    @staticmethod
    def _country_of_place(place: str | None) -> str | None:
        if not place:
            return None
        try:
            from bot.core.places import resolve_place
        except ImportError:  # pragma: no cover - places come with the NLU data
            return None
        found = resolve_place(place)
        return getattr(found, "country", None) if found else None

    # ---- screens -----------------------------------------------------------------
    def _visit(self, screen: str) -> None:
        if not self.state.history or self.state.history[-1] != screen:
            self.state.history = (self.state.history + [screen])[-HISTORY_LIMIT:]

    def show_menu(self, menu_id: str, *, greeting: bool = False,
                  text: str | None = None) -> list[Reply]:
        try:
            menu = self.content.menu(menu_id)
        except KeyError:
            return self.show_menu("main")
        leaving = None
        if menu_id == "main":
            # Leaving a flow before its end: say that its request was not sent.
            flow = FLOWS.get((self.state.flow or {}).get("name", ""))
            leaving = getattr(flow, "leaving_note", lambda talk: None)(self)
            self.end_flow()
            self.state.history = []
        if menu.needs_country and not self.state.country:
            self.state.pending = f"menu:{menu_id}"
            return self.ask_country()
        self._visit(f"menu:{menu_id}")
        choices = [Choice(item.choice_id, item.title(self.lang))
                   for item in menu.items_for(self.state.country)]
        if greeting:
            text = self._("Bonjour ! Je suis l'assistant des orpailleurs. Choisissez un thème :")
        text = text or menu.text(self.lang)
        if leaving:
            text = f"{leaving}\n\n{text}"
        return [self.reply(text, choices, nav=menu_id != "main")]

    def answer_intent(self, intent: str, turn: Turn) -> list[Reply]:
        country = (turn.entities.get("country")
                   or self._country_of_place(turn.entities.get("place")) or self.state.country
                   or self.country_in_text(turn.text))
        if country in COUNTRY_CODES and country != self.state.country:
            self.state.country = country
        if self.content.intent_needs_country(intent) and not self.state.country:
            answer = self.content.answer_for(intent, None)
            if answer is None:
                self.state.pending = f"intent:{intent}"
                return self.ask_country()
        answer = self.content.answer_for(intent, self.state.country)
        if answer is None:
            return self.misunderstood()
        return self.show_answer(answer.id)

    def show_answer(self, answer_id: str) -> list[Reply]:
        try:
            answer = self.content.answer(answer_id)
        except KeyError:
            return self.misunderstood()
        # The same answer twice in a row: say so and offer what else can help.
        repeated = (self.state.last_answer == answer.id
                    and self.state.history[-1:] == [f"answer:{answer.id}"])
        self.state.last_answer = answer.id
        self._visit(f"answer:{answer.id}")
        if repeated:
            return self._answer_again(answer)
        choices = []
        if answer.text(self.lang).more:
            choices.append(Choice(f"more:{answer.id}", self._("Suite")))
        choices.extend(self._related(answer.related, limit=2))
        if answer.sources:  # "where does this come from?" (issue 16)
            choices.append(Choice(f"sources:{answer.id}", self._("Sources")))
        return [self.reply(answer.message(self.lang), choices)]

    def _answer_again(self, answer) -> list[Reply]:
        choices = []
        if answer.text(self.lang).more:
            choices.append(Choice(f"more:{answer.id}", self._("Suite")))
        choices.extend(self._related(answer.related, limit=3))
        if "talk" in FLOWS:
            choices.append(Choice("flow:talk:start", self._("Parler à une personne")))
        text = answer.message(self.lang) + "\n\n" + self._(
            "C'est la même réponse que tout à l'heure. Si elle ne vous aide pas, choisissez "
            "ci-dessous ou parlez à une personne.")
        return [self.reply(text, choices)]

    def show_more(self, answer_id: str) -> list[Reply]:
        try:
            answer = self.content.answer(answer_id)
        except KeyError:
            return self.show_menu("main")
        more = answer.text(self.lang).more
        if not more:
            return self.show_answer(answer_id)
        self.state.last_answer = answer.id
        return [self.reply(more, self._related(answer.related, limit=3))]

    def _related(self, choice_ids: tuple[str, ...] | list[str], limit: int) -> list[Choice]:
        choices = []
        for choice_id in choice_ids:
            try:
                choices.append(Choice(choice_id, self.content.choice_title(choice_id, self.lang)))
            except KeyError:
                continue
            if len(choices) == limit:
                break
        return choices

    def go_back(self) -> list[Reply]:
        history = self.state.history
        if history:
            history.pop()  # the screen the user is on
        previous = history.pop() if history else "menu:main"
        self.state.history = history
        return self._choose(previous, Turn(intent="choose", choice=previous))

    # ---- onboarding ----------------------------------------------------------------
    def ask_language(self) -> list[Reply]:
        choices = [Choice(f"lang:{code}", name) for code, name in LANGUAGES.items()]
        return [self.reply(self._("Choisissez votre langue :"), choices, nav=False)]

    def ask_country(self) -> list[Reply]:
        choices = [Choice("country:ML", self._("Mali")), Choice("country:GN", self._("Guinée")),
                   Choice("country:SN", self._("Sénégal"))]
        return [self.reply(self._("Dans quel pays travaillez-vous ?"), choices, nav=False)]

    def set_language(self, code: str) -> list[Reply]:
        if code not in LANGUAGES:
            return self.ask_language()
        self.state.language = code
        confirmation = self._("Langue changée : {language}.").format(language=LANGUAGES[code])
        return self._resume(confirmation)

    def set_country(self, code: str) -> list[Reply]:
        if code not in COUNTRY_CODES:
            return self.ask_country()
        self.state.country = code
        names = {"ML": self._("Mali"), "GN": self._("Guinée"), "SN": self._("Sénégal")}
        confirmation = self._("Pays choisi : {country}.").format(country=names[code])
        return self._resume(confirmation)

    def _resume(self, confirmation: str) -> list[Reply]:
        """After onboarding, answer what the user asked before it: never make them repeat."""
        pending, self.state.pending = self.state.pending, None
        if pending and pending.startswith("intent:"):
            replies = self.answer_intent(pending.removeprefix("intent:"), Turn(intent=None))
        elif pending:
            replies = self._choose(pending, Turn(intent="choose", choice=pending))
        else:
            replies = self.show_menu("main")
        if replies:
            replies[0].text = f"{confirmation}\n\n{replies[0].text}"
        return replies

    # ---- misunderstanding ----------------------------------------------------------
    def misunderstood(self, turn: Turn | None = None) -> list[Reply]:
        """No dead end: offer the closest answers (content search), a person and the menu.

        `turn` is the typed message not understood; without it (an unknown button), or in a
        sensitive flow, nothing is searched nor kept. Every miss of a typed message is kept
        for the learning loop (`bot.store.misses`)."""
        self.state.misunderstood += 1
        searchable = self._searchable(turn)
        # A message the classifier is sure is off-topic ("je veux acheter une moto") is not
        # matched to mining answers by its stray words; it is still kept.
        off_topic = (turn is not None and turn.intent == "out_of_scope"
                     and (turn.confidence or 0.0) >= OFF_TOPIC_CONFIDENCE)
        suggestions = self._suggest(turn.text) if searchable and not off_topic else []
        if searchable:
            self._keep_miss(turn, [s.answer_id for s in suggestions])
        if suggestions:
            choices = [Choice(f"answer:{s.answer_id}", self.content.answer(s.answer_id)
                              .title(self.lang)) for s in suggestions]
            if "talk" in FLOWS:
                choices.append(Choice("flow:talk:start", self._("Parler à une personne")))
            return [self.reply(self._("Je n'ai pas bien compris. Vouliez-vous parler de… ?"),
                               choices)]
        if self.state.misunderstood >= MISUNDERSTOOD_LIMIT:
            choices = []
            if "talk" in FLOWS:
                choices.append(Choice("flow:talk:start", self._("Parler à une personne")))
            return [self.reply(self._("Je ne comprends toujours pas. Voulez-vous parler à une "
                                      "personne ?"), choices)]
        menu = self.content.menu("main")
        choices = [Choice(item.choice_id, item.title(self.lang))
                   for item in menu.items_for(self.state.country)]
        return [self.reply(self._("Je n'ai pas bien compris. Choisissez dans le menu ou écrivez "
                                  "votre question autrement."), choices, nav=False)]

    def _searchable(self, turn: Turn | None) -> bool:
        """A typed message that may be searched and kept: never a payload, never private or
        in a sensitive flow (the protection flow), never one the gateway marked as possibly
        a disclosure."""
        if turn is None or not (turn.text or "").strip() or turn.text.lstrip().startswith("/"):
            return False
        if (self.state.flow or {}).get("name") in SENSITIVE_FLOWS:
            return False
        meta = self.metadata or {}
        return not (meta.get("private") or meta.get("sensitive") or meta.get("violence_segment"))

    def _suggest(self, text: str) -> list:
        from bot.content.search import suggest

        try:
            return suggest(text, self.lang, self.state.country, limit=SUGGESTION_LIMIT,
                           content=self.content)
        except Exception:  # the search is a help, never a reason to fail the turn
            log.exception("dialogue: content search failed")
            return []

    def _keep_miss(self, turn: Turn, suggested: list[str]) -> None:
        """Keep the miss for the learning loop (needs the contact id, for erasure)."""
        if not self.sender_id:
            return
        from bot.store import misses
        from bot.store import requests as store

        guess = turn.guess or (turn.intent if turn.intent not in (None, "nlu_fallback") else None)
        try:
            with store.database().session() as session:
                misses.record_miss(
                    session, contact_id=self.sender_id, text=turn.text or "",
                    channel=self.metadata.get("channel"), language=self.lang,
                    country=self.state.country, intent=guess, confidence=turn.confidence,
                    suggested=suggested)
        except Exception:  # never lose the user's turn over the learning loop
            log.exception("dialogue: could not keep a misunderstood message")

    def _choose_answer(self, answer_id: str) -> list[Reply]:
        """A pressed answer. After a miss, note which suggestion it was; a country's rule
        with the country unknown asks the country first (then shows the right one)."""
        if self.state.misunderstood and self.sender_id:
            from bot.store import misses
            from bot.store import requests as store

            try:
                with store.database().session() as session:
                    misses.record_choice(session, self.sender_id, answer_id)
            except Exception:
                log.exception("dialogue: could not note the chosen suggestion")
        self.state.misunderstood = 0
        answer = self.content.answers.get(answer_id)
        if (answer is not None and not self.state.country and answer.intents
                and not answer.for_all_countries):
            return self.answer_intent(answer.intents[0], Turn(intent=None))
        return self.show_answer(answer_id)

    def _also(self, replies: list[Reply], turn: Turn) -> list[Reply]:
        """A long message answered by its strongest question: offer the other topics it
        raised (`other_intents`, names only, from the gateway), never in a sensitive flow."""
        others = (turn.metadata or {}).get("other_intents")
        if (not isinstance(others, list) or not others or self.state.pending
                or any(r.sensitive for r in replies)
                or (self.state.flow or {}).get("name") in SENSITIVE_FLOWS):
            return replies
        shown = {self.state.last_answer} if self.state.last_answer else set()
        choices: list[Choice] = []
        for intent in others:
            if not isinstance(intent, str) or intent == turn.intent or intent in NAVIGATION:
                continue
            choice = self._topic_choice(intent)
            if choice is None or choice.id in shown or choice.id.removeprefix("answer:") in shown:
                continue
            shown.add(choice.id)
            choices.append(choice)
            if len(choices) == SUGGESTION_LIMIT:
                break
        if choices:
            replies.append(self.reply(self._("Vous avez aussi parlé de :"), choices))
        return replies

    def _topic_choice(self, intent: str) -> Choice | None:
        """A button for an intent: its flow, or its answer for the contact's country (any
        country's when unknown: pressing it asks the country first)."""
        if intent in FLOW_INTENTS:
            choice_id = f"flow:{FLOW_INTENTS[intent]}:start"
            try:
                return Choice(choice_id, self.content.choice_title(choice_id, self.lang))
            except KeyError:
                return None
        answer = self.content.answer_for(intent, self.state.country)
        if answer is None and not self.state.country:
            candidates = self.content.answers_for_intent(intent)
            answer = candidates[0] if candidates else None
        if answer is None:
            return None
        return Choice(f"answer:{answer.id}", answer.title(self.lang))
