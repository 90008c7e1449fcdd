"""The training files of issue 11 (``nlu/data/nlu/sms_<lang>.yml``, text as miners type it):
well formed, marked draft in the local languages, and never a copy of an evaluation sentence.

Evaluation sets (team held-out, realistic dev and test, disclosure sets) are compared after
normalization; a failure names the training line, never a test-set sentence."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest
import yaml

from bot.devtools.evaluate import LANGS, file_lang, language_files, read_examples

ROOT = Path(__file__).resolve().parents[3]
NLU_DATA = ROOT / "nlu" / "data" / "nlu"
TESTS = ROOT / "nlu" / "tests"
SMS_FILES = sorted(NLU_DATA.glob("sms_*.yml"))


def evaluation_texts() -> set[str]:
    texts: set[str] = set()
    for path in TESTS.rglob("*.yml"):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if not isinstance(data, dict) or not isinstance(data.get("nlu"), list):
            continue
        texts.update(ex.text for ex in read_examples(path, "fr"))
    return texts


def read_examples_line(line: str) -> str:
    from bot.core.normalize import normalize
    from bot.devtools.evaluate import strip_annotations

    return strip_annotations(normalize(line.strip()[2:].strip()))[0]


def test_there_is_an_sms_file_per_language() -> None:
    assert {file_lang(p) for p in SMS_FILES} == set(LANGS)


@pytest.mark.parametrize("path", SMS_FILES, ids=lambda p: p.name)
def test_sms_file_is_rasa_3_and_local_files_are_drafts(path: Path) -> None:
    lang = file_lang(path)
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert data["version"] == "3.1"
    assert data["nlu"]
    for block in data["nlu"]:
        assert isinstance(block["examples"], str) and block["examples"].strip()
        if lang != "fr":
            assert block["metadata"] == {"status": "draft", "lang": lang}
    if lang != "fr":
        assert "NO NATIVE SPEAKER" in path.read_text(encoding="utf-8")[:600]


def test_sms_examples_are_no_copy_of_an_evaluation_sentence() -> None:
    held_out = evaluation_texts()
    assert len(held_out) > 500  # the sets are there
    # Only where and how many: the line would show a held-out sentence.
    copies = [f"{p.name}:{i + 1}" for p in SMS_FILES
              for i, line in enumerate(p.read_text(encoding="utf-8").splitlines())
              if line.strip().startswith("- ") and line.startswith("    ")
              and read_examples_line(line) in held_out]
    assert not copies, f"training lines equal to an evaluation sentence at {copies}"


def test_no_example_under_two_intents_in_any_training_file() -> None:
    seen: dict[str, set[str]] = defaultdict(set)
    for lang in LANGS:
        for path in language_files(lang):
            for ex in read_examples(path, lang):
                seen[ex.text].add(ex.intent)
    clashes = {text: intents for text, intents in seen.items() if len(intents) > 1}
    assert not clashes


def test_language_files_include_every_file_of_a_language() -> None:
    names = {p.name for p in language_files("wo")}
    assert {"wo.yml", "sms_wo.yml"} <= names
    assert language_files("fr")[0].name == "fr.yml"
    assert all(file_lang(p) is None for p in [NLU_DATA / "location.yml"])
