"""The NLU training and held-out files: parse, cover every intent, never overlap."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import yaml

from bot.devtools.evaluate import LANGS, heldout_examples, read_examples

ROOT = Path(__file__).resolve().parents[3]
NLU_DATA = ROOT / "nlu" / "data" / "nlu"
DOMAIN = ROOT / "nlu" / "domain.yml"
MINIMUM = {"fr": 25, "bm": 8, "emk": 8, "ff": 8, "snk": 8, "wo": 8}
# Button payloads, and the place/country/language-alone intent, need fewer examples.
EXEMPT = {"choose"}
# Sent by the gateway as a payload (a shared location); its few typed phrasings live in
# nlu/data/nlu/location.yml, not in the per-language files.
PAYLOAD_ONLY = {"share_location"}


def lang_files(lang: str) -> list[Path]:
    """A language's training files: <lang>.yml and, for the issue-16 topics, topics_<lang>.yml."""
    return [path for path in (NLU_DATA / f"{lang}.yml", NLU_DATA / f"topics_{lang}.yml")
            if path.exists()]


def lang_examples(lang: str) -> list:
    return [ex for path in lang_files(lang) for ex in read_examples(path, lang)]


def domain_intents() -> set[str]:
    return set(yaml.safe_load(DOMAIN.read_text(encoding="utf-8"))["intents"])


@pytest.mark.parametrize("lang", LANGS)
def test_file_parses_as_rasa_3_yaml(lang: str) -> None:
    for path in lang_files(lang):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert data["version"] == "3.1"
        for block in data["nlu"]:
            assert isinstance(block["examples"], str)
            if lang != "fr":
                assert block["metadata"] == {"status": "draft", "lang": lang}


@pytest.mark.parametrize("lang", LANGS)
def test_every_intent_has_enough_examples(lang: str) -> None:
    counts = Counter(ex.intent for ex in lang_examples(lang))
    assert set(counts) == domain_intents() - PAYLOAD_ONLY
    short = {i: n for i, n in counts.items() if i not in EXEMPT and n < MINIMUM[lang]}
    assert not short, f"{lang}: intents below {MINIMUM[lang]} examples: {short}"
    assert counts["choose"] >= 5
    assert counts["out_of_scope"] >= (40 if lang == "fr" else 15)


@pytest.mark.parametrize("lang", [lang for lang in LANGS if lang != "fr"])
def test_local_files_are_marked_draft(lang: str) -> None:
    for path in lang_files(lang):
        head = path.read_text(encoding="utf-8")[:600]
        assert "DRAFT" in head and "NO NATIVE" in head, path.name


def test_no_example_in_two_intents() -> None:
    seen: dict[str, set[str]] = {}
    for lang in LANGS:
        for ex in lang_examples(lang):
            seen.setdefault(ex.text, set()).add(ex.intent)
    clashes = {text: intents for text, intents in seen.items() if len(intents) > 1}
    assert not clashes


@pytest.mark.parametrize("lang", LANGS)
def test_heldout_exists_covers_out_of_scope_and_never_repeats_training(lang: str) -> None:
    heldout = heldout_examples(lang)
    assert len(heldout) >= 60
    assert sum(ex.intent == "out_of_scope" for ex in heldout) >= 8
    assert {ex.intent for ex in heldout} <= domain_intents()
    training = {ex.text for other in LANGS for ex in lang_examples(other)}
    copies = [ex.text for ex in heldout if ex.text in training]
    assert not copies, f"held-out examples also in training: {copies}"


def test_heldout_is_outside_the_training_tree() -> None:
    from bot.devtools import train

    assert "tests" in train.EXCLUDED
    assert all("heldout" not in str(p) for p in train.training_inputs())
