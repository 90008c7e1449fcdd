"""bot/facts.py is the one place for the shared facts: nothing in bot/ writes them again.

The scan reads every module's syntax tree and refuses, outside bot/facts.py:
- a tuple, list or set literal holding exactly the codes of a fact (the six language codes,
  the three countries, the request categories, the call-back times, the channels);
- a dict literal that pairs two or more codes with the fact's own names (a label table);
- a gettext call on a country's or a call-back time's name (the name is the fact's);
- a module-level number named after a channel limit (TELEGRAM_..., WHATSAPP_..., ..._BUTTON...).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from bot import facts
from bot.config import ROOT

BOT = ROOT / "bot"
# Owned by other work in progress (issue 12): they still declare their own copy.
# Remove an entry once its file imports from bot.facts; the test then guards it too.
PENDING: dict[str, str] = {}

CODE_SETS = {
    "languages": set(facts.LANGUAGE_CODES),
    "countries": set(facts.COUNTRY_CODES),
    "categories": set(facts.CATEGORY_CODES),
    "call-back times": set(facts.CALLBACK_TIME_CODES),
    "channels": set(facts.CHANNELS),
}
LABEL_TABLES = {
    "LANGUAGES": facts.LANGUAGES, "LANGUAGE_NAMES_FR": facts.LANGUAGE_NAMES_FR,
    "COUNTRIES": facts.COUNTRIES, "CATEGORIES": facts.CATEGORIES,
    "MINER_CATEGORIES": facts.MINER_CATEGORIES, "CALLBACK_TIMES": facts.CALLBACK_TIMES,
    "CHANNELS": facts.CHANNELS,
}
NAMES_NEVER_WRITTEN_AGAIN = set(facts.COUNTRIES.values()) | set(facts.CALLBACK_TIMES.values())
GETTEXT = {"_", "N_", "gettext"}
LIMIT_WORDS = ("TELEGRAM_", "WHATSAPP_", "BUTTON", "LIST_ROW")


def _text(node: ast.AST) -> str | None:
    """The string of a literal, or of a marked literal (N_("..."), _("..."))."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Call) and node.args and _callee(node) in GETTEXT:
        return _text(node.args[0])
    return None


def _callee(call: ast.Call) -> str | None:
    func = call.func
    return func.id if isinstance(func, ast.Name) else (
        func.attr if isinstance(func, ast.Attribute) else None)


def redeclarations(tree: ast.AST) -> list[str]:
    found = []
    for node in ast.walk(tree):
        where = f"line {getattr(node, 'lineno', '?')}"
        if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
            items = {_text(e) for e in node.elts}
            for fact, codes in CODE_SETS.items():
                if items == codes:
                    found.append(f"{where}: the {fact} ({sorted(codes)})")
        elif isinstance(node, ast.Dict):
            pairs = {(_text(k), _text(v)) for k, v in zip(node.keys, node.values, strict=True)
                     if k is not None}
            for name, table in LABEL_TABLES.items():
                if len(pairs & set(table.items())) >= 2:
                    found.append(f"{where}: a copy of facts.{name}")
        elif isinstance(node, ast.Call) and _callee(node) in GETTEXT and node.args \
                and _text(node.args[0]) in NAMES_NEVER_WRITTEN_AGAIN:
            found.append(f"{where}: {_text(node.args[0])!r} (a name from bot.facts)")
    for node in getattr(tree, "body", []):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) \
                and isinstance(node.value.value, int):
            for target in node.targets:
                if isinstance(target, ast.Name) and any(w in target.id for w in LIMIT_WORDS):
                    found.append(f"line {node.lineno}: {target.id} (a channel limit)")
    return found


def modules() -> list[Path]:
    return sorted(p for p in BOT.rglob("*.py") if p != BOT / "facts.py")


def test_no_module_writes_a_fact_again():
    problems = {}
    for path in modules():
        name = str(path.relative_to(ROOT))
        found = redeclarations(ast.parse(path.read_text(encoding="utf-8")))
        if found and name not in PENDING:
            problems[name] = found
    assert not problems, f"import these from bot.facts instead: {problems}"


def test_pending_exceptions_are_still_needed():
    """An exception that no longer applies is removed, so that the file is guarded again."""
    for name in PENDING:
        path = ROOT / name
        assert path.exists() and redeclarations(ast.parse(path.read_text(encoding="utf-8"))), name


@pytest.mark.parametrize("source", [
    'LANGS = ("fr", "bm", "emk", "ff", "snk", "wo")',
    'CODES = ["ML", "GN", "SN"]',
    'TIMES = ("morning", "afternoon", "evening", "any")',
    'NAMES = {"ML": "Mali", "GN": "Guinée"}',
    'labels = {"land_conflict": talk._("Conflit de terrain"), "accident": talk._("Accident")}',
    'choice = Choice("country:SN", self._("Sénégal"))',
    'WHATSAPP_MAX_BUTTONS = 3',
    'MAX_LIST_BUTTONS = 3',
])
def test_the_scan_sees_a_copy(source):
    assert redeclarations(ast.parse(source))


@pytest.mark.parametrize("source", [
    'LANGS = LANGUAGE_CODES',
    'SOME = ("fr", "bm", "ff")',  # a subset chosen for a purpose
    'YES = {"fr": ("oui",), "bm": ("awo",)}',  # per-language data, not a label table
    'label = talk._(CALLBACK_TIMES[slot])',
    'PAGE_LIMIT = 50',
])
def test_the_scan_leaves_the_rest_alone(source):
    assert not redeclarations(ast.parse(source))


def test_derived_tables_agree():
    assert facts.LANGUAGE_CODES[0] == facts.DEFAULT_LANGUAGE
    assert set(facts.LANGUAGES) == set(facts.LANGUAGE_NAMES_FR)
    assert set(facts.CATEGORIES) <= set(facts.MINER_CATEGORIES)
    assert facts.MINER_CATEGORIES["protection"] == facts.MINER_CATEGORIES["violence"]
    assert list(facts.partner_names()) == ["pact", "femima", "la_lumiere", "action_mines_guinee"]


def test_the_old_names_still_read_the_facts():
    from bot.channels import render
    from bot.content import _schema
    from bot.dashboard import labels
    from bot.i18n import COUNTRIES, LANGUAGES, N_
    from bot.store import requests

    assert LANGUAGES is facts.LANGUAGES and COUNTRIES == facts.COUNTRY_CODES
    assert N_ is facts.N_
    assert _schema.LANGUAGES == facts.LANGUAGE_CODES and _schema.MAX_BUTTONS == 3
    assert _schema.PARTNERS == ("Pact", "FEMIMA", "La Lumière", "Action Mines Guinée")
    assert render.WHATSAPP_MAX_BUTTONS == facts.WHATSAPP_MAX_BUTTONS
    assert labels.CATEGORY is facts.CATEGORIES and requests.CATEGORIES == facts.CATEGORY_CODES
    assert requests.PARTNERS_FILE == facts.PARTNERS_FILE


def test_the_channels_are_the_messages_channels():
    from bot.core.messages import Channel

    assert set(facts.CHANNELS) == {channel.value for channel in Channel}
