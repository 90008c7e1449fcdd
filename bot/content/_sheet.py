"""Review spreadsheet: export every translatable text, import edits back into the YAML.

One row per (item, field, language). Import writes only the files whose text changed, through
ruamel.yaml's round-trip mode so comments, key order and block styles stay as the partner
left them. Nothing is written unless the edited content passes the full check.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from ..sheets import read_table, write_table
from . import _schema as s
from ._load import DEFAULT_ROOT, ContentError, check_content
from ._units import AnswerTextUnit, CaveatUnit, Workspace, clean, review_cells

COLUMNS = ("id", "kind", "field", "language", "french_source", "text", "status",
           "review_status", "review_org", "review_date")
SHEET_NAME = "content"


# -- export -------------------------------------------------------------------------------
def sheet_rows(root: str | Path | None = None) -> list[dict[str, str]]:
    """The rows of the review sheet, in file order (every language, even empty ones)."""
    root = Path(root) if root is not None else DEFAULT_ROOT
    content, problems, _ = check_content(root)
    if problems:
        raise ContentError(problems)  # never hand reviewers a sheet of broken content
    rows = []
    for unit in Workspace.open(root).units:
        french = unit.get(s.DEFAULT_LANGUAGE)
        if unit.field == "more" and french is None:
            continue  # no continuation to translate
        review_status, review_org, review_date = review_cells(unit.review)
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
    return write_table(
        path, COLUMNS, sheet_rows(root), title=SHEET_NAME, widths=_WIDTHS,
        wrap=("french_source", "text"), notes={"how_to": _HELP},
        choices={"status": s.TEXT_STATUSES, "review_status": s.REVIEW_STATUSES})


_WIDTHS = {"id": 22, "kind": 8, "field": 22, "language": 9, "french_source": 60, "text": 60,
           "status": 10, "review_status": 13, "review_org": 20, "review_date": 12}
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
    table = read_table(path, SHEET_NAME)
    header = [clean(h) for h in (table[0] if table else [])]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise ValueError(f"{path}: missing column(s) {', '.join(missing)}")
    out = []
    for values in table[1:]:
        if all(v is None or v == "" for v in values):
            continue
        row = dict(zip(header, values, strict=False))
        out.append({c: clean(row.get(c)) for c in COLUMNS})
    return out


def import_sheet(path: str | Path, root: str | Path | None = None) -> list[str]:
    """Apply the sheet's edits to the YAML; return the files changed.

    A row whose text differs from the file replaces it with the row's status (draft unless
    the sheet says reviewed); an unchanged text takes the row's status. Nothing is written
    unless every edit is valid and the result passes the content check.
    """
    root = Path(root) if root is not None else DEFAULT_ROOT
    rows = read_sheet(path)
    ws = Workspace.open(root)
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
        review_columns = ("review_status", "review_org", "review_date")
        if unit.review is not None and any(row[c] for c in review_columns):
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
        if isinstance(unit, AnswerTextUnit):
            text_status.setdefault((id(unit.answer), lang), []).append(status)
        if old is not None and old[0] == new_text and old[1] == status:
            continue
        if old is not None and old[0] == new_text and isinstance(unit, CaveatUnit):
            continue  # a caveat has no status of its own
        unit.set(lang, new_text, status)
        dirty.add(unit.file)

    # short and more share one status per language: reviewed only when every row says so
    for unit in ws.units:
        if isinstance(unit, AnswerTextUnit) and unit.field == "short":
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
        if (status, org, date) != review_cells(review):
            review["status"] = status or "draft"
            review["organisation"] = org
            review["date"] = date or None
            dirty.add(file)

    if errors:
        raise ValueError(f"{len(errors)} problem(s) in the sheet:\n"
                         + "\n".join(f"  - {e}" for e in errors))
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
