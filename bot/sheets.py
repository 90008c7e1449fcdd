"""Spreadsheets that people edit and send back: one writer and one reader for all of them.

The content review sheet (``python -m bot.content export``), the translators' sheet
(``python -m bot.i18n export``) and the dashboard's export write through ``write_table``:

- every data cell is text: "01" stays "01" and "=HYPERLINK(...)" stays literal text, never a
  number or a formula (a miner's or a partner's text must not run in someone's Excel);
- a bold, frozen header, column widths, wrapped long texts, a filter, and drop-down lists for
  columns with a closed set of values;
- .csv in UTF-8 with a BOM, so that Excel and LibreOffice read ɛ, ɔ, ŋ correctly.

openpyxl is imported only when a .xlsx file is read or written.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

SUFFIXES = (".xlsx", ".csv")


class SheetFormatError(ValueError):
    """The file is neither .xlsx nor .csv."""


def sheet_format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise SheetFormatError(f"{path}: use a .xlsx or .csv file")
    return suffix


def column_letter(index: int) -> str:
    """The letter of the column at ``index`` (0 for A)."""
    from openpyxl.utils import get_column_letter

    return get_column_letter(index + 1)


def write_table(
    path: str | Path,
    columns: Sequence[str],
    rows: Iterable[Mapping[str, Any]],
    *,
    title: str,
    widths: Mapping[str, float] | None = None,
    wrap: Iterable[str] = (),
    choices: Mapping[str, Sequence[str]] | None = None,
    freeze: str = "A2",
    notes: Mapping[str, Sequence[str]] | None = None,
) -> int:
    """Write ``rows`` (mappings keyed by ``columns``) to ``path``; return the number of rows.

    .xlsx only: ``widths`` per column, ``wrap`` the columns of long texts, ``choices`` the
    allowed values of a column (a drop-down list), ``freeze`` the first cell that scrolls,
    ``notes`` extra sheets of one column of lines (a how-to), by title.
    """
    path = Path(path)
    table = [["" if row.get(c) is None else str(row.get(c)) for c in columns] for row in rows]
    if sheet_format(path) == ".csv":
        with path.open("w", encoding="utf-8-sig", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(columns)
            writer.writerows(table)
        return len(table)

    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.worksheet.datavalidation import DataValidation

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title
    sheet.append(list(columns))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for values in table:
        sheet.append(values)
    wrapped = {columns.index(c) for c in wrap}
    top = Alignment(vertical="top")
    folded = Alignment(wrap_text=True, vertical="top")
    for cells in sheet.iter_rows(min_row=2):
        for index, cell in enumerate(cells):
            cell.data_type = "s"  # text stays text: no formula from "=...", no number from "01"
            cell.number_format = "@"
            cell.alignment = folded if index in wrapped else top
    for column, width in (widths or {}).items():
        sheet.column_dimensions[column_letter(columns.index(column))].width = width
    sheet.freeze_panes = freeze
    sheet.auto_filter.ref = sheet.dimensions
    for column, allowed in (choices or {}).items():
        letter = column_letter(columns.index(column))
        validation = DataValidation(type="list", formula1='"' + ",".join(allowed) + '"',
                                    allow_blank=True)
        validation.add(f"{letter}2:{letter}{max(len(table), 1) + 1}")
        sheet.add_data_validation(validation)
    for name, lines in (notes or {}).items():
        extra = workbook.create_sheet(name)
        for line in lines:
            extra.append([line])
        extra.column_dimensions["A"].width = 110
    workbook.save(path)
    return len(table)


def read_table(path: str | Path, title: str) -> list[list[Any]]:
    """The rows of ``path`` (the sheet named ``title``, else the first), header included.

    Cells come as read (None for an empty .xlsx cell); callers clean them.
    """
    path = Path(path)
    if sheet_format(path) == ".csv":
        with path.open(encoding="utf-8-sig", newline="") as fh:
            return [list(row) for row in csv.reader(fh)]
    from openpyxl import load_workbook

    workbook = load_workbook(path, read_only=True, data_only=True)
    try:
        sheet = workbook[title] if title in workbook.sheetnames else workbook.worksheets[0]
        return [list(row) for row in sheet.iter_rows(values_only=True)]
    finally:
        workbook.close()
