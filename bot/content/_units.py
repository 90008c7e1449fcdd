"""The translatable fields of the content files, read and written in ruamel.yaml's round-trip
mode so that comments, key order and block styles stay as the partner left them.

One unit is one field of one item (an answer's title, a menu item's title, a guide step's
text...) in every language; the review sheet (``_sheet.py``) has one row per unit and language.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.scalarstring import FoldedScalarString, LiteralScalarString

from . import _schema as s


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096  # never re-wrap a partner's long lines
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.representer.add_representer(  # write "null" as the files do, not an empty value
        type(None), lambda rep, _: rep.represent_scalar("tag:yaml.org,2002:null", "null"))
    return yaml


def clean(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (dt.datetime, dt.date)):
        return value.strftime("%Y-%m-%d")
    return str(value).replace("\r\n", "\n").replace("\r", "\n").strip()


def _styled(text: str, old: Any = None) -> Any:
    """Keep the old scalar's style; multi-line text always becomes a literal block."""
    if "\n" in text:
        return LiteralScalarString(text)
    if isinstance(old, FoldedScalarString):
        return FoldedScalarString(text)
    if isinstance(old, LiteralScalarString):
        return LiteralScalarString(text)
    return text


# -- translatable units -------------------------------------------------------------------
class Unit:
    """One translatable field of one item; knows how to read and write each language."""

    langs: tuple[str, ...] = s.LANGUAGES

    def __init__(self, file: str, kind: str, item_id: str, field_name: str, review: Any = None):
        self.file, self.kind, self.item_id, self.field = file, kind, item_id, field_name
        self.review = review  # the item's review mapping (answers, guides), if any

    def get(self, lang: str) -> tuple[str, str] | None:  # (text, status)
        raise NotImplementedError

    def set(self, lang: str, text: str, status: str) -> None:
        raise NotImplementedError

    def remove(self, lang: str) -> None:
        raise NotImplementedError


class LocalizedUnit(Unit):
    """``{fr: "...", bm: {text: "...", status: draft}}`` under ``parent[key]``."""

    def __init__(self, parent: Any, key: str, *args: Any, **kw: Any):
        super().__init__(*args, **kw)
        self.parent, self.key = parent, key

    @property
    def container(self) -> Any:
        if not isinstance(self.parent.get(self.key), dict):
            self.parent[self.key] = CommentedMap()
        return self.parent[self.key]

    def get(self, lang: str) -> tuple[str, str] | None:
        value = (self.parent.get(self.key) or {}).get(lang)
        if isinstance(value, dict):
            text = clean(value.get("text"))
            return (text, value.get("status") or "draft") if text else None
        text = clean(value)
        return (text, "draft") if text else None

    def set(self, lang: str, text: str, status: str) -> None:
        container = self.container
        old = container.get(lang)
        uses_mappings = any(isinstance(v, dict) for v in container.values())
        if isinstance(old, dict):
            old["text"] = _styled(text, old.get("text"))
            old["status"] = status
        elif status == "draft" and not uses_mappings:
            container[lang] = _styled(text, old)
        else:
            container[lang] = CommentedMap([("text", _styled(text, old)), ("status", status)])

    def remove(self, lang: str) -> None:
        self.container.pop(lang, None)


class AnswerTextUnit(Unit):
    """``text: {fr: {short, more, status}}``: one unit for ``short``, one for ``more``."""

    def __init__(self, answer: Any, *args: Any, **kw: Any):
        super().__init__(*args, **kw)
        self.answer = answer

    @property
    def texts(self) -> Any:
        if not isinstance(self.answer.get("text"), dict):
            self.answer["text"] = CommentedMap()
        return self.answer["text"]

    def get(self, lang: str) -> tuple[str, str] | None:
        entry = (self.answer.get("text") or {}).get(lang)
        if not isinstance(entry, dict):
            return None
        text = clean(entry.get(self.field))
        return (text, entry.get("status") or "draft") if text else None

    def set(self, lang: str, text: str, status: str) -> None:
        entry = self.texts.get(lang)
        if not isinstance(entry, dict):
            entry = CommentedMap([("short", ""), ("status", status)])
            self.texts[lang] = entry
        if self.field in entry:
            entry[self.field] = _styled(text, entry[self.field])
        else:  # keep the order short, more, status
            position = list(entry.keys()).index("status") if "status" in entry else len(entry)
            entry.insert(position, self.field, _styled(text))
        entry["status"] = status

    def remove(self, lang: str) -> None:
        entry = self.texts.get(lang)
        if not isinstance(entry, dict):
            return
        if self.field == "short":
            del self.texts[lang]  # a continuation without its first screen means nothing
        else:
            entry.pop(self.field, None)


class CaveatUnit(Unit):
    langs = (s.DEFAULT_LANGUAGE,)

    def __init__(self, answer: Any, *args: Any, **kw: Any):
        super().__init__(*args, **kw)
        self.answer = answer

    def get(self, lang: str) -> tuple[str, str] | None:
        text = clean(self.answer.get("caveat"))
        return (text, "draft") if text else None

    def set(self, lang: str, text: str, status: str) -> None:
        old = self.answer.get("caveat")
        if "caveat" in self.answer:
            self.answer["caveat"] = _styled(text, old)
        else:
            keys = list(self.answer.keys())
            position = keys.index("sources") if "sources" in keys else len(keys)
            self.answer.insert(position, "caveat", _styled(text))

    def remove(self, lang: str) -> None:
        self.answer.pop("caveat", None)


@dataclass
class Workspace:
    """The content files loaded in round-trip mode, with their units."""

    root: Path
    docs: dict[str, Any] = field(default_factory=dict)
    originals: dict[str, str] = field(default_factory=dict)
    units: list[Unit] = field(default_factory=list)

    @classmethod
    def open(cls, root: Path) -> Workspace:
        ws = cls(root)
        yaml = _yaml()
        paths = sorted((root / "answers").glob("*.yml")) + [root / "menus.yml"] + sorted(
            (root / "guides").glob("*.yml"))
        for path in paths:
            rel = path.relative_to(root).as_posix()
            text = path.read_text(encoding="utf-8")
            ws.originals[rel] = text
            ws.docs[rel] = yaml.load(text)
        for rel, doc in ws.docs.items():
            ws.units.extend(units_of(rel, doc))
        return ws

    def find(self) -> dict[tuple[str, str, str], Unit]:
        return {(u.kind, u.item_id, u.field): u for u in self.units}

    def dump(self, rel: str) -> str:
        out = io.StringIO()
        _yaml().dump(self.docs[rel], out)
        return out.getvalue()


def units_of(rel: str, doc: Any) -> Iterator[Unit]:
    if rel.startswith("answers/"):
        for a in doc.get("answers") or []:
            aid, review = str(a.get("id")), a.get("review")
            yield LocalizedUnit(a, "title", rel, "answer", aid, "title", review)
            yield AnswerTextUnit(a, rel, "answer", aid, "short", review)
            yield AnswerTextUnit(a, rel, "answer", aid, "more", review)
            yield CaveatUnit(a, rel, "answer", aid, "caveat", review)
    elif rel == "menus.yml":
        for m in doc.get("menus") or []:
            mid = str(m.get("id"))
            yield LocalizedUnit(m, "title", rel, "menu", mid, "title")
            yield LocalizedUnit(m, "text", rel, "menu", mid, "text")
            for item in m.get("items") or []:
                yield LocalizedUnit(item, "title", rel, "menu", mid, f"item:{item.get('choice')}")
        for c in doc.get("choices") or []:
            yield LocalizedUnit(c, "title", rel, "choice", str(c.get("id")), "title")
    elif rel.startswith("guides/"):
        gid, review = str(doc.get("id")), doc.get("review")
        for key in ("title", "intro", "question"):
            yield LocalizedUnit(doc, key, rel, "guide", gid, key, review)
        for opt in doc.get("options") or []:
            oid = opt.get("id")
            yield LocalizedUnit(opt, "title", rel, "guide", gid, f"option:{oid}:title", review)
            yield LocalizedUnit(opt, "text", rel, "guide", gid, f"option:{oid}:text", review)
            for step in opt.get("steps") or []:
                sid = step.get("id")
                yield LocalizedUnit(step, "title", rel, "guide", gid, f"step:{sid}:title", review)
                yield LocalizedUnit(step, "text", rel, "guide", gid, f"step:{sid}:text", review)
                for d in step.get("documents") or []:
                    yield LocalizedUnit(d, "title", rel, "guide", gid,
                                        f"document:{d.get('id')}:title", review)


def review_cells(review: Any) -> tuple[str, str, str]:
    if not isinstance(review, dict):
        return "", "", ""
    return (clean(review.get("status")), clean(review.get("organisation")),
            clean(review.get("date")))
