"""Spreadsheet export/import for translators."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bot.i18n import LANGUAGES, translator
from bot.i18n.catalogues import PROJECT_ROOT, Catalogues, get_status, placeholder_problems
from bot.i18n.sheets import COLUMNS, ImportRefused, export_sheet, import_sheet

from .conftest import snapshot

COUNTRY = "Pays choisi : {country}."


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fileobj:
        return list(csv.DictReader(fileobj))


def _write_csv(path: Path, rows: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as fileobj:
        writer = csv.DictWriter(fileobj, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)


def _row(rows, language, msgid):
    [row] = [row for row in rows if row["language"] == language and row["msgid"] == msgid]
    return row


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_export_then_import_changes_nothing(project: Catalogues, tmp_path, suffix):
    before = snapshot(project)
    sheet = tmp_path / f"translations{suffix}"
    count = export_sheet(project, sheet)
    messages = len(list(project.read_template())) - 1
    assert count == messages * len(LANGUAGES)
    assert import_sheet(project, sheet) == {}
    assert snapshot(project) == before


def test_export_has_one_row_per_message_per_language(project, tmp_path):
    sheet = tmp_path / "t.xlsx"
    export_sheet(project, sheet)
    rows = list(load_workbook(sheet).active.iter_rows(values_only=True))
    assert rows[0] == COLUMNS
    bm = [row for row in rows[1:] if row[0] == "bm" and row[1] == "Menu principal"]
    assert bm == [("bm", "Menu principal", "Menu kunba", "draft", None, None,
                   bm[0][6])]
    assert "used in: bot/i18n/common.py" in bm[0][6]


def test_import_writes_text_and_status_and_the_translator_sees_it(project, tmp_path):
    sheet = tmp_path / "t.csv"
    export_sheet(project, sheet)
    rows = _read_csv(sheet)
    _row(rows, "bm", "Retour")["text"] = "Ka segin"
    _row(rows, "bm", "Retour")["status"] = "reviewed"
    _row(rows, "wo", "Oui")["status"] = "reviewed"
    _write_csv(sheet, rows)

    assert import_sheet(project, sheet) == {"bm": 1, "wo": 1}
    message = project.read("bm").get("Retour")
    assert message.string == "Ka segin" and get_status(message) == "reviewed"
    coverage = {entry.language: entry for entry in project.coverage()}
    assert coverage["wo"].reviewed == 1
    assert translator("bm", locales=project.locales).gettext("Retour") == "Ka segin"


def test_import_accepts_a_partial_sheet(project, tmp_path):
    sheet = tmp_path / "t.csv"
    _write_csv(sheet, [{"language": "ff", "msgid": "Annuler", "text": "Haaytu",
                        "status": "reviewed"}])
    before = snapshot(project)
    assert import_sheet(project, sheet) == {"ff": 1}
    after = snapshot(project)
    changed = [name for name in before if before[name] != after[name]]
    assert changed == ["ff/LC_MESSAGES/messages.po"]


@pytest.mark.parametrize(("text", "expected"), [
    ("Jamana sugandilen.", "placeholder {country} missing"),
    ("Jamana sugandilen : {jamana}.", "unknown placeholder {jamana}"),
    ("Jamana sugandilen : {country", "unbalanced"),
])
def test_import_refuses_placeholder_mismatch(project, tmp_path, text, expected):
    sheet = tmp_path / "t.csv"
    export_sheet(project, sheet)
    rows = _read_csv(sheet)
    _row(rows, "bm", COUNTRY)["text"] = text
    _row(rows, "wo", "Retour")["text"] = "Dellu ci ginnaaw"  # a valid change in the same sheet
    _write_csv(sheet, rows)
    before = snapshot(project)
    with pytest.raises(ImportRefused) as refused:
        import_sheet(project, sheet)
    errors = refused.value.errors
    assert any(expected in error for error in errors), errors
    assert all("(bm)" in error and "row " in error and "Pays choisi" in error for error in errors)
    assert snapshot(project) == before  # nothing written, not even the valid row


@pytest.mark.parametrize(("change", "expected"), [
    ({"msgid": "Bonjour tout le monde"}, "unknown msgid"),
    ({"language": "en"}, "unknown language"),
    ({"status": "ok"}, "status 'ok'"),
    ({"text_plural": "Ɔwɔw"}, "no plural"),
])
def test_import_refuses_bad_rows(project, tmp_path, change, expected):
    sheet = tmp_path / "t.csv"
    row = {"language": "bm", "msgid": "Oui", "text": "Ɔwɔ", "status": "draft"}
    _write_csv(sheet, [{**row, **change}])
    with pytest.raises(ImportRefused, match=expected):
        import_sheet(project, sheet)


def test_import_refuses_the_same_message_twice(project, tmp_path):
    sheet = tmp_path / "t.csv"
    row = {"language": "bm", "msgid": "Oui", "text": "Ɔwɔ", "status": "draft"}
    _write_csv(sheet, [row, {**row, "text": "Awɔ"}])
    with pytest.raises(ImportRefused, match="appears twice"):
        import_sheet(project, sheet)


def test_import_refuses_a_sheet_without_the_columns(project, tmp_path):
    sheet = tmp_path / "t.csv"
    sheet.write_text("langue,texte\nbm,Ɔwɔ\n", encoding="utf-8")
    with pytest.raises(ImportRefused, match="missing column"):
        import_sheet(project, sheet)


def test_placeholder_rules():
    assert placeholder_problems("%(n)s sites", ["%(n)s yɔrɔ"]) == []
    assert "missing" in placeholder_problems("%(n)s sites", ["yɔrɔ caman"])[0]
    assert placeholder_problems("%s g d'or", ["sanu %s g"]) == []
    assert placeholder_problems("50 % des sites", ["yɔrɔw 50 %"]) == []  # French "50 %"
    assert placeholder_problems("{n} puits", ["dingɛ {n}"]) == []
    # Plural: the last form needs the plural's placeholders; the singular may omit them.
    assert placeholder_problems(("un puits", "{n} puits"), ["ngasa", "ngasaaji {n}"]) == []
    assert placeholder_problems(("un puits", "{n} puits"), ["ngasa"]) != []


def test_cli_import_refusal_exits_1_with_a_clear_message(project, tmp_path):
    sheet = tmp_path / "t.csv"
    _write_csv(sheet, [{"language": "snk", "msgid": COUNTRY, "text": "Jamaane", "status": "draft"}])
    result = subprocess.run(
        [sys.executable, "-m", "bot.i18n", "--root", str(project.root), "import", str(sheet)],
        capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=60)
    assert result.returncode == 1
    assert "Import refused" in result.stderr and "{country}" in result.stderr


def test_cli_export_and_coverage(project, tmp_path):
    sheet = tmp_path / "out.xlsx"
    for command in (["export", str(sheet)], ["coverage"], ["compile"]):
        result = subprocess.run(
            [sys.executable, "-m", "bot.i18n", "--root", str(project.root), *command],
            capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=60)
        assert result.returncode == 0, result.stderr
    rows = list(load_workbook(sheet).active.iter_rows(values_only=True))
    messages = len(list(project.read_template())) - 1
    assert rows[0] == COLUMNS and len(rows) == 1 + messages * len(LANGUAGES)
    assert {language for language, *_ in rows[1:]} == set(LANGUAGES)
    assert "emk Maninkakan" in subprocess.run(
        [sys.executable, "-m", "bot.i18n", "--root", str(project.root), "coverage"],
        capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=60).stdout
