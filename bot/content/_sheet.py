"""Review spreadsheet: export every translatable text, import edits back into the YAML.

One row per (item, field, language). Import writes only the files whose text changed, through
ruamel.yaml's round-trip mode so comments, key order and block styles stay as the partner
left them. Nothing is written unless the edited content passes the full check.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.scalarstring import FoldedScalarString, LiteralScalarString

from . import _schema as s
from ._load import DEFAULT_ROOT, ContentError, check_content

COLUMNS = ("id", "kind", "field", "language", "french_source", "text", "status",
           "review_status", "review_org", "review_date")
SHEET_NAME = "content"


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096  # never re-wrap a partner's long lines
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.representer.add_representer(  # write "null" as the files do, not an empty value
        type(None), lambda rep, _: rep.represent_scalar("tag:yaml.org,2002:null", "null"))
    return yaml


def _clean(value: Any) -> str:
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
class _Unit:
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


class _LocalizedUnit(_Unit):
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
            text = _clean(value.get("text"))
            return (text, value.get("status") or "draft") if text else None
        text = _clean(value)
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


class _AnswerTextUnit(_Unit):
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
        text = _clean(entry.get(self.field))
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


class _CaveatUnit(_Unit):
    langs = (s.DEFAULT_LANGUAGE,)

    def __init__(self, answer: Any, *args: Any, **kw: Any):
        super().__init__(*args, **kw)
        self.answer = answer

    def get(self, lang: str) -> tuple[str, str] | None:
        text = _clean(self.answer.get("caveat"))
        return (text, "draft") if text else None

    def set(self, lang: str, text: str, status: str) -> None:
        old = self.answer.get("caveat")
        if "caveat" in self.answer:
            self.answer["caveat"] = _styled(text, old)
        else:
            position = list(self.answer.keys()).index("sources") if "sources" in self.answer else len(self.answer)
            self.answer.insert(position, "caveat", _styled(text))

    def remove(self, lang: str) -> None:
        self.answer.pop("caveat", None)


@dataclass
class _Workspace:
    """The content files loaded in round-trip mode, with their units."""

    root: Path
    docs: dict[str, Any] = field(default_factory=dict)
    originals: dict[str, str] = field(default_factory=dict)
    units: list[_Unit] = field(default_factory=list)

    @classmethod
    def open(cls, root: Path) -> _Workspace:
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
            ws.units.extend(_units_of(rel, doc))
        return ws

    def find(self) -> dict[tuple[str, str, str], _Unit]:
        return {(u.kind, u.item_id, u.field): u for u in self.units}

    def dump(self, rel: str) -> str:
        out = io.StringIO()
        _yaml().dump(self.docs[rel], out)
        return out.getvalue()


def _units_of(rel: str, doc: Any) -> Iterator[_Unit]:
    if rel.startswith("answers/"):
        for a in doc.get("answers") or []:
            aid, review = str(a.get("id")), a.get("review")
            yield _LocalizedUnit(a, "title", rel, "answer", aid, "title", review)
            yield _AnswerTextUnit(a, rel, "answer", aid, "short", review)
            yield _AnswerTextUnit(a, rel, "answer", aid, "more", review)
            yield _CaveatUnit(a, rel, "answer", aid, "caveat", review)
    elif rel == "menus.yml":
        for m in doc.get("menus") or []:
            mid = str(m.get("id"))
            yield _LocalizedUnit(m, "title", rel, "menu", mid, "title")
            yield _LocalizedUnit(m, "text", rel, "menu", mid, "text")
            for item in m.get("items") or []:
                yield _LocalizedUnit(item, "title", rel, "menu", mid, f"item:{item.get('choice')}")
        for c in doc.get("choices") or []:
            yield _LocalizedUnit(c, "title", rel, "choice", str(c.get("id")), "title")
    elif rel.startswith("guides/"):
        gid, review = str(doc.get("id")), doc.get("review")
        for key in ("title", "intro", "question"):
            yield _LocalizedUnit(doc, key, rel, "guide", gid, key, review)
        for opt in doc.get("options") or []:
            oid = opt.get("id")
            yield _LocalizedUnit(opt, "title", rel, "guide", gid, f"option:{oid}:title", review)
            yield _LocalizedUnit(opt, "text", rel, "guide", gid, f"option:{oid}:text", review)
            for step in opt.get("steps") or []:
                sid = step.get("id")
                yield _LocalizedUnit(step, "title", rel, "guide", gid, f"step:{sid}:title", review)
                yield _LocalizedUnit(step, "text", rel, "guide", gid, f"step:{sid}:text", review)
                for d in step.get("documents") or []:
                    yield _LocalizedUnit(d, "title", rel, "guide", gid, f"document:{d.get('id')}:title", review)


def _review_cells(review: Any) -> tuple[str, str, str]:
    if not isinstance(review, dict):
        return "", "", ""
    return (_clean(review.get("status")), _clean(review.get("organisation")), _clean(review.get("date")))


# -- export -------------------------------------------------------------------------------
def sheet_rows(root: str | Path | None = None) -> list[dict[str, str]]:
    """The rows of the review sheet, in file order (every language, even empty ones)."""
    root = Path(root) if root is not None else DEFAULT_ROOT
    content, problems, _ = check_content(root)
    if problems:
        raise ContentError(problems)  # never hand reviewers a sheet of broken content
    rows = []
    for unit in _Workspace.open(root).units:
        french = unit.get(s.DEFAULT_LANGUAGE)
        if unit.field == "more" and french is None:
            continue  # no continuation to translate
        review_status, review_org, review_date = _review_cells(unit.review)
        for lang in unit.langs:
            found = unit.get(lang)
            rows.append({
                "id": unit.item_id, "kind": unit.kind, "field": unit.field, "language": lang,
                "french_source": french[0] if french else "",
                "text": found[0] if found else "", "status": found[1] if found else "draft",
                "review_status": review_status, "review_org": review_org,
                "review_date": review_date,
            })
    return rows


def export_sheet(path: str | Path, root: str | Path | None = None) -> int:
    """Write the review sheet to ``path`` (.xlsx or .csv); return the number of rows."""
    path = Path(path)
    rows = sheet_rows(root)
    if path.suffix.lower() == ".csv":
        with path.open("w", encoding="utf-8-sig", newline="") as fh:  # BOM: Excel reads UTF-8
            writer = csv.DictWriter(fh, fieldnames=COLUMNS)
            writer.writeheader()
            writer.writerows(rows)
        return len(rows)
    if path.suffix.lower() != ".xlsx":
        raise ValueError(f"{path}: export to .xlsx or .csv")
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.worksheet.datavalidation import DataValidation

    wb = Workbook()
    ws = wb.active
    ws.title = SHEET_NAME
    ws.append(list(COLUMNS))
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in rows:
        ws.append([row[c] for c in COLUMNS])
    widths = {"id": 22, "kind": 8, "field": 22, "language": 9, "french_source": 60, "text": 60,
              "status": 10, "review_status": 13, "review_org": 20, "review_date": 12}
    for n, name in enumerate(COLUMNS, start=1):
        ws.column_dimensions[ws.cell(row=1, column=n).column_letter].width = widths[name]
    wrap = Alignment(wrap_text=True, vertical="top")
    for column in ("E", "F"):  # the long texts: french_source, text
        for cell in ws[column][1:]:
            cell.alignment = wrap
    ws.freeze_panes = "A2"
    last = len(rows) + 1
    status = DataValidation(type="list", formula1='"draft,reviewed"', allow_blank=True)
    review = DataValidation(type="list", formula1=f'"{",".join(s.REVIEW_STATUSES)}"', allow_blank=True)
    ws.add_data_validation(status)
    ws.add_data_validation(review)
    status.add(f"G2:G{last}")
    review.add(f"H2:H{last}")
    help_ws = wb.create_sheet("how_to")
    for line in _HELP:
        help_ws.append([line])
    help_ws.column_dimensions["A"].width = 110
    wb.save(path)
    return len(rows)


_HELP = [
    "How to edit this sheet (see docs/CONTENT.md)",
    "Edit only the columns text, status, review_status, review_org, review_date.",
    "text: the text in that language. Leave it empty when there is no translation.",
    "status: draft, or reviewed once a native speaker / the partner has checked this exact text.",
    "review_status (answers, guide): draft | to_verify | reviewed; review_org: the partner; "
    "review_date: YYYY-MM-DD. Give the same values on every row of an item.",
    "Limits: short texts 600 characters; button titles 20; list rows 24. The import refuses "
    "anything over the limits and writes nothing.",
    "Do not change the columns id, kind, field, language or french_source.",
]


# -- import -------------------------------------------------------------------------------
def read_sheet(path: str | Path) -> list[dict[str, str]]:
    path = Path(path)
    if path.suffix.lower() == ".csv":
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                raise ValueError(f"{path}: missing column(s) {', '.join(missing)}")
            return [{c: _clean(row.get(c)) for c in COLUMNS} for row in reader]
    if path.suffix.lower() != ".xlsx":
        raise ValueError(f"{path}: import from .xlsx or .csv")
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True, data_only=True)
    ws = wb[SHEET_NAME] if SHEET_NAME in wb.sheetnames else wb.worksheets[0]
    rows = ws.iter_rows(values_only=True)
    header = [_clean(h) for h in next(rows, ())]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise ValueError(f"{path}: missing column(s) {', '.join(missing)}")
    out = []
    for values in rows:
        if values is None or all(v is None for v in values):
            continue
        row = dict(zip(header, values))
        out.append({c: _clean(row.get(c)) for c in COLUMNS})
    wb.close()
    return out


def import_sheet(path: str | Path, root: str | Path | None = None) -> list[str]:
    """Apply the sheet's edits to the YAML; return the files changed.

    A row whose text differs from the file replaces it with the row's status (draft unless
    the sheet says reviewed); an unchanged text takes the row's status. Nothing is written
    unless every edit is valid and the result passes the content check.
    """
    root = Path(root) if root is not None else DEFAULT_ROOT
    rows = read_sheet(path)
    ws = _Workspace.open(root)
    units = ws.find()
    errors: list[str] = []
    dirty: set[str] = set()
    reviews: dict[tuple[str, str], set[tuple[str, str, str]]] = {}
    text_status: dict[tuple[int, str], list[str]] = {}  # one status for short and more

    for n, row in enumerate(rows, start=2):
        key = (row["kind"], row["id"], row["field"])
        unit = units.get(key)
        where = f"row {n} ({row['kind']} {row['id']} {row['field']} {row['language']})"
        if unit is None:
            errors.append(f"{where}: no such item/field in the content")
            continue
        lang = row["language"]
        if lang not in unit.langs:
            errors.append(f"{where}: language must be one of {', '.join(unit.langs)}")
            continue
        status = row["status"] or "draft"
        if status not in s.TEXT_STATUSES:
            errors.append(f"{where}: status must be draft or reviewed, not {status!r}")
            continue
        if unit.review is not None and any(row[c] for c in ("review_status", "review_org", "review_date")):
            reviews.setdefault((unit.file, unit.item_id), set()).add(
                (row["review_status"], row["review_org"], row["review_date"]))
        old = unit.get(lang)
        new_text = row["text"]
        if not new_text:
            if old is None:
                continue
            if lang == s.DEFAULT_LANGUAGE and unit.field not in ("more", "caveat"):
                errors.append(f"{where}: the French text cannot be emptied")
                continue
            unit.remove(lang)
            dirty.add(unit.file)
            continue
        if isinstance(unit, _AnswerTextUnit):
            text_status.setdefault((id(unit.answer), lang), []).append(status)
        if old is not None and old[0] == new_text and old[1] == status:
            continue
        if old is not None and old[0] == new_text and isinstance(unit, _CaveatUnit):
            continue  # a caveat has no status of its own
        unit.set(lang, new_text, status)
        dirty.add(unit.file)

    # short and more share one status per language: reviewed only when every row says so
    for unit in ws.units:
        if isinstance(unit, _AnswerTextUnit) and unit.field == "short":
            for lang in s.LANGUAGES:
                statuses = text_status.get((id(unit.answer), lang))
                entry = (unit.answer.get("text") or {}).get(lang)
                if not statuses or not isinstance(entry, dict):
                    continue
                wanted = "reviewed" if all(x == "reviewed" for x in statuses) else "draft"
                if entry.get("status") != wanted:
                    entry["status"] = wanted
                    dirty.add(unit.file)

    reviewed_items = {(u.file, u.item_id): u.review for u in ws.units if u.review is not None}
    for (file, item_id), values in reviews.items():
        if len(values) > 1:
            errors.append(f"{item_id}: the rows give different review values {sorted(values)}")
            continue
        status, org, date = next(iter(values))
        review = reviewed_items[(file, item_id)]
        if (status, org, date) != _review_cells(review):
            review["status"] = status or "draft"
            review["organisation"] = org
            review["date"] = date or None
            dirty.add(file)

    if errors:
        raise ValueError(f"{len(errors)} problem(s) in the sheet:\n" + "\n".join(f"  - {e}" for e in errors))
    if not dirty:
        return []

    outputs = {rel: ws.dump(rel) for rel in sorted(dirty)}
    outputs = {rel: text for rel, text in outputs.items() if text != ws.originals[rel]}
    # Check the edited content as a whole before touching the real files.
    with tempfile.TemporaryDirectory() as tmp:
        trial = Path(tmp) / "content"
        shutil.copytree(root, trial)
        for rel, text in outputs.items():
            (trial / rel).write_text(text, encoding="utf-8")
        _, problems, _ = check_content(trial)
        if problems:
            raise ContentError(problems)
    for rel, text in outputs.items():
        (root / rel).write_text(text, encoding="utf-8")
    return sorted(outputs)
