"""Fixtures: a small, valid content tree written to tmp_path, which each test can break."""

from __future__ import annotations

import copy
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from bot.content._load import DEFAULT_ROOT
from bot.content._schema import CONTENT_INTENTS

REAL_CONTENT = DEFAULT_ROOT

SOURCE = {"title": "Fiche de faits", "document": "FACTS.md", "read": "2026-11-28"}
REVIEW = {"status": "draft", "organisation": "Pact", "date": None}


def small_answer(answer_id: str, intent: str | None, countries="all", **extra) -> dict:
    answer = {
        "id": answer_id, "topic": "safe_practice", "intents": [intent] if intent else [],
        "countries": countries, "title": {"fr": answer_id[:20]},
        "text": {"fr": {"short": f"Réponse {answer_id}.", "status": "draft"}},
        "sources": [dict(SOURCE)], "review": dict(REVIEW), "related": ["menu:main", "menu:t1"],
    }
    answer.update(extra)
    return answer


def small_tree() -> dict[str, dict]:
    """One answer for all countries per content intent, a main menu of four theme menus."""
    answers = [small_answer(intent, intent) for intent in CONTENT_INTENTS]
    theme = lambda n, ids: {  # noqa: E731 - a tiny local builder reads better inline
        "id": f"t{n}", "title": {"fr": f"Thème {n}"}, "text": {"fr": f"Thème {n} :"},
        "items": [{"choice": f"answer:{i}", "title": {"fr": i[:20]}} for i in ids],
    }
    menus = [
        {"id": "main", "title": {"fr": "Menu"}, "text": {"fr": "Choisissez :"},
         "items": [{"choice": f"menu:t{n}", "title": {"fr": f"Thème {n}"}} for n in range(1, 5)]},
        theme(1, ["why_formalise", "form_gie"]), theme(2, ["get_authorisation"]),
        theme(3, ["retort", "cyanide"]), theme(4, ["violence_help"]),
    ]
    return {
        "answers/base.yml": {"answers": answers},
        "menus.yml": {"menus": menus,
                      "choices": [{"id": "flow:report:start", "title": {"fr": "Demander"}}]},
    }


def write_tree(root: Path, tree: dict[str, dict]) -> Path:
    for rel, data in tree.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return root


@pytest.fixture
def make_content(tmp_path: Path) -> Callable[..., Path]:
    """``make_content(edit)`` writes the small tree after ``edit(tree)`` and returns its root."""

    def make(edit: Callable[[dict], None] | None = None) -> Path:
        tree = copy.deepcopy(small_tree())
        if edit:
            edit(tree)
        root = tmp_path / "content"
        if root.exists():
            shutil.rmtree(root)
        return write_tree(root, tree)

    return make


@pytest.fixture
def real_copy(tmp_path: Path) -> Path:
    """A copy of the real content/ that a test may edit."""
    root = tmp_path / "real"
    shutil.copytree(REAL_CONTENT, root)
    return root


def answers_of(tree: dict) -> dict[str, dict]:
    return {a["id"]: a for a in tree["answers/base.yml"]["answers"]}


def menus_of(tree: dict) -> dict[str, dict]:
    return {m["id"]: m for m in tree["menus.yml"]["menus"]}
