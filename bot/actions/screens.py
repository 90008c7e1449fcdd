"""The screens of the dialogue: menus, answers and their "Suite", going back, onboarding
(language, country) and the places and countries a message names. A mixin of `Talk`."""

from __future__ import annotations

from bot.actions.state import COUNTRY_CODES, Turn
from bot.core.messages import Choice, Reply
from bot.facts import COUNTRIES
from bot.i18n import LANGUAGES

HISTORY_LIMIT = 10


class Screens:
    """What `Talk` shows outside flows (`self` is the `Talk`)."""

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
    def country_of_place(place: str | None) -> str | None:
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
            flow = self.flows.current(self)
            leaving = flow.leaving_note(self) if flow is not None else None
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
                   or self.country_of_place(turn.entities.get("place")) or self.state.country
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
        if "talk" in self.flows:
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
        return self.choose(previous, Turn(intent="choose", choice=previous))

    # ---- onboarding ----------------------------------------------------------------
    def ask_language(self) -> list[Reply]:
        choices = [Choice(f"lang:{code}", name) for code, name in LANGUAGES.items()]
        return [self.reply(self._("Choisissez votre langue :"), choices, nav=False)]

    def ask_country(self) -> list[Reply]:
        choices = [Choice(f"country:{code}", self._(name)) for code, name in COUNTRIES.items()]
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
        confirmation = self._("Pays choisi : {country}.").format(country=self._(COUNTRIES[code]))
        return self._resume(confirmation)

    def _resume(self, confirmation: str) -> list[Reply]:
        """After onboarding, answer what the user asked before it: never make them repeat."""
        pending, self.state.pending = self.state.pending, None
        if pending and pending.startswith("intent:"):
            replies = self.answer_intent(pending.removeprefix("intent:"), Turn(intent=None))
        elif pending:
            replies = self.choose(pending, Turn(intent="choose", choice=pending))
        else:
            replies = self.show_menu("main")
        if replies:
            replies[0].text = f"{confirmation}\n\n{replies[0].text}"
        return replies
