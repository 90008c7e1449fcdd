"""bot.core.langid proposes a language for a first message."""

from __future__ import annotations

import pytest

from bot.core.langid import guess_language


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("Bonjour, je voudrais savoir comment vendre mon or au comptoir", "fr"),
        ("slt jvx la carte d'orpailleur svp", "fr"),
        ("n b'a fɛ ka sanu feere, a songo ye joli ye", "bm"),
        ("miɗo yiɗi yeeyude kaŋŋe am", "ff"),
        ("dama bëgg jaay sama wurus", "wo"),
        ("jerejef waaw", "wo"),
        ("n mulla sanu xobo, nwaari", "snk"),
        ("n lafita kuma la mɔɔ ye", "emk"),
    ],
)
def test_clear_examples(text: str, lang: str) -> None:
    code, confidence = guess_language(text)
    assert code == lang
    assert confidence > 0.5


def test_empty_text_defaults_to_french_with_low_confidence() -> None:
    code, confidence = guess_language("  123 ")
    assert code == "fr"
    assert confidence < 0.5


def test_confidence_is_a_probability() -> None:
    _, confidence = guess_language("ok")
    assert 0.0 <= confidence <= 1.0
