"""Review spreadsheet: export then import changes nothing; edits land where they belong."""

from __future__ import annotations

import csv
import difflib
import shutil
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bot.content import ContentError, load_content
from bot.content._sheet import COLUMNS, export_sheet, import_sheet, read_sheet

from .conftest import REAL_CONTENT


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> Path:
    """The real content's sheet, exported once (xlsx writing is slow); tests edit copies."""
    sheet = tmp_path_factory.mktemp("sheet") / "review.xlsx"
    export_sheet(sheet, REAL_CONTENT)
    return sheet


@pytest.fixture
def sheet(exported, tmp_path) -> Path:
    copy = tmp_path / "review.xlsx"
    shutil.copyfile(exported, copy)
    return copy


def snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*.yml"))}


def edit_rows(sheet: Path, match: dict[str, str], **changes: str) -> int:
    """Edit the rows of an exported .xlsx matching ``match``; return how many were edited."""
    wb = load_workbook(sheet)
    ws = wb["content"]
    header = [c.value for c in ws[1]]
    count = 0
    for row in ws.iter_rows(min_row=2):
        values = {h: c.value for h, c in zip(header, row, strict=True)}
        if all(values[k] == v for k, v in match.items()):
            for key, value in changes.items():
                row[header.index(key)].value = value
            count += 1
    wb.save(sheet)
    return count


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_export_then_import_changes_nothing(real_copy, tmp_path, suffix):
    before = snapshot(real_copy)
    sheet = tmp_path / f"review{suffix}"
    rows = export_sheet(sheet, real_copy)
    assert rows > 500
    assert import_sheet(sheet, real_copy) == []
    assert snapshot(real_copy) == before


def test_sheet_columns_and_rows(real_copy, tmp_path):
    sheet = tmp_path / "review.csv"
    export_sheet(sheet, real_copy)
    with sheet.open(encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        assert tuple(reader.fieldnames) == COLUMNS
        rows = list(reader)
    keyed = {(r["kind"], r["id"], r["field"], r["language"]): r for r in rows}
    row = keyed[("answer", "ml_authorisation", "short", "bm")]
    assert row["status"] == "draft" and row["text"] and row["french_source"].startswith("Au Mali")
    review = (row["review_status"], row["review_org"], row["review_date"])
    assert review == ("to_verify", "Pact", "")
    empty = keyed[("answer", "retort", "short", "wo")]
    assert empty["text"] == "" and empty["french_source"]  # a blank for the translator
    assert ("menu", "main", "item:menu:licensing", "bm") in keyed
    assert ("guide", "group", "step:coop_members:text", "ff") in keyed
    assert ("answer", "ml_authorisation", "caveat", "fr") in keyed
    assert ("answer", "ml_authorisation", "caveat", "bm") not in keyed  # caveats are French


def test_edited_translation_lands_as_draft(real_copy, sheet):
    before = snapshot(real_copy)
    new = "Ni i bɛ mercure baara la, a jeni cornue kɔnɔ, kɛnɛ ma."
    assert edit_rows(sheet, {"id": "retort", "field": "short", "language": "bm"}, text=new) == 1
    assert import_sheet(sheet, real_copy) == ["answers/safe_practice.yml"]

    answer = load_content(real_copy).answer("retort")
    assert answer.text("bm").short == new
    assert answer.text("bm").status == "draft" and answer.text("bm").lang == "bm"
    after = snapshot(real_copy)
    assert {k for k in after if after[k] != before[k]} == {"answers/safe_practice.yml"}
    # The layout is kept: only the new lines appear, comments and the rest stay as they were.
    diff = [line for line in difflib.unified_diff(
        before["answers/safe_practice.yml"].decode().splitlines(),
        after["answers/safe_practice.yml"].decode().splitlines(), lineterm="", n=0)
        if line[:1] in "+-" and not line.startswith(("+++", "---"))]
    assert all(line.startswith("+") for line in diff) and len(diff) <= 4, diff
    safe_practice = after["answers/safe_practice.yml"].decode()
    assert safe_practice.startswith("# Mercury-free and safer practice")


def test_edited_translation_marked_reviewed_in_the_sheet(real_copy, sheet):
    new = "Mali la, sanu kolon baara bɛ jɔ san o san (zuwɛn 15 – sɛtanburu 30)."
    edit_rows(sheet, {"id": "ml_seasonal_closure", "field": "short", "language": "bm"},
              text=new, status="reviewed")
    import_sheet(sheet, real_copy)
    text = load_content(real_copy).answer("ml_seasonal_closure").text("bm")
    assert text.short == new and text.status == "reviewed"


def test_edited_menu_title_and_review_record(real_copy, sheet):
    edit_rows(sheet,
              {"kind": "menu", "id": "main", "field": "item:menu:licensing", "language": "bm"},
              text="Sɛbɛnw ni sariyaw")
    edited = edit_rows(sheet, {"kind": "answer", "id": "sn_sell_gold"},
                       review_status="reviewed", review_org="La Lumière", review_date="2026-12-01")
    assert edited > 5
    import_sheet(sheet, real_copy)
    content = load_content(real_copy)
    assert content.menu("main").items[1].title("bm") == "Sɛbɛnw ni sariyaw"
    review = content.answer("sn_sell_gold").review
    assert (review.status, review.organisation, review.date) == (
        "reviewed", "La Lumière", "2026-12-01")


def test_invalid_edit_writes_nothing(real_copy, sheet):
    before = snapshot(real_copy)
    edit_rows(sheet, {"id": "retort", "field": "title", "language": "wo"},
              text="Un titre bien trop long ici")
    with pytest.raises(ContentError) as info:
        import_sheet(sheet, real_copy)
    assert "retort" in str(info.value) and "20" in str(info.value)
    assert snapshot(real_copy) == before


def test_sheet_rows_that_match_nothing_are_refused(real_copy, sheet):
    edit_rows(sheet, {"id": "retort", "field": "short", "language": "bm"}, id="retortt")
    edit_rows(sheet, {"id": "cyanide", "field": "short", "language": "bm"}, language="xx", text="?")
    edit_rows(sheet, {"id": "form_gie", "field": "short", "language": "fr"}, text="")
    with pytest.raises(ValueError) as info:
        import_sheet(sheet, real_copy)
    message = str(info.value)
    assert "retortt" in message and "language must be one of" in message
    assert "French text cannot be emptied" in message


def test_disagreeing_review_rows_are_refused(real_copy, sheet):
    edit_rows(sheet, {"kind": "answer", "id": "retort", "field": "short", "language": "fr"},
              review_status="reviewed", review_date="2026-12-01")
    with pytest.raises(ValueError, match="different review values"):
        import_sheet(sheet, real_copy)


def test_read_sheet_needs_the_columns(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("id,text\nretort,x\n", encoding="utf-8")
    with pytest.raises(ValueError, match="missing column"):
        read_sheet(bad)


def test_cli_export_import(real_copy, tmp_path, capsys):
    from bot.content.__main__ import main

    sheet = tmp_path / "out.csv"
    assert main(["--root", str(real_copy), "export", str(sheet)]) == 0
    assert main(["--root", str(real_copy), "import", str(sheet)]) == 0
    assert "updated 0 file(s)" in capsys.readouterr().out


def test_cli_show(capsys):
    from bot.content.__main__ import main

    assert main(["show", "ml_violence_help", "--lang", "bm"]) == 0
    out = capsys.readouterr().out
    assert "80 00 11 32" in out and "80333" in out and "text bm/draft" in out
    assert main(["show", "menu:licensing"]) == 0
    assert "[GN]" in capsys.readouterr().out
    assert main(["show", "nothing"]) == 1
