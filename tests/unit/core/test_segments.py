"""Long messages: the split into questions, the strongest question, the other topics."""

from __future__ import annotations

import pytest

from bot.core.normalize import normalize
from bot.core.segments import (
    MAX_SEGMENTS,
    keep_whole,
    other_intents,
    split_sentences,
    strongest,
)

STORY = ("Bonjour monsieur je suis orpailleur a Kenieba depuis 3 ans avec mes freres. Le chef "
         "de site nous a dit que la saison va fermer bientot. Ou est-ce que je peux vendre "
         "mon or ?")


def parse(text: str, intent: str, confidence: float) -> dict:
    return {"text": text, "intent": {"name": intent, "confidence": confidence}}


@pytest.mark.parametrize("text", ["Ou vendre mon or ?", "Bonjour. Ou vendre mon or ?",
                                  "slt jvx savoir cmt faire la cooperative svp merci", ""])
def test_a_short_message_is_kept_whole(text):
    assert split_sentences(text) == ([text] if text else [])


def test_sentence_ends_split_a_story_from_its_question():
    assert split_sentences(STORY) == [
        "Bonjour monsieur je suis orpailleur a Kenieba depuis 3 ans avec mes freres.",
        "Le chef de site nous a dit que la saison va fermer bientot.",
        "Ou est-ce que je peux vendre mon or ?",
    ]


def test_line_breaks_and_phrases_that_start_another_question_split():
    text = ("je veux savoir comment faire une cooperative avec les gens de mon village svp "
            "comment on vend l'or la bas et aussi le mercure est dangereux pour les enfants")
    assert split_sentences(text) == [
        "je veux savoir comment faire une cooperative avec les gens de mon village",
        "comment on vend l'or la bas", "le mercure est dangereux pour les enfants"]
    lines = "ou vendre mon or a siguiri\nautre question: les casques sont obligatoires sur le site"
    assert split_sentences(lines) == ["ou vendre mon or a siguiri",
                                      "les casques sont obligatoires sur le site"]
    # The normalizer writes "svp" out: it still separates.
    assert len(split_sentences(normalize(text))) == 3


def test_a_final_svp_does_not_split():
    text = "comment je peux porter plainte contre le chef de placer qui prend notre or svp"
    assert split_sentences(text) == [text]


def test_tiny_parts_join_a_neighbour_and_nothing_is_lost():
    text = ("ok\nmerci\nje travaille dans la mine de sadiola avec mon frere\nquand est-ce que "
            "la fermeture commence cette annee\nles casques sont obligatoires\nmerci encore "
            "pour tout\nc'est tout\nbonne journee a vous")
    parts = split_sentences(text)
    assert parts[0].startswith("ok merci je travaille")
    assert all(len(p.split()) >= 3 for p in parts)
    assert len(parts) <= MAX_SEGMENTS
    assert " ".join(parts).split() == text.split()


def test_the_strongest_question_wins_over_the_story_and_the_greeting():
    parses = [parse("bonjour je suis a kenieba depuis 3 ans", "greet", 0.95),
              parse("le chef dit que la saison va fermer", "seasonal_closure", 0.62),
              parse("ou est-ce que je peux vendre mon or ?", "sell_gold", 0.9)]
    assert strongest(parses) == 2
    assert other_intents(parses, 2) == ["seasonal_closure"]


def test_a_question_beats_a_statement_of_equal_confidence():
    parses = [parse("comment vendre l'or", "sell_gold", 0.7),
              parse("le mercure c'est dangereux", "mercury_health", 0.75)]
    assert strongest(parses) == 0


def test_a_violence_part_always_wins():
    parses = [parse("ou vendre mon or ?", "sell_gold", 0.99),
              parse("quelque chose", "violence_help", 0.4)]
    assert strongest(parses) == 1


def test_a_part_the_disclosure_detector_is_sure_of_wins_even_unclassified():
    disclosure = "le chef de chantier m'a frappee et il m'a forcee a coucher avec lui"
    assert keep_whole(disclosure), "the disclosure detector must keep a disclosure whole"
    parses = [parse("comment vendre l'or au comptoir ?", "sell_gold", 0.99),
              parse(disclosure, "nlu_fallback", 0.3)]
    assert strongest(parses) == 1


def test_with_no_content_intent_the_most_confident_part_is_returned():
    parses = [parse("bonjour a vous", "greet", 0.9), parse("merci beaucoup", "thanks", 0.95)]
    assert strongest(parses) == 1
    assert other_intents(parses, 1) == []


def test_other_intents_are_likely_distinct_content_intents():
    fallback = parse("f", "nlu_fallback", 0.6)
    fallback["intent_ranking"] = [{"name": "nlu_fallback", "confidence": 0.6},
                                  {"name": "retort", "confidence": 0.52}]
    unsure = parse("g", "nlu_fallback", 0.6)
    unsure["intent_ranking"] = [{"name": "nlu_fallback", "confidence": 0.6},
                                {"name": "accident", "confidence": 0.2}]
    parses = [parse("a", "sell_gold", 0.9), parse("b", "sell_gold", 0.8),
              parse("c", "mercury_health", 0.3), parse("d", "cyanide", 0.7),
              parse("e", "thanks", 0.99), fallback, unsure]
    assert other_intents(parses, 0) == ["cyanide", "retort"]
    # A part that falls back is never the strongest question for its leaning alone.
    assert strongest([fallback, parse("h", "greet", 0.9)]) == 1
    assert strongest([fallback, parse("i", "cyanide", 0.45)]) == 1


def test_strongest_needs_a_parse():
    with pytest.raises(ValueError):
        strongest([])
