"""bot.core.normalize: the one spelling shared by training data and user messages."""

from __future__ import annotations

import pytest

from bot.core.normalize import SMS_ABBREVIATIONS, fold_letters, normalize


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  Bonjour   Monsieur ", "bonjour monsieur"),
        ("Slt", "salut"),
        ("bjr, jvx vendre mon or", "bonjour, je veux vendre mon or"),
        ("koi", "quoi"),
        ("c pr koi", "c'est pour quoi"),
        ("svp", "s'il vous plait"),
        ("aide moi stp", "aide moi s'il te plait"),
        ("cmt faire", "comment faire"),
        ("tjr pas", "toujours pas"),
        ("merci bcp", "merci beaucoup"),
        ("pq pk", "pourquoi pourquoi"),
        ("qd ds le trou", "quand dans le trou"),
        ("Kéniéba", "kenieba"),
        ("Sénégal", "senegal"),
        ("ÇA", "ca"),
        ("N bɛ a fɛ ka dingɛ ɲini", "n be a fe ka dinge nyini"),
        ("ɔwɔ", "owo"),
        ("miɗo yiɗi kaŋŋe", "mido yidi kange"),
        ("ɓiɗɗo", "biddo"),
        ("ŋaɓɓa", "ngabba"),
        ("jërëjëf", "jerejef"),
        ("ñaata", "nyaata"),
        ("merciiiii", "mercii"),
        ("waaw", "waaw"),
        ("l’or", "l'or"),
        ("NFD: e\u0301", "nfd: e"),
    ],
)
def test_normalize(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


def test_special_letters_match_plain_spelling() -> None:
    assert normalize("dingɛ") == normalize("dinge")
    assert normalize("Ɲɛnɛmaya") == normalize("nyenemaya")
    assert normalize("ɗemngal") == normalize("demngal")
    assert normalize("εrε") == normalize("ɛrɛ")  # Greek epsilon typed for ɛ


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("c bon", "c'est bon"),
        ("option c", "option c"),  # a choice letter, not "c'est"
        ("c", "c"),  # alone: could be a choice
        ("g compris", "j'ai compris"),
        ("2 g d'or", "2 g d'or"),  # grams
    ],
)
def test_ambiguous_abbreviations_only_expanded_where_safe(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


def test_local_words_are_not_taken_for_abbreviations() -> None:
    # Bambara kɛ (do), ya, sa and kan (language) must survive.
    assert normalize("a kɛ cogo di") == "a ke cogo di"
    assert normalize("kan wɛrɛ") == "kan were"
    for word in ("ke", "ki", "ya", "sa", "kan", "pa", "o"):
        assert word not in SMS_ABBREVIATIONS


def test_payloads_are_left_alone() -> None:
    payload = '/choose{"choice": "country:ML"}'
    assert normalize(payload) == payload


def test_rasa_annotations_survive() -> None:
    raw = 'je suis en [Guinée]{"entity": "country", "value": "GN"} à [Siguiri](place) stp'
    assert normalize(raw) == (
        'je suis en [guinee]{"entity": "country", "value": "GN"} a [siguiri](place) '
        "s'il te plait")


@pytest.mark.parametrize(
    "raw",
    ["Slt c moi", "N bɛ a fɛ", "kaŋŋe", "merciiii bcp", "[Kéniéba](place)", "option c", "",
     "g pa compri", "  ", "Jërëjëf waaaaw"],
)
def test_idempotent(raw: str) -> None:
    once = normalize(raw)
    assert normalize(once) == once


def test_fold_letters_keeps_length_small() -> None:
    assert fold_letters("ŒUVRE") == "oeuvre"
    assert normalize("") == ""
