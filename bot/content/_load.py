"""Load content/ and check it: every problem is collected, then reported at once."""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from . import _schema as s
from ._model import (
    Answer,
    Choice,
    Contact,
    Content,
    Guide,
    GuideDocument,
    GuideOption,
    GuideStep,
    LocalStr,
    LocalText,
    Menu,
    MenuItem,
    Review,
    Source,
    fingerprint_files,
)

DEFAULT_ROOT = Path(__file__).resolve().parents[2] / "content"
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when available: ~10x faster


@dataclass(frozen=True)
class Problem:
    file: str
    item: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file} [{self.item}]" if self.item else self.file
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class Warning_:
    file: str
    item: str
    message: str

    def __str__(self) -> str:
        return f"{self.file} [{self.item}]: {self.message}"


class ContentError(ValueError):
    """The content files have problems; ``problems`` lists every one (file, id, message)."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"{len(self.problems)} content problem(s):\n{lines}")


def _date_str(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, (dt.date, dt.datetime)):
        return value.strftime("%Y-%m-%d")
    return str(value)


class _Checker:
    """Builds the model from parsed YAML, recording problems instead of stopping at the first."""

    def __init__(self, root: Path):
        self.root = root
        self.problems: list[Problem] = []
        self.warnings: list[Warning_] = []

    # -- reporting -------------------------------------------------------------------------
    def bad(self, file: str, item: str, message: str) -> None:
        self.problems.append(Problem(file, item, message))

    def warn(self, file: str, item: str, message: str) -> None:
        self.warnings.append(Warning_(file, item, message))

    # -- small typed readers ---------------------------------------------------------------
    def keys(self, data: dict, allowed: set[str], required: set[str], file: str, item: str) -> None:
        for key in data:
            if key not in allowed:
                self.bad(file, item, f"unknown field '{key}' (allowed: {', '.join(sorted(allowed))})")
        for key in sorted(required):
            if data.get(key) in (None, "", [], {}):
                self.bad(file, item, f"missing '{key}'")

    def localized(self, value: Any, file: str, item: str, name: str, max_len: int | None,
                  limit_name: str = "") -> dict[str, LocalStr]:
        """A per-language string: ``{fr: "...", bm: "..."}`` or ``{fr: {text, status}}``."""
        out: dict[str, LocalStr] = {}
        if not isinstance(value, dict):
            self.bad(file, item, f"'{name}' must map language codes to text")
            return out
        for lang, raw in value.items():
            if lang not in s.LANGUAGES:
                self.bad(file, item, f"'{name}': unknown language '{lang}' (known: {', '.join(s.LANGUAGES)})")
                continue
            status = "draft"
            if isinstance(raw, dict):
                self.keys(raw, {"text", "status"}, {"text"}, file, item)
                status = raw.get("status") or "draft"
                if status not in s.TEXT_STATUSES:
                    self.bad(file, item, f"'{name}.{lang}': unknown status '{status}'")
                raw = raw.get("text")
            if raw is None or str(raw).strip() == "":
                continue  # an empty cell is no translation
            if not isinstance(raw, str):
                self.bad(file, item, f"'{name}.{lang}' must be text")
                continue
            text = raw.strip()
            if max_len is not None and len(text) > max_len:
                self.bad(file, item, f"'{name}.{lang}' is {len(text)} characters; "
                                     f"the limit is {max_len}{limit_name}: {text[:40]!r}...")
            out[lang] = LocalStr(text, lang, status)
        if s.DEFAULT_LANGUAGE not in out:
            self.bad(file, item, f"'{name}' has no French (fr) text")
        return out

    def countries(self, value: Any, file: str, item: str) -> frozenset[str]:
        if value == s.ALL_COUNTRIES or value == [s.ALL_COUNTRIES]:
            return frozenset(s.COUNTRIES)
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not value:
            self.bad(file, item, f"'countries' must be a list of {', '.join(s.COUNTRIES)} or 'all'")
            return frozenset()
        out = set()
        for code in value:
            if code not in s.COUNTRIES:
                self.bad(file, item, f"unknown country '{code}' (known: {', '.join(s.COUNTRIES)}, all)")
            else:
                out.add(code)
        return frozenset(out)

    def date(self, value: Any, file: str, item: str, name: str, required: bool) -> str | None:
        text = _date_str(value)
        if text is None:
            if required:
                self.bad(file, item, f"missing '{name}' (YYYY-MM-DD)")
            return None
        if not s.DATE_RE.match(text):
            self.bad(file, item, f"'{name}' must be a date YYYY-MM-DD, not {text!r}")
        return text

    def sources(self, value: Any, file: str, item: str) -> tuple[Source, ...]:
        if not isinstance(value, list) or not value:
            self.bad(file, item, "missing 'sources' (at least one: title, link or document, read)")
            return ()
        out = []
        for raw in value:
            if not isinstance(raw, dict):
                self.bad(file, item, "each source must be a mapping")
                continue
            self.keys(raw, {"title", "link", "document", "read"}, {"title", "read"}, file, item)
            if not raw.get("link") and not raw.get("document"):
                self.bad(file, item, f"source {raw.get('title')!r} needs a 'link' or a 'document'")
            out.append(Source(str(raw.get("title") or ""), raw.get("link"), raw.get("document"),
                              self.date(raw.get("read"), file, item, "read", True) or ""))
        return tuple(out)

    def review(self, value: Any, file: str, item: str) -> Review:
        if not isinstance(value, dict):
            self.bad(file, item, "missing 'review' (status, organisation, date)")
            return Review("draft", "", None)
        self.keys(value, {"status", "organisation", "date"}, {"status", "organisation"}, file, item)
        status = value.get("status") or "draft"
        if status not in s.REVIEW_STATUSES:
            self.bad(file, item, f"unknown review status '{status}' (known: {', '.join(s.REVIEW_STATUSES)})")
        organisation = value.get("organisation") or ""
        if organisation and organisation not in s.PARTNERS:
            self.bad(file, item, f"unknown review organisation '{organisation}' (partners: {', '.join(s.PARTNERS)})")
        date = self.date(value.get("date"), file, item, "review.date", status == "reviewed")
        return Review(status, organisation, date)

    # -- answers ---------------------------------------------------------------------------
    ANSWER_FIELDS = {"id", "topic", "intents", "countries", "title", "text", "sources", "review",
                     "caveat", "related", "contacts"}

    def answer(self, raw: Any, file: str) -> Answer | None:
        if not isinstance(raw, dict):
            self.bad(file, "", "each answer must be a mapping")
            return None
        aid = str(raw.get("id") or "?")
        self.keys(raw, self.ANSWER_FIELDS,
                  {"id", "topic", "countries", "title", "text", "review", "related"}, file, aid)
        if aid != "?" and not s.ID_RE.match(aid):
            self.bad(file, aid, "ids use lower-case letters, digits and '_'")
        topic = raw.get("topic")
        if topic not in s.TOPICS:
            self.bad(file, aid, f"unknown topic '{topic}' (known: {', '.join(s.TOPICS)})")
        intents = raw.get("intents") or []
        if not isinstance(intents, list):
            self.bad(file, aid, "'intents' must be a list")
            intents = []
        for intent in intents:
            if intent not in s.KNOWN_INTENTS:
                self.bad(file, aid, f"unknown intent '{intent}' (see docs/DESIGN.md)")
        titles = self.localized(raw.get("title"), file, aid, "title", s.BUTTON_TITLE_MAX,
                                " (WhatsApp reply button)")
        texts = self.answer_texts(raw.get("text"), file, aid)
        review = self.review(raw.get("review"), file, aid)
        caveat = raw.get("caveat")
        if caveat is not None and not isinstance(caveat, str):
            self.bad(file, aid, "'caveat' must be French text")
            caveat = None
        caveat = caveat.strip() if caveat else None
        if review.status == "to_verify" and not caveat:
            self.bad(file, aid, "review status is to_verify but there is no 'caveat' "
                                "(French text telling the user to confirm with the mines service/partner)")
        if caveat and len(caveat) > s.CAVEAT_MAX:
            self.bad(file, aid, f"'caveat' is {len(caveat)} characters; the limit is {s.CAVEAT_MAX}")
        for lang, text in texts.items():
            shown = len(text.short) + (len(s.CAVEAT_PREFIX) + len(caveat) if caveat else 0)
            if shown > s.INTERACTIVE_BODY_MAX:
                self.bad(file, aid, f"'text.{lang}.short' with the caveat is {shown} characters; "
                                    f"the limit is {s.INTERACTIVE_BODY_MAX} (interactive message body)")
        related = raw.get("related") or []
        if not isinstance(related, list) or not all(isinstance(r, str) for r in related):
            self.bad(file, aid, "'related' must be a list of choice ids")
            related = []
        if related and not s.RELATED_MIN <= len(related) <= s.RELATED_MAX:
            self.bad(file, aid, f"'related' has {len(related)} choices; give {s.RELATED_MIN} to "
                                f"{s.RELATED_MAX} (WhatsApp shows at most {s.MAX_BUTTONS} buttons)")
        if len(set(related)) != len(related):
            self.bad(file, aid, "'related' lists a choice twice")
        contacts = self.contacts(raw.get("contacts"), file, aid, texts)
        # A number no partner has re-checked is shown with its doubt, never as a plain fact.
        if any(c.last_checked is None for c in contacts) and (review.status != "to_verify" or not caveat):
            self.bad(file, aid, "a service number has never been checked by a partner: the answer needs "
                                "review.status to_verify and a caveat saying so (last check)")
        # Every fact needs its source; only how-to-use-the-bot text may go without.
        sources = (self.sources(raw.get("sources"), file, aid)
                   if raw.get("sources") or topic != "navigation" else ())
        return Answer(
            id=aid, topic=str(topic), intents=tuple(intents),
            countries=self.countries(raw.get("countries"), file, aid),
            titles=titles, texts=texts, sources=sources,
            review=review, related=tuple(related), caveat=caveat, contacts=contacts, file=file,
        )

    def answer_texts(self, value: Any, file: str, aid: str) -> dict[str, LocalText]:
        out: dict[str, LocalText] = {}
        if not isinstance(value, dict):
            self.bad(file, aid, "'text' must map language codes to {short, more, status}")
            return out
        for lang, raw in value.items():
            if lang not in s.LANGUAGES:
                self.bad(file, aid, f"'text': unknown language '{lang}' (known: {', '.join(s.LANGUAGES)})")
                continue
            if not isinstance(raw, dict):
                self.bad(file, aid, f"'text.{lang}' must be a mapping with short, more, status")
                continue
            self.keys(raw, {"short", "more", "status"}, {"short", "status"}, file, aid)
            short = (raw.get("short") or "").strip()
            more = (raw.get("more") or "").strip() or None
            status = raw.get("status") or "draft"
            if status not in s.TEXT_STATUSES:
                self.bad(file, aid, f"'text.{lang}.status' is '{status}' (known: {', '.join(s.TEXT_STATUSES)})")
            if len(short) > s.SHORT_MAX:
                self.bad(file, aid, f"'text.{lang}.short' is {len(short)} characters; the limit is "
                                    f"{s.SHORT_MAX} (one phone screen)")
            if more and len(more) > s.INTERACTIVE_BODY_MAX:
                self.bad(file, aid, f"'text.{lang}.more' is {len(more)} characters; the limit is "
                                    f"{s.INTERACTIVE_BODY_MAX} (interactive message body)")
            if len(short) + len(more or "") > s.TELEGRAM_TEXT_MAX:
                self.bad(file, aid, f"'text.{lang}' is over {s.TELEGRAM_TEXT_MAX} characters (Telegram)")
            if short:
                out[lang] = LocalText(short, more, status, lang)
        if s.DEFAULT_LANGUAGE not in out:
            self.bad(file, aid, "no French text ('text.fr.short' is required)")
        return out

    def contacts(self, value: Any, file: str, aid: str, texts: dict[str, LocalText]) -> tuple[Contact, ...]:
        if value is None:
            return ()
        if not isinstance(value, list):
            self.bad(file, aid, "'contacts' must be a list")
            return ()
        out = []
        french = texts.get(s.DEFAULT_LANGUAGE)
        for raw in value:
            if not isinstance(raw, dict):
                self.bad(file, aid, "each contact must be a mapping")
                continue
            self.keys(raw, {"name", "number", "last_checked"}, {"name", "number"}, file, aid)
            if "last_checked" not in raw:
                self.bad(file, aid, f"contact {raw.get('number')!r} needs 'last_checked' "
                                    "(a date, or null until a partner checks it)")
            number = str(raw.get("number") or "")
            checked = self.date(raw.get("last_checked"), file, aid, "last_checked", False)
            if checked is None:
                self.warn(file, aid, f"number {number} has never been checked by a partner")
            # The number the user reads must be the number on record.
            if french and number and number not in french.short:
                self.bad(file, aid, f"contact number {number!r} does not appear in 'text.fr.short'")
            out.append(Contact(str(raw.get("name") or ""), number, checked))
        return tuple(out)

    # -- menus and choices -----------------------------------------------------------------
    def menu(self, raw: Any, file: str) -> Menu | None:
        if not isinstance(raw, dict):
            self.bad(file, "", "each menu must be a mapping")
            return None
        mid = str(raw.get("id") or "?")
        self.keys(raw, {"id", "title", "text", "items"}, {"id", "title", "text", "items"}, file, mid)
        titles = self.localized(raw.get("title"), file, mid, "title", s.BUTTON_TITLE_MAX,
                                " (WhatsApp reply button)")
        texts = self.localized(raw.get("text"), file, mid, "text", s.INTERACTIVE_BODY_MAX,
                               " (interactive message body)")
        items = []
        for n, item in enumerate(raw.get("items") or [], start=1):
            if not isinstance(item, dict):
                self.bad(file, mid, f"item {n} must be a mapping with choice and title")
                continue
            self.keys(item, {"choice", "title", "countries"}, {"choice", "title"}, file, mid)
            choice = str(item.get("choice") or "")
            item_titles = self.localized(item.get("title"), file, f"{mid}/{choice}", "title", None)
            countries = (self.countries(item["countries"], file, mid) if "countries" in item
                         else frozenset(s.COUNTRIES))
            items.append(MenuItem(choice, item_titles, countries))
        return Menu(mid, titles, texts, tuple(items), file)

    def choice(self, raw: Any, file: str) -> Choice | None:
        if not isinstance(raw, dict):
            self.bad(file, "", "each choice must be a mapping with id and title")
            return None
        cid = str(raw.get("id") or "?")
        self.keys(raw, {"id", "title"}, {"id", "title"}, file, cid)
        if not cid.startswith("flow:") or not s.CHOICE_RE.match(cid):
            self.bad(file, cid, "choices here are flow entry points: 'flow:<name>:<value>'")
        return Choice(cid, self.localized(raw.get("title"), file, cid, "title", s.BUTTON_TITLE_MAX,
                                          " (WhatsApp reply button)"))

    def check_menu_limits(self, menu: Menu) -> None:
        """WhatsApp: up to 3 items are buttons (titles <= 20), more become a list (<= 10 rows, <= 24)."""
        views = {c: menu.items_for(c) for c in s.COUNTRIES}
        for country, items in views.items():
            if not items:
                self.bad(menu.file, menu.id, f"no item is shown to users in {country}")
                continue
            if len(items) > s.MAX_LIST_ROWS:
                self.bad(menu.file, menu.id, f"{len(items)} items shown in {country}; "
                                             f"a WhatsApp list has at most {s.MAX_LIST_ROWS} rows")
            limit = s.BUTTON_TITLE_MAX if len(items) <= s.MAX_BUTTONS else s.LIST_ROW_TITLE_MAX
            kind = "reply button" if limit == s.BUTTON_TITLE_MAX else "list row"
            for item in items:
                for lang, title in item.titles.items():
                    if len(title) > limit:
                        self.bad(menu.file, f"{menu.id}/{item.choice_id}",
                                 f"title.{lang} {title!r} is {len(title)} characters; a WhatsApp "
                                 f"{kind} title has at most {limit} ({len(items)} items in {country})")
        seen: set[str] = set()
        for item in menu.items:
            if item.choice_id in seen:
                self.bad(menu.file, menu.id, f"item {item.choice_id} is listed twice")
            seen.add(item.choice_id)

    # -- guides ----------------------------------------------------------------------------
    def guide(self, raw: Any, file: str) -> Guide | None:
        if not isinstance(raw, dict):
            self.bad(file, "", "a guide file must be a mapping")
            return None
        gid = str(raw.get("id") or "?")
        self.keys(raw, {"id", "title", "intro", "question", "options", "sources", "review"},
                  {"id", "title", "intro", "question", "options", "sources", "review"}, file, gid)
        body = (s.INTERACTIVE_BODY_MAX, " (interactive message body)")
        options = []
        step_ids: set[str] = set()
        option_ids: set[str] = set()
        raw_options = raw.get("options") or []
        for opt in raw_options:
            if not isinstance(opt, dict):
                self.bad(file, gid, "each option must be a mapping")
                continue
            oid = str(opt.get("id") or "?")
            where = f"{gid}/{oid}"
            self.keys(opt, {"id", "title", "text", "steps"}, {"id", "title", "text", "steps"}, file, where)
            if oid in option_ids:
                self.bad(file, where, f"duplicate option id '{oid}'")
            option_ids.add(oid)
            title_max = s.BUTTON_TITLE_MAX if len(raw_options) <= s.MAX_BUTTONS else s.LIST_ROW_TITLE_MAX
            steps = []
            for st in opt.get("steps") or []:
                if not isinstance(st, dict):
                    self.bad(file, where, "each step must be a mapping")
                    continue
                sid = str(st.get("id") or "?")
                swhere = f"{gid}/{sid}"
                self.keys(st, {"id", "title", "text", "documents"}, {"id", "title", "text"}, file, swhere)
                if sid in step_ids:
                    self.bad(file, swhere, f"duplicate step id '{sid}'")
                step_ids.add(sid)
                docs = []
                for doc in st.get("documents") or []:
                    if not isinstance(doc, dict):
                        self.bad(file, swhere, "each document must be a mapping with id and title")
                        continue
                    did = str(doc.get("id") or "?")
                    self.keys(doc, {"id", "title"}, {"id", "title"}, file, f"{swhere}/{did}")
                    docs.append(GuideDocument(did, self.localized(
                        doc.get("title"), file, f"{swhere}/{did}", "title", s.DOCUMENT_TITLE_MAX)))
                steps.append(GuideStep(
                    sid,
                    self.localized(st.get("title"), file, swhere, "title", s.LIST_ROW_TITLE_MAX, " (list row)"),
                    self.localized(st.get("text"), file, swhere, "text", *body),
                    tuple(docs)))
            options.append(GuideOption(
                oid, self.localized(opt.get("title"), file, where, "title", title_max, " (WhatsApp choice)"),
                self.localized(opt.get("text"), file, where, "text", *body), tuple(steps)))
        return Guide(
            gid, self.localized(raw.get("title"), file, gid, "title", s.BUTTON_TITLE_MAX, " (WhatsApp reply button)"),
            self.localized(raw.get("intro"), file, gid, "intro", *body),
            self.localized(raw.get("question"), file, gid, "question", *body),
            tuple(options), self.sources(raw.get("sources"), file, gid),
            self.review(raw.get("review"), file, gid), file)


def _read_yaml(path: Path, checker: _Checker, rel: str) -> Any:
    try:
        with path.open(encoding="utf-8") as fh:
            return yaml.load(fh, Loader=_Loader)
    except yaml.YAMLError as exc:
        checker.bad(rel, "", f"not valid YAML: {exc}")
    except OSError as exc:
        checker.bad(rel, "", f"cannot read: {exc}")
    return None


def content_files(root: Path) -> list[Path]:
    """The files this package reads (what the fingerprint covers).

    Other files in content/ (partners.yml, read by bot/store/requests.py) are left out: a
    change of routing must not retrain the NLU model.
    """
    files = [root / "menus.yml"] if (root / "menus.yml").is_file() else []
    for folder in ("answers", "guides"):
        if (root / folder).is_dir():
            files += [p for p in (root / folder).glob("*") if p.is_file() and p.suffix in (".yml", ".yaml")]
    return sorted(files)


def check_content(root: str | Path | None = None) -> tuple[Content | None, list[Problem], list[Warning_]]:
    """Load and check; return the content (None when there are problems), problems, warnings."""
    root = Path(root) if root is not None else DEFAULT_ROOT
    checker = _Checker(root)
    if not root.is_dir():
        checker.bad(str(root), "", "content directory not found")
        return None, checker.problems, checker.warnings

    def rel(p: Path) -> str:
        return p.relative_to(root).as_posix()

    answers: dict[str, Answer] = {}
    answer_dir = root / "answers"
    answer_files = sorted(list(answer_dir.glob("*.yml")) + list(answer_dir.glob("*.yaml")))
    if not answer_files:
        checker.bad("answers/", "", "no answer file (answers/*.yml)")
    for path in answer_files:
        data = _read_yaml(path, checker, rel(path))
        if data is None:
            continue
        if not isinstance(data, dict) or not isinstance(data.get("answers"), list):
            checker.bad(rel(path), "", "an answer file is a mapping with an 'answers' list")
            continue
        for raw in data["answers"]:
            answer = checker.answer(raw, rel(path))
            if answer is None:
                continue
            if answer.id in answers:
                checker.bad(rel(path), answer.id, f"duplicate answer id (also in {answers[answer.id].file})")
                continue
            answers[answer.id] = answer

    menus: dict[str, Menu] = {}
    choices: dict[str, Choice] = {}
    menu_path = root / "menus.yml"
    data = _read_yaml(menu_path, checker, "menus.yml") if menu_path.exists() else None
    if not menu_path.exists():
        checker.bad("menus.yml", "", "file missing")
    elif not isinstance(data, dict) or not isinstance(data.get("menus"), list):
        checker.bad("menus.yml", "", "menus.yml is a mapping with a 'menus' list (and a 'choices' list)")
    else:
        for key in data:
            if key not in ("menus", "choices"):
                checker.bad("menus.yml", "", f"unknown top-level key '{key}'")
        for raw in data["menus"]:
            menu = checker.menu(raw, "menus.yml")
            if menu is None:
                continue
            if menu.id in menus:
                checker.bad("menus.yml", menu.id, "duplicate menu id")
                continue
            menus[menu.id] = menu
        for raw in data.get("choices") or []:
            choice = checker.choice(raw, "menus.yml")
            if choice is None:
                continue
            if choice.id in choices:
                checker.bad("menus.yml", choice.id, "duplicate choice id")
                continue
            choices[choice.id] = choice

    guides: dict[str, Guide] = {}
    for path in sorted((root / "guides").glob("*.yml")) if (root / "guides").is_dir() else []:
        data = _read_yaml(path, checker, rel(path))
        if data is None:
            continue
        guide = checker.guide(data, rel(path))
        if guide is None:
            continue
        if guide.id in guides:
            checker.bad(rel(path), guide.id, "duplicate guide id")
            continue
        guides[guide.id] = guide

    _check_links(checker, answers, menus, choices)
    _check_coverage(checker, answers)

    if checker.problems:
        return None, checker.problems, checker.warnings
    files = content_files(root)
    content = Content(root=root, answers=answers, menus=menus, choices=choices, guides=guides,
                      files=tuple(rel(p) for p in files), _fingerprint=fingerprint_files(root, files))
    return content, [], checker.warnings


def _check_links(checker: _Checker, answers: dict[str, Answer], menus: dict[str, Menu],
                 choices: dict[str, Choice]) -> None:
    def resolves(choice_id: str) -> bool:
        kind, _, rest = choice_id.partition(":")
        if kind == "answer":
            return rest in answers
        if kind == "menu":
            return rest in menus
        return choice_id in choices

    for answer in answers.values():
        for choice_id in answer.related:
            if not s.CHOICE_RE.match(choice_id):
                checker.bad(answer.file, answer.id, f"related '{choice_id}' is not a choice id "
                                                    "(answer:<id>, menu:<id>, flow:...)")
            elif not resolves(choice_id):
                checker.bad(answer.file, answer.id, f"related '{choice_id}' points to nothing")
            elif choice_id == f"answer:{answer.id}":
                checker.bad(answer.file, answer.id, "related points to the answer itself")
    for menu in menus.values():
        for item in menu.items:
            if not s.CHOICE_RE.match(item.choice_id):
                checker.bad(menu.file, menu.id, f"item '{item.choice_id}' is not a choice id")
            elif not resolves(item.choice_id):
                checker.bad(menu.file, menu.id, f"item '{item.choice_id}' points to nothing")
            elif item.choice_id.startswith("answer:"):
                target = answers[item.choice_id[len("answer:"):]]
                if not item.countries <= target.countries:
                    checker.bad(menu.file, menu.id, f"item '{item.choice_id}' is shown in countries "
                                                    "the answer does not cover")
        checker.check_menu_limits(menu)
    if "main" not in menus:
        checker.bad("menus.yml", "main", "the main menu is missing")
    else:
        main = menus["main"]
        themes = [i for i in main.items if i.choice_id.startswith("menu:")]
        if len(main.items) != 4 or len(themes) != 4:
            checker.bad("menus.yml", "main", "the main menu has exactly the four themes (menu:... items)")


def _check_coverage(checker: _Checker, answers: dict[str, Answer]) -> None:
    """Each content intent has, for every country, exactly one answer to give."""
    for intent in s.CONTENT_INTENTS:
        found = [a for a in answers.values() if intent in a.intents]
        if not found:
            checker.bad("answers/", intent, f"no answer for intent '{intent}'")
            continue
        general = [a for a in found if a.countries == frozenset(s.COUNTRIES)]
        if len(general) > 1:
            checker.bad(general[1].file, general[1].id,
                        f"two answers for all countries on intent '{intent}': "
                        f"{', '.join(a.id for a in general)}")
        for country in s.COUNTRIES:
            specific = [a for a in found if country in a.countries and a not in general]
            if len(specific) > 1:
                checker.bad(specific[1].file, specific[1].id,
                            f"intent '{intent}' has several answers for {country}: "
                            f"{', '.join(a.id for a in specific)}")
            if not specific and not general:
                checker.bad("answers/", intent, f"intent '{intent}' has no answer for {country}")


def load_content(root: str | Path | None = None) -> Content:
    """Load and check content/ (or ``root``); raise ContentError listing every problem."""
    content, problems, _ = check_content(root)
    if problems:
        raise ContentError(problems)
    assert content is not None
    return content


_cache: dict[Path, Content] = {}
_cache_lock = threading.Lock()


def get_content(root: str | Path | None = None) -> Content:
    """The content, loaded and checked once per directory (call ``reload_content`` to refresh)."""
    key = Path(root).resolve() if root is not None else DEFAULT_ROOT
    with _cache_lock:
        if key not in _cache:
            _cache[key] = load_content(key)
        return _cache[key]


def reload_content(root: str | Path | None = None) -> Content:
    key = Path(root).resolve() if root is not None else DEFAULT_ROOT
    with _cache_lock:
        _cache.pop(key, None)
    return get_content(key)
