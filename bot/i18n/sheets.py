"""Spreadsheet round trip for translators: ``make translations-export`` / ``-import``.

One row per message per language:

    language | msgid (French source) | text | status | msgid_plural | text_plural | notes

``text_plural`` is used only by plural messages in languages with two forms (fr, ff);
``notes`` (where the string is used, comments for translators) is ignored on import.
Import checks the whole sheet first and writes nothing if any row is wrong.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from pathlib import Path

from bot.i18n.catalogues import (
    DRAFT,
    STATUSES,
    Catalogues,
    get_status,
    iter_messages,
    message_forms,
    placeholder_problems,
    set_status,
    source_label,
)
from bot.i18n.languages import LANGUAGES
from bot.sheets import SheetFormatError, read_table, write_table

COLUMNS = ("language", "msgid", "text", "status", "msgid_plural", "text_plural", "notes")
_REQUIRED = ("language", "msgid", "text", "status")
_SHEET_TITLE = "translations"


class ImportRefused(Exception):
    """The sheet has errors; nothing was written. ``errors`` lists them by sheet row."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = errors
        super().__init__("Import refused, no file was changed:\n"
                         + "\n".join(f"  {error}" for error in errors))


@dataclass
class _Row:
    number: int  # as shown by the spreadsheet program (the header is row 1)
    language: str
    msgid: str
    text: str
    status: str
    msgid_plural: str
    text_plural: str


# --- export ---------------------------------------------------------------------------------

def export_rows(catalogues: Catalogues) -> list[dict[str, str]]:
    rows = []
    for language in LANGUAGES:
        catalogue = catalogues.read(language)
        for message in iter_messages(catalogue):
            plural = not isinstance(message.id, str)
            forms = message_forms(message)
            notes = list(message.auto_comments)
            locations = sorted({filename for filename, _ in message.locations})
            if locations:
                notes.append("used in: " + ", ".join(locations))
            rows.append({
                "language": language,
                "msgid": message.id[0] if plural else message.id,
                "text": forms[0] if forms else "",
                "status": get_status(message),
                "msgid_plural": message.id[1] if plural else "",
                "text_plural": forms[1] if plural and len(forms) > 1 else "",
                "notes": "\n".join(notes),
            })
    return rows


def export_sheet(catalogues: Catalogues, path: str | Path) -> int:
    """Write every message of every language to ``path`` (.xlsx or .csv); returns row count."""
    return write_table(path, COLUMNS, export_rows(catalogues), title=_SHEET_TITLE,
                       widths=_WIDTHS, wrap=COLUMNS, choices={"status": STATUSES}, freeze="C2")


_WIDTHS = {"language": 10, "msgid": 50, "text": 50, "status": 11, "msgid_plural": 30,
           "text_plural": 30, "notes": 40}


# --- import ---------------------------------------------------------------------------------

def read_rows(path: str | Path) -> list[_Row]:
    try:
        table = read_table(path, _SHEET_TITLE)
    except SheetFormatError as exc:
        raise ImportRefused([str(exc)]) from None
    if not table:
        raise ImportRefused([f"{path}: the sheet is empty"])
    header = [_cell(value).strip().lower() for value in table[0]]
    missing = [column for column in _REQUIRED if column not in header]
    if missing:
        raise ImportRefused([f"row 1: missing column(s) {', '.join(missing)}; expected "
                             f"{', '.join(COLUMNS)}"])
    index = {column: header.index(column) for column in COLUMNS if column in header}

    def get(values: list, column: str) -> str:
        position = index.get(column)
        return _cell(values[position]) if position is not None and position < len(values) else ""

    rows = []
    for number, values in enumerate(table[1:], start=2):
        if not any(_cell(value).strip() for value in values):
            continue  # blank line
        rows.append(_Row(number, get(values, "language").strip(), get(values, "msgid"),
                         get(values, "text"), get(values, "status").strip().lower(),
                         get(values, "msgid_plural"), get(values, "text_plural")))
    return rows


def import_sheet(catalogues: Catalogues, path: str | Path) -> dict[str, int]:
    """Check the sheet at ``path`` and write its translations into the .po files.

    Refuses the whole sheet (ImportRefused, nothing written) on: unknown language, a msgid
    that is not in the catalogue, the same message twice, a bad status, plural forms that do
    not fit the language, or placeholders ({name}, %(n)s, %s...) that differ from the French.
    Rows left out of the sheet keep their current translation. Changed languages are
    compiled. Returns the number of changed entries per changed language.
    """
    rows = read_rows(path)
    catalogues_by_language = {language: catalogues.read(language) for language in LANGUAGES}
    errors: list[str] = []
    seen: set[tuple[str, str]] = set()
    planned: list[tuple[_Row, object, tuple[str, ...], str]] = []
    for row in rows:
        where = f"row {row.number} ({row.language or '?'})"
        if row.language not in LANGUAGES:
            errors.append(f"{where}: unknown language {row.language!r}; use one of "
                          f"{', '.join(LANGUAGES)}")
            continue
        catalogue = catalogues_by_language[row.language]
        message = catalogue.get(row.msgid) if row.msgid else None
        if message is None:
            errors.append(f"{where}: unknown msgid «{row.msgid}» (the French text must be "
                          f"copied exactly as exported; run `make extract update` first if "
                          f"the string is new)")
            continue
        key = (row.language, row.msgid)
        if key in seen:
            errors.append(f"{where}: «{row.msgid}» appears twice for this language")
            continue
        seen.add(key)
        label = f"{where} {source_label(message)}"
        status = row.status or DRAFT
        if status not in STATUSES:
            errors.append(f"{label}: status {row.status!r} must be one of {', '.join(STATUSES)}")
            continue
        text, text_plural = _clean(row.text), _clean(row.text_plural)
        if isinstance(message.id, str):
            if text_plural:
                errors.append(f"{label}: this message has no plural; leave text_plural empty")
                continue
            forms: tuple[str, ...] = (text,)
        else:
            if row.msgid_plural and row.msgid_plural != message.id[1]:
                errors.append(f"{label}: msgid_plural does not match «{message.id[1]}»")
                continue
            if catalogue.num_plurals == 1:
                if text_plural:
                    errors.append(f"{label}: {LANGUAGES[row.language]} uses one form for "
                                  f"every number; put it in text and leave text_plural empty")
                    continue
                forms = (text,)
            else:
                if bool(text) != bool(text_plural):
                    errors.append(f"{label}: fill both text (singular) and text_plural, or "
                                  f"neither")
                    continue
                forms = (text, text_plural)
        source = message.id if isinstance(message.id, str) else tuple(message.id)
        for problem in placeholder_problems(source, forms):
            errors.append(f"{label}: {problem}")
        planned.append((row, message, forms, status))
    if errors:
        raise ImportRefused(errors)

    changed: dict[str, int] = {}
    for row, message, forms, status in planned:
        new_string = forms[0] if isinstance(message.id, str) else forms
        if message.string == new_string and get_status(message) == status:
            continue
        message.string = new_string
        set_status(message, status)
        changed[row.language] = changed.get(row.language, 0) + 1
    for language in changed:
        catalogue = catalogues_by_language[language]
        catalogue.revision_date = datetime.datetime.now(datetime.timezone.utc)
        catalogues.write(language, catalogue)
    if changed:
        catalogues.compile(changed)
    return changed


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _clean(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")
