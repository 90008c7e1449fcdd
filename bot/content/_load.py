"""Load content/ and check it: every problem is collected, then reported at once."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, ValidationInfo, model_validator

from . import _schema as s
from ._files import HERE, AnswerFile, AnswerIn, ChoiceIn, GuideIn, MenuIn, MenusFile, Problems
from ._model import Answer, Choice, Content, Guide, Menu, fingerprint_files

M = TypeVar("M", bound=BaseModel)
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


# -- one item: the models of _files.py, their errors as problems ---------------------------------
def _where(loc: tuple[int | str, ...], raw: Any) -> str:
    """A field's path as the content team reads it: ``options[scoops].steps[2].text.fr``.

    List positions are named by the element's id (or choice, number) when it has one, else
    counted from 1; parts pydantic adds inside a value given as plain text are left out.
    """
    out = ""
    for part in loc:
        if part == "[key]":
            continue
        if isinstance(raw, list) and isinstance(part, int):
            element = raw[part] if part < len(raw) else None
            name = next((element[k] for k in ("id", "choice", "number")
                         if isinstance(element, dict) and element.get(k)), part + 1)
            out += f"[{name}]"
            raw = element
        elif isinstance(raw, dict):
            out += f".{part}" if out else str(part)
            raw = raw.get(part)
        else:
            break
    return out


_KIND = {"dict_type": "a mapping", "model_type": "a mapping", "model_attributes_type": "a mapping",
         "list_type": "a list", "tuple_type": "a list", "frozen_set_type": "a list",
         "string_type": "text"}


def problems_of(error: ValidationError, file: str, item: str, raw: Any) -> list[Problem]:
    """Each error of ``error`` as a problem naming the file, the item and the field."""
    out = []
    for err in error.errors():
        where = _where(err["loc"], raw)
        parent, _, name = where.rpartition(".") if "." in where else ("", "", where)
        cause = (err.get("ctx") or {}).get("error")
        if isinstance(cause, Problems):
            messages = [m.replace(HERE, where) for m in cause.messages]
        elif err["type"] in ("missing", "string_too_short", "too_short"):
            messages = [f"{parent + ': ' if parent else ''}missing '{name}'"]
        elif err["type"] == "extra_forbidden":
            messages = [f"{parent + ': ' if parent else ''}unknown field '{name}'"]
        elif err["type"] in _KIND:
            kind = _KIND[err["type"]]
            messages = [f"'{where}' must be {kind}" if where else f"must be {kind}"]
        else:
            messages = [f"'{where}': {err['msg']}"]
        out += [Problem(file, item, m) for m in messages]
    return out


def _item_id(raw: Any, key: str = "id") -> str:
    return str(raw.get(key) or "?") if isinstance(raw, dict) else "?"


class _Reader:
    """Reads the files and validates each item, collecting problems instead of stopping."""

    def __init__(self, root: Path):
        self.root = root
        self.problems: list[Problem] = []

    def bad(self, file: str, item: str, message: str) -> None:
        self.problems.append(Problem(file, item, message))

    def yaml(self, path: Path) -> Any:
        rel = path.relative_to(self.root).as_posix()
        try:
            with path.open(encoding="utf-8") as fh:
                return yaml.load(fh, Loader=_Loader)
        except yaml.YAMLError as exc:
            self.bad(rel, "", f"not valid YAML: {exc}")
        except OSError as exc:
            self.bad(rel, "", f"cannot read: {exc}")
        return None

    def item(self, model: type[M], raw: Any, file: str, item: str) -> M | None:
        try:
            return model.model_validate(raw)
        except ValidationError as exc:
            self.problems += problems_of(exc, file, item, raw)
            return None


# -- between items: validators of the whole tree --------------------------------------------------
class Tree(BaseModel):
    """The items that passed their own checks, checked against each other.

    ``broken`` holds the choice ids (``answer:x``, ``menu:y``, ``flow:...``) of items that
    exist but failed their own checks: links to them are not reported as dangling. The
    validators report through ``context["problems"]``, so that every one of them runs.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True, frozen=True)

    answers: dict[str, Answer]
    menus: dict[str, Menu]
    choices: dict[str, Choice]
    guides: dict[str, Guide]
    broken: frozenset[str] = frozenset()

    def _resolves(self, choice_id: str) -> bool:
        kind, _, rest = choice_id.partition(":")
        if kind == "answer":
            return rest in self.answers or choice_id in self.broken
        if kind == "menu":
            return rest in self.menus or choice_id in self.broken
        return choice_id in self.choices or choice_id in self.broken

    @model_validator(mode="after")
    def related_choices_resolve(self, info: ValidationInfo) -> Tree:
        bad = info.context["problems"].append
        for answer in self.answers.values():
            for choice_id in answer.related:
                if not s.CHOICE_RE.match(choice_id):
                    bad(Problem(answer.file, answer.id, f"related '{choice_id}' is not a choice id "
                                                        "(answer:<id>, menu:<id>, flow:...)"))
                elif not self._resolves(choice_id):
                    bad(Problem(answer.file, answer.id, f"related '{choice_id}' points to nothing"))
                elif choice_id == f"answer:{answer.id}":
                    bad(Problem(answer.file, answer.id, "related points to the answer itself"))
        return self

    @model_validator(mode="after")
    def menu_items_resolve(self, info: ValidationInfo) -> Tree:
        bad = info.context["problems"].append
        for menu in self.menus.values():
            for item in menu.items:
                if not s.CHOICE_RE.match(item.choice_id):
                    bad(Problem(menu.file, menu.id, f"item '{item.choice_id}' is not a choice id"))
                elif not self._resolves(item.choice_id):
                    bad(Problem(menu.file, menu.id, f"item '{item.choice_id}' points to nothing"))
                elif item.choice_id.startswith("answer:") and item.choice_id not in self.broken:
                    target = self.answers[item.choice_id[len("answer:"):]]
                    if not item.countries <= target.countries:
                        bad(Problem(menu.file, menu.id, f"item '{item.choice_id}' is shown in "
                                                        "countries the answer does not cover"))
        return self

    @model_validator(mode="after")
    def menus_fit_whatsapp(self, info: ValidationInfo) -> Tree:
        """Up to 3 items are buttons (titles <= 20), more become a list (<= 10 rows, <= 24)."""
        bad = info.context["problems"].append
        for menu in self.menus.values():
            for country in s.COUNTRIES:
                items = menu.items_for(country)
                if not items:
                    bad(Problem(menu.file, menu.id, f"no item is shown to users in {country}"))
                    continue
                if len(items) > s.MAX_LIST_ROWS:
                    bad(Problem(menu.file, menu.id,
                                f"{len(items)} items shown in {country}; "
                                f"a WhatsApp list has at most {s.MAX_LIST_ROWS} rows"))
                limit = s.BUTTON_TITLE_MAX if len(items) <= s.MAX_BUTTONS else s.LIST_ROW_TITLE_MAX
                kind = "reply button" if limit == s.BUTTON_TITLE_MAX else "list row"
                for item in items:
                    for lang, title in item.titles.items():
                        if len(title) > limit:
                            bad(Problem(menu.file, f"{menu.id}/{item.choice_id}",
                                        f"title.{lang} {title!r} is {len(title)} characters; "
                                        f"a WhatsApp {kind} title has at most {limit} "
                                        f"({len(items)} items in {country})"))
            seen: set[str] = set()
            for item in menu.items:
                if item.choice_id in seen:
                    bad(Problem(menu.file, menu.id, f"item {item.choice_id} is listed twice"))
                seen.add(item.choice_id)
        return self

    @model_validator(mode="after")
    def main_menu_has_four_themes(self, info: ValidationInfo) -> Tree:
        if "main" not in self.menus:
            if "menu:main" not in self.broken:
                info.context["problems"].append(
                    Problem("menus.yml", "main", "the main menu is missing"))
            return self
        items = self.menus["main"].items
        if len(items) != 4 or any(not i.choice_id.startswith("menu:") for i in items):
            info.context["problems"].append(Problem(
                "menus.yml", "main", "the main menu has exactly the four themes (menu:... items)"))
        return self

    @model_validator(mode="after")
    def each_intent_has_one_answer_per_country(self, info: ValidationInfo) -> Tree:
        if any(b.startswith("answer:") for b in self.broken):
            return self  # a broken answer may be the missing one: fix it first
        bad = info.context["problems"].append
        for intent in s.CONTENT_INTENTS:
            found = [a for a in self.answers.values() if intent in a.intents]
            if not found:
                bad(Problem("answers/", intent, f"no answer for intent '{intent}'"))
                continue
            general = [a for a in found if a.countries == frozenset(s.COUNTRIES)]
            if len(general) > 1:
                bad(Problem(general[1].file, general[1].id,
                            f"two answers for all countries on intent '{intent}': "
                            f"{', '.join(a.id for a in general)}"))
            for country in s.COUNTRIES:
                specific = [a for a in found if country in a.countries and a not in general]
                if len(specific) > 1:
                    bad(Problem(specific[1].file, specific[1].id,
                                f"intent '{intent}' has several answers for {country}: "
                                f"{', '.join(a.id for a in specific)}"))
                if not specific and not general:
                    bad(Problem("answers/", intent,
                                f"intent '{intent}' has no answer for {country}"))
        return self

def content_files(root: Path) -> list[Path]:
    """The files this package reads (what the fingerprint covers).

    Other files in content/ (partners.yml, read by bot/store/requests.py) are left out: a
    change of routing must not retrain the NLU model.
    """
    files = [root / "menus.yml"] if (root / "menus.yml").is_file() else []
    for folder in ("answers", "guides"):
        if (root / folder).is_dir():
            files += [p for p in (root / folder).glob("*")
                      if p.is_file() and p.suffix in (".yml", ".yaml")]
    return sorted(files)


def check_content(
    root: str | Path | None = None,
) -> tuple[Content | None, list[Problem], list[Warning_]]:
    """Load and check; return the content (None when there are problems), problems, warnings."""
    root = Path(root) if root is not None else DEFAULT_ROOT
    reader = _Reader(root)
    if not root.is_dir():
        reader.bad(str(root), "", "content directory not found")
        return None, reader.problems, []
    broken: set[str] = set()

    def rel(p: Path) -> str:
        return p.relative_to(root).as_posix()

    answers: dict[str, Answer] = {}
    answer_dir = root / "answers"
    answer_files = sorted(list(answer_dir.glob("*.yml")) + list(answer_dir.glob("*.yaml")))
    if not answer_files:
        reader.bad("answers/", "", "no answer file (answers/*.yml)")
    for path in answer_files:
        data = reader.yaml(path)
        if data is None:
            continue
        if reader.item(AnswerFile, data, rel(path), "") is None:
            continue
        for raw in data["answers"]:
            aid = _item_id(raw)
            model = reader.item(AnswerIn, raw, rel(path), aid)
            if model is None:
                broken.add(f"answer:{aid}")
            elif aid in answers:
                reader.bad(rel(path), aid, f"duplicate answer id (also in {answers[aid].file})")
            else:
                answers[aid] = model.build(rel(path))

    menus: dict[str, Menu] = {}
    choices: dict[str, Choice] = {}
    menu_path = root / "menus.yml"
    data = reader.yaml(menu_path) if menu_path.exists() else None
    if not menu_path.exists():
        reader.bad("menus.yml", "", "file missing")
    elif data is not None and reader.item(MenusFile, data, "menus.yml", "") is not None:
        for raw in data["menus"]:
            mid = _item_id(raw)
            menu = reader.item(MenuIn, raw, "menus.yml", mid)
            if menu is None:
                broken.add(f"menu:{mid}")
            elif mid in menus:
                reader.bad("menus.yml", mid, "duplicate menu id")
            else:
                menus[mid] = menu.build("menus.yml")
        for raw in data.get("choices") or []:
            cid = _item_id(raw)
            choice = reader.item(ChoiceIn, raw, "menus.yml", cid)
            if choice is None:
                broken.add(cid)
            elif cid in choices:
                reader.bad("menus.yml", cid, "duplicate choice id")
            else:
                choices[cid] = choice.build()

    guides: dict[str, Guide] = {}
    for path in sorted((root / "guides").glob("*.yml")) if (root / "guides").is_dir() else []:
        data = reader.yaml(path)
        if data is None:
            continue
        guide = reader.item(GuideIn, data, rel(path), _item_id(data))
        if guide is None:
            continue
        if guide.id in guides:
            reader.bad(rel(path), guide.id, "duplicate guide id")
            continue
        guides[guide.id] = guide.build(rel(path))

    Tree.model_validate({"answers": answers, "menus": menus, "choices": choices, "guides": guides,
                         "broken": broken}, context={"problems": reader.problems})
    warnings = [Warning_(a.file, a.id, f"number {c.number} has never been checked by a partner")
                for a in answers.values() for c in a.contacts if c.last_checked is None]
    if reader.problems:
        return None, reader.problems, warnings
    files = content_files(root)
    content = Content(root=root, answers=answers, menus=menus, choices=choices, guides=guides,
                      files=tuple(rel(p) for p in files),
                      _fingerprint=fingerprint_files(root, files))
    return content, [], warnings

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
