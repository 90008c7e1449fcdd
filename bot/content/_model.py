"""Read-only objects built from the content files (see docs/CONTENT.md for the file format)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ._schema import CAVEAT_PREFIX, COUNTRIES, DEFAULT_LANGUAGE


class LocalStr(str):
    """A string in one language, carrying that language and its review status.

    It is a plain ``str`` for every other purpose, so ``menu.text("bm")`` can be sent as is.
    ``lang`` says which language the text really is in (French when the asked one is missing).
    """

    lang: str
    status: str

    def __new__(cls, value: str, lang: str = DEFAULT_LANGUAGE, status: str = "draft") -> LocalStr:
        obj = super().__new__(cls, value)
        obj.lang = lang
        obj.status = status
        return obj

    @property
    def short(self) -> str:  # same reading as LocalText, for code that treats both alike
        return str(self)


def _pick(texts: Mapping[str, LocalStr], lang: str | None) -> LocalStr:
    """The text in ``lang``, else French (French is required by the check)."""
    if lang and lang in texts:
        return texts[lang]
    return texts[DEFAULT_LANGUAGE]


@dataclass(frozen=True)
class LocalText:
    """An answer's text in one language: ``short`` fits one phone screen, ``more`` continues."""

    short: str
    more: str | None
    status: str
    lang: str


@dataclass(frozen=True)
class Source:
    title: str
    link: str | None
    document: str | None
    read: str  # ISO date the fact was read


@dataclass(frozen=True)
class Review:
    status: str             # draft | to_verify | reviewed
    organisation: str       # the partner who reviews (or should review) this item
    date: str | None        # ISO date of the review; None until a partner has reviewed it


@dataclass(frozen=True)
class Contact:
    """A service number shown in an answer; ``last_checked`` is None until a partner checks it."""

    name: str
    number: str
    last_checked: str | None


@dataclass(frozen=True)
class Answer:
    id: str
    topic: str
    intents: tuple[str, ...]
    countries: frozenset[str]
    titles: Mapping[str, LocalStr]
    texts: Mapping[str, LocalText]
    sources: tuple[Source, ...]
    review: Review
    related: tuple[str, ...]
    caveat: str | None = None
    contacts: tuple[Contact, ...] = ()
    file: str = ""

    def text(self, lang: str | None = None) -> LocalText:
        """The text in ``lang``, falling back to French (``.lang`` says which one it is)."""
        if lang and lang in self.texts:
            return self.texts[lang]
        return self.texts[DEFAULT_LANGUAGE]

    def title(self, lang: str | None = None) -> LocalStr:
        """Button title (at most 20 characters), falling back to French."""
        return _pick(self.titles, lang)

    def message(self, lang: str | None = None) -> str:
        """The short text as the user must read it: with the caveat when there is one."""
        body = self.text(lang).short
        return body + CAVEAT_PREFIX + self.caveat if self.caveat else body

    @property
    def to_verify(self) -> bool:
        return self.review.status == "to_verify"

    @property
    def for_all_countries(self) -> bool:
        return self.countries == frozenset(COUNTRIES)

    def applies_to(self, country: str) -> bool:
        return country in self.countries


@dataclass(frozen=True)
class MenuItem:
    choice_id: str
    titles: Mapping[str, LocalStr]
    countries: frozenset[str] = frozenset(COUNTRIES)

    def title(self, lang: str | None = None) -> LocalStr:
        return _pick(self.titles, lang)

    def shown_in(self, country: str | None) -> bool:
        """Items for every country are always shown; country-specific ones only there."""
        if self.countries == frozenset(COUNTRIES):
            return True
        return country is not None and country in self.countries


@dataclass(frozen=True)
class Menu:
    id: str
    titles: Mapping[str, LocalStr]
    texts: Mapping[str, LocalStr]
    items: tuple[MenuItem, ...]
    file: str = ""

    def text(self, lang: str | None = None) -> LocalStr:
        return _pick(self.texts, lang)

    def title(self, lang: str | None = None) -> LocalStr:
        return _pick(self.titles, lang)

    def items_for(self, country: str | None) -> list[MenuItem]:
        """The items to offer a user in ``country`` (at most 10 per country, by the check).

        With no country known, country-specific items are left out: ask the country first
        when ``needs_country`` is true.
        """
        return [item for item in self.items if item.shown_in(country)]

    @property
    def needs_country(self) -> bool:
        return any(item.countries != frozenset(COUNTRIES) for item in self.items)


@dataclass(frozen=True)
class Choice:
    """A flow entry point offered as a button (``flow:...``), with its title."""

    id: str
    titles: Mapping[str, LocalStr]

    def title(self, lang: str | None = None) -> LocalStr:
        return _pick(self.titles, lang)


@dataclass(frozen=True)
class GuideDocument:
    id: str
    titles: Mapping[str, LocalStr]

    def title(self, lang: str | None = None) -> LocalStr:
        return _pick(self.titles, lang)


@dataclass(frozen=True)
class GuideStep:
    id: str
    titles: Mapping[str, LocalStr]
    texts: Mapping[str, LocalStr]
    documents: tuple[GuideDocument, ...] = ()

    def title(self, lang: str | None = None) -> LocalStr:
        return _pick(self.titles, lang)

    def text(self, lang: str | None = None) -> LocalStr:
        return _pick(self.texts, lang)


@dataclass(frozen=True)
class GuideOption:
    """One of the forms the user chooses between (e.g. SCOOPS), with its checklist."""

    id: str
    titles: Mapping[str, LocalStr]
    texts: Mapping[str, LocalStr]
    steps: tuple[GuideStep, ...]

    def title(self, lang: str | None = None) -> LocalStr:
        return _pick(self.titles, lang)

    def text(self, lang: str | None = None) -> LocalStr:
        return _pick(self.texts, lang)


@dataclass(frozen=True)
class Guide:
    id: str
    titles: Mapping[str, LocalStr]
    intros: Mapping[str, LocalStr]
    questions: Mapping[str, LocalStr]
    options: tuple[GuideOption, ...]
    sources: tuple[Source, ...]
    review: Review
    file: str = ""

    def title(self, lang: str | None = None) -> LocalStr:
        return _pick(self.titles, lang)

    def intro(self, lang: str | None = None) -> LocalStr:
        return _pick(self.intros, lang)

    def question(self, lang: str | None = None) -> LocalStr:
        return _pick(self.questions, lang)

    def option(self, option_id: str) -> GuideOption:
        for option in self.options:
            if option.id == option_id:
                return option
        raise KeyError(option_id)

    def steps(self, option_id: str) -> tuple[GuideStep, ...]:
        return self.option(option_id).steps

    def step(self, step_id: str) -> GuideStep:
        for option in self.options:
            for step in option.steps:
                if step.id == step_id:
                    return step
        raise KeyError(step_id)


@dataclass(frozen=True)
class Content:
    """Everything under content/, validated. Build it with ``get_content()``."""

    root: Path
    answers: Mapping[str, Answer]
    menus: Mapping[str, Menu]
    choices: Mapping[str, Choice]
    guides: Mapping[str, Guide]
    files: tuple[str, ...] = field(default=())
    _fingerprint: str = ""

    def answer(self, answer_id: str) -> Answer:
        """The answer with this id; KeyError when there is none."""
        return self.answers[answer_id]

    def answers_for_intent(self, intent: str) -> list[Answer]:
        return [a for a in self.answers.values() if intent in a.intents]

    def answer_for(self, intent: str, country: str | None) -> Answer | None:
        """The answer for ``intent`` in ``country``: the country's own, else one for all.

        With ``country`` None, only an answer valid for every country is returned.
        """
        candidates = self.answers_for_intent(intent)
        if country:
            for a in candidates:
                if country in a.countries and not a.for_all_countries:
                    return a
        for a in candidates:
            if a.for_all_countries:
                return a
        return None

    def intent_needs_country(self, intent: str) -> bool:
        """True when the answer to ``intent`` differs by country (ask the country first)."""
        return any(not a.for_all_countries for a in self.answers_for_intent(intent))

    def intents(self) -> set[str]:
        return {i for a in self.answers.values() for i in a.intents}

    def menu(self, menu_id: str) -> Menu:
        return self.menus[menu_id]

    def guide(self, guide_id: str) -> Guide:
        return self.guides[guide_id]

    def choice_title(self, choice_id: str, lang: str | None = None) -> LocalStr:
        """The button title for a choice id (``answer:``, ``menu:`` or ``flow:``)."""
        kind, _, rest = choice_id.partition(":")
        if kind == "answer":
            return self.answers[rest].title(lang)
        if kind == "menu":
            return self.menus[rest].title(lang)
        if choice_id in self.choices:
            return self.choices[choice_id].title(lang)
        raise KeyError(choice_id)

    def fingerprint(self) -> str:
        """A stable hash of the content files: changes exactly when one of them changes."""
        return self._fingerprint


def fingerprint_files(root: Path, files: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in sorted(files, key=lambda p: p.relative_to(root).as_posix()):
        digest.update(path.relative_to(root).as_posix().encode("utf-8") + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()
