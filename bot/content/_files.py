"""The content files' format, declared as pydantic models (docs/CONTENT.md describes it).

Each model checks one item (an answer, a menu, a choice, a guide): field types and
vocabularies declaratively, the rules tying its fields together as validators. Rules between
items (links, coverage, menu sizes) are the validators of ``_load.Tree``.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from . import _model as m
from . import _schema as s
from ._model import LocalStr, LocalText

# In a message, stands for the field's path in the file ("text.fr.short", "options[gie].title"),
# so that the content team can find it: see _load.problems_of.
HERE = "\x00here\x00"


class Problems(ValueError):  # noqa: N818 - pydantic turns a ValueError into a validation error
    """One or more messages for the content team, raised by a validator."""

    def __init__(self, *messages: str):
        self.messages = list(messages)
        super().__init__("; ".join(self.messages))


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise Problems(message)


# -- vocabularies ------------------------------------------------------------------------------
def _one_of(known: tuple[str, ...] | frozenset[str], message: str, hint: str = ""):
    """A validator accepting only ``known``; ``message`` is formatted with the value."""
    listed = hint or ", ".join(sorted(known) if isinstance(known, frozenset) else known)

    def check(value: str) -> str:
        _check(value in known, message.format(value=value, known=listed))
        return value

    return AfterValidator(check)


def _none_as_empty(value: Any) -> Any:
    return [] if value is None else value


def _date(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.strftime("%Y-%m-%d")
    return value


def _iso(value: str) -> str:
    _check(bool(s.DATE_RE.match(value)), f"'{HERE}' must be a date YYYY-MM-DD, not {value!r}")
    return value


def _countries(value: Any) -> Any:
    if value == s.ALL_COUNTRIES or value == [s.ALL_COUNTRIES]:
        return list(s.COUNTRIES)
    if isinstance(value, str):
        value = [value]
    _check(isinstance(value, list) and bool(value),
           f"'{HERE}' must be a list of {', '.join(s.COUNTRIES)} or 'all'")
    return value


Language = Annotated[str, _one_of(s.LANGUAGES, "unknown language '{value}' (known: {known})")]
Country = Annotated[str, _one_of(s.COUNTRIES, "unknown country '{value}' (known: {known}, all)")]
Countries = Annotated[frozenset[Country], BeforeValidator(_countries)]
Intent = Annotated[str, _one_of(s.KNOWN_INTENTS, "unknown intent '{value}' (see docs/DESIGN.md)")]
Topic = Annotated[str, _one_of(s.TOPICS, "unknown topic '{value}' (known: {known})")]
TextStatus = Annotated[str, BeforeValidator(lambda v: v or "draft"),
                       _one_of(s.TEXT_STATUSES, "'" + HERE + "' is '{value}' (known: {known})")]
ReviewStatus = Annotated[
    str, BeforeValidator(lambda v: v or "draft"),
    _one_of(s.REVIEW_STATUSES, "unknown review status '{value}' (known: {known})")]
Partner = Annotated[
    str, Field(min_length=1),
    _one_of(s.PARTNERS, "unknown review organisation '{value}' (partners: {known})")]
IsoDate = Annotated[str, BeforeValidator(_date), AfterValidator(_iso)]
Text = Annotated[str, Field(min_length=1)]  # stripped by the models' config; empty is missing


def _limited(limit: int, why: str):
    def check(text: str) -> str:
        _check(len(text) <= limit, f"'{HERE}' is {len(text)} characters; the limit is {limit}{why}")
        return text

    return AfterValidator(check)


class Strict(BaseModel):
    """Unknown fields are refused (a typo must not silently drop a translation)."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


# -- per-language texts ------------------------------------------------------------------------
class LocalEntry(Strict):
    """One language's text: ``"..."`` or ``{text: "...", status: reviewed}``."""

    text: str | None
    status: TextStatus = "draft"

    @model_validator(mode="before")
    @classmethod
    def _plain(cls, value: Any) -> Any:
        return {"text": value} if value is None or isinstance(value, str) else value


def _localized(limit: int | None, why: str = ""):
    """``{lang: text}``, French required, each text at most ``limit`` characters."""

    def check(entries: dict[str, LocalEntry]) -> dict[str, LocalStr]:
        out: dict[str, LocalStr] = {}
        problems = []
        for lang, entry in entries.items():
            text = entry.text or ""
            if not text:
                continue  # an empty cell is no translation
            if limit is not None and len(text) > limit:
                problems.append(f"'{HERE}.{lang}' is {len(text)} characters; "
                                f"the limit is {limit}{why}: {text[:40]!r}...")
            out[lang] = LocalStr(text, lang, entry.status)
        if s.DEFAULT_LANGUAGE not in out:
            problems.append(f"'{HERE}' has no French (fr) text")
        if problems:
            raise Problems(*problems)
        return out

    return Annotated[dict[Language, LocalEntry], AfterValidator(check)]


BUTTON = " (WhatsApp reply button)"
BODY = " (interactive message body)"
ButtonTitle = _localized(s.BUTTON_TITLE_MAX, BUTTON)
Body = _localized(s.INTERACTIVE_BODY_MAX, BODY)
AnyLength = _localized(None)


# -- shared blocks -----------------------------------------------------------------------------
class SourceIn(Strict):
    title: Text
    link: str | None = None
    document: str | None = Field(default=None, validate_default=True)
    read: IsoDate

    @field_validator("document")
    @classmethod
    def _link_or_document(cls, document: str | None, info: ValidationInfo) -> str | None:
        # A field validator, not a model one, so that it is reported with the fields' problems.
        _check(bool(document or info.data.get("link")),
               f"source {info.data.get('title')!r} needs a 'link' or a 'document'")
        return document

    def build(self) -> m.Source:
        return m.Source(self.title, self.link, self.document, self.read)


class ReviewIn(Strict):
    status: ReviewStatus
    organisation: Partner
    date: IsoDate | None = None

    @model_validator(mode="after")
    def _reviewed_has_a_date(self) -> ReviewIn:
        _check(self.status != "reviewed" or self.date is not None,
               f"missing '{HERE}.date' (YYYY-MM-DD)")
        return self

    def build(self) -> m.Review:
        return m.Review(self.status, self.organisation, self.date)


# -- answers -----------------------------------------------------------------------------------
class TextIn(Strict):
    """An answer's text in one language: ``short`` fits one phone screen, ``more`` continues."""

    short: Annotated[Text, _limited(s.SHORT_MAX, " (one phone screen)")]
    more: Annotated[str, _limited(s.INTERACTIVE_BODY_MAX, BODY)] | None = None
    status: TextStatus

    @model_validator(mode="after")
    def _fits_telegram(self) -> TextIn:
        _check(len(self.short) + len(self.more or "") <= s.TELEGRAM_TEXT_MAX,
               f"'{HERE}' is over {s.TELEGRAM_TEXT_MAX} characters (Telegram)")
        return self


def _answer_texts(entries: dict[str, TextIn]) -> dict[str, LocalText]:
    _check(s.DEFAULT_LANGUAGE in entries, "no French text ('text.fr.short' is required)")
    return {lang: LocalText(t.short, t.more or None, t.status, lang) for lang, t in entries.items()}


def _related(choices: tuple[str, ...]) -> tuple[str, ...]:
    problems = []
    if not s.RELATED_MIN <= len(choices) <= s.RELATED_MAX:
        problems.append(f"'related' has {len(choices)} choices; give {s.RELATED_MIN} to "
                        f"{s.RELATED_MAX} (WhatsApp shows at most {s.MAX_BUTTONS} buttons)")
    if len(set(choices)) != len(choices):
        problems.append("'related' lists a choice twice")
    if problems:
        raise Problems(*problems)
    return choices


class ContactIn(Strict):
    """A service number shown in an answer; ``last_checked`` is null until a partner checks it."""

    name: Text
    number: Annotated[str, BeforeValidator(lambda v: v if v is None else str(v)),
                      Field(min_length=1)]
    last_checked: IsoDate | None  # required: a date, or null, written on purpose

    def build(self) -> m.Contact:
        return m.Contact(self.name, self.number, self.last_checked)


def _answer_id(value: str) -> str:
    _check(bool(s.ID_RE.match(value)), "ids use lower-case letters, digits and '_'")
    return value


class AnswerIn(Strict):
    id: Annotated[Text, AfterValidator(_answer_id)]
    topic: Topic
    intents: Annotated[tuple[Intent, ...], BeforeValidator(_none_as_empty)] = ()
    countries: Countries
    title: ButtonTitle
    text: Annotated[dict[Language, TextIn], AfterValidator(_answer_texts)]
    sources: Annotated[tuple[SourceIn, ...], BeforeValidator(_none_as_empty)] = ()
    review: ReviewIn
    caveat: str | None = None
    related: Annotated[tuple[str, ...], BeforeValidator(_none_as_empty), AfterValidator(_related)]
    contacts: Annotated[tuple[ContactIn, ...], BeforeValidator(_none_as_empty)] = ()

    @model_validator(mode="after")
    def _shown_with_its_doubts(self) -> AnswerIn:
        """The caveat, the service numbers and the sources, against the text and the review."""
        problems = []
        caveat = self.caveat or ""
        to_verify = self.review.status == "to_verify"
        if to_verify and not caveat:
            problems.append("review status is to_verify but there is no 'caveat' (French text "
                            "telling the user to confirm with the mines service/partner)")
        if len(caveat) > s.CAVEAT_MAX:
            problems.append(f"'caveat' is {len(caveat)} characters; the limit is {s.CAVEAT_MAX}")
        texts: dict[str, LocalText] = self.text  # type: ignore[assignment]  # built by _answer_texts
        for lang, text in texts.items():
            shown = len(text.short) + (len(s.CAVEAT_PREFIX) + len(caveat) if caveat else 0)
            if shown > s.INTERACTIVE_BODY_MAX:
                problems.append(f"'text.{lang}.short' with the caveat is {shown} characters; the "
                                f"limit is {s.INTERACTIVE_BODY_MAX} (interactive message body)")
        for contact in self.contacts:  # the number the user reads must be the number on record
            if contact.number not in texts[s.DEFAULT_LANGUAGE].short:
                problems.append(f"contact number {contact.number!r} does not appear in "
                                "'text.fr.short'")
        # A number no partner has re-checked is shown with its doubt, never as a plain fact.
        if any(c.last_checked is None for c in self.contacts) and not (to_verify and caveat):
            problems.append("a service number has never been checked by a partner: the answer "
                            "needs review.status to_verify and a caveat saying so (last check)")
        # Every fact needs its source; only how-to-use-the-bot text may go without.
        if not self.sources and self.topic != "navigation":
            problems.append("missing 'sources' (at least one: title, link or document, read)")
        if problems:
            raise Problems(*problems)
        return self

    def build(self, file: str) -> m.Answer:
        return m.Answer(
            id=self.id, topic=self.topic, intents=self.intents, countries=self.countries,
            titles=self.title, texts=self.text, sources=tuple(x.build() for x in self.sources),  # type: ignore[arg-type]
            review=self.review.build(), related=self.related, caveat=self.caveat or None,
            contacts=tuple(c.build() for c in self.contacts), file=file)


class AnswerFile(Strict):
    answers: list[Any]


# -- menus and flow choices --------------------------------------------------------------------
class MenuItemIn(Strict):
    choice: Text
    title: AnyLength  # its limit depends on the menu's size: see _load.menu_limits
    countries: Countries = frozenset(s.COUNTRIES)

    def build(self) -> m.MenuItem:
        return m.MenuItem(self.choice, self.title, self.countries)  # type: ignore[arg-type]


class MenuIn(Strict):
    id: Text
    title: ButtonTitle
    text: Body
    items: Annotated[list[MenuItemIn], Field(min_length=1)]

    def build(self, file: str) -> m.Menu:
        return m.Menu(self.id, self.title, self.text, tuple(i.build() for i in self.items), file)  # type: ignore[arg-type]


def _flow_choice(value: str) -> str:
    _check(value.startswith("flow:") and bool(s.CHOICE_RE.match(value)),
           "choices here are flow entry points: 'flow:<name>:<value>'")
    return value


class ChoiceIn(Strict):
    id: Annotated[Text, AfterValidator(_flow_choice)]
    title: ButtonTitle

    def build(self) -> m.Choice:
        return m.Choice(self.id, self.title)  # type: ignore[arg-type]


class MenusFile(Strict):
    menus: list[Any]
    choices: list[Any] = []


# -- guides ------------------------------------------------------------------------------------
class DocumentIn(Strict):
    id: Text
    title: _localized(s.DOCUMENT_TITLE_MAX)  # type: ignore[valid-type]

    def build(self) -> m.GuideDocument:
        return m.GuideDocument(self.id, self.title)  # type: ignore[arg-type]


class StepIn(Strict):
    id: Text
    title: _localized(s.LIST_ROW_TITLE_MAX, " (list row)")  # type: ignore[valid-type]
    text: Body
    documents: Annotated[tuple[DocumentIn, ...], BeforeValidator(_none_as_empty)] = ()

    def build(self) -> m.GuideStep:
        return m.GuideStep(self.id, self.title, self.text, tuple(d.build() for d in self.documents))  # type: ignore[arg-type]


class OptionIn(Strict):
    id: Text
    title: AnyLength  # its limit depends on the number of options: see GuideIn
    text: Body
    steps: Annotated[list[StepIn], Field(min_length=1)]

    def build(self) -> m.GuideOption:
        return m.GuideOption(self.id, self.title, self.text, tuple(x.build() for x in self.steps))  # type: ignore[arg-type]


class GuideIn(Strict):
    id: Text
    title: ButtonTitle
    intro: Body
    question: Body
    options: Annotated[list[OptionIn], Field(min_length=1)]
    sources: Annotated[tuple[SourceIn, ...], Field(min_length=1)]
    review: ReviewIn

    @model_validator(mode="after")
    def _options_fit_and_ids_are_unique(self) -> GuideIn:
        problems = []
        limit = s.BUTTON_TITLE_MAX if len(self.options) <= s.MAX_BUTTONS else s.LIST_ROW_TITLE_MAX
        seen: set[str] = set()
        for option in self.options:
            titles: dict[str, LocalStr] = option.title  # type: ignore[assignment]
            for lang, title in titles.items():
                if len(title) > limit:
                    problems.append(f"'options[{option.id}].title.{lang}' is {len(title)} "
                                    f"characters; the limit is {limit} (WhatsApp choice)")
            if option.id in seen:
                problems.append(f"duplicate option id '{option.id}'")
            seen.add(option.id)
        steps: set[str] = set()
        for step in (step for option in self.options for step in option.steps):
            if step.id in steps:
                problems.append(f"duplicate step id '{step.id}'")
            steps.add(step.id)
        if problems:
            raise Problems(*problems)
        return self

    def build(self, file: str) -> m.Guide:
        return m.Guide(self.id, self.title, self.intro, self.question,  # type: ignore[arg-type]
                     tuple(o.build() for o in self.options), tuple(x.build() for x in self.sources),
                     self.review.build(), file)
