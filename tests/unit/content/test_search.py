"""The content search over the real content and training data: what "Vouliez-vous parler de… ?"
offers when the intent classifier is not confident."""

from __future__ import annotations

import time

import pytest

from bot.content import load_content
from bot.content.search import MIN_SCORE, ContentIndex, Suggestion, suggest, tokens
from bot.core.normalize import normalize

from .conftest import REAL_CONTENT

# Phrasings as miners write them (SMS spellings, no accents, typos, circumlocutions), none of
# them a training example (checked below), each with the intents that answer it.
PHRASINGS = [
    ("a ki je peu vendre mon or la", "GN", {"sell_gold"}),
    ("kel prix pour le gramme", "ML", {"sell_gold"}),
    ("le mercure est dangereux pour ma femme enceinte", "ML", {"mercury_health"}),
    ("mon puits risque de tomber", "SN", {"pit_safety", "accident"}),
    ("les etrangers ont droit de creuser ici", "GN", {"foreigners_rules"}),
    ("cyanur dans l eau", "ML", {"cyanide"}),
    ("on peut travailler pendant la saison des pluies", "SN", {"seasonal_closure"}),
    ("les petits travaillent sur le site avec nous", "GN", {"child_labour"}),
    ("comment bruler l'amalgame sans respirer la fumee", "ML", {"retort"}),
    ("a qui je me plains si le chef de site me vole", "SN", {"grievance_channels"}),
    ("c koi exactement un couloir", "ML", {"couloirs"}),
    ("quels sont les trucs interdits sur le site", "GN", {"banned_practices"}),
    ("jai eu un acident au trou mon frere est blesse", "ML", {"accident"}),
    ("kel kaske il faut porter", "SN", {"protective_equipment"}),
    ("le borax ca marche comment", "ML", {"borax_smelting"}),
    ("comment creer une cooperative chez nous", "GN", {"form_cooperative"}),
    ("on laver le minerai avec la table a secousse", "ML", {"gravity_concentration"}),
    ("quand est ce que les sites ferment", "GN", {"seasonal_closure"}),
    ("le trou s'est effondre sur mon cousin", "SN", {"accident", "pit_safety"}),
    ("mon enfant de 12 ans peut il venir au placer", "ML", {"child_labour"}),
    ("ou est le comptoir agree le plus proche", "SN", {"sell_gold"}),
]
GIBBERISH = ["blabla xyz qsdf", "asdkjh qwe", "ok", "??", "1234", "bonjour", "merci beaucoup",
             "le match de foot hier soir", "on mange quoi ce soir"]


@pytest.fixture(scope="module")
def content():
    return load_content(REAL_CONTENT)


@pytest.fixture(scope="module")
def index(content):
    return ContentIndex(content)


def test_the_phrasings_are_not_training_examples(index):
    examples = {normalize(d.text) for d in index.docs}
    assert not [p for p, _, _ in PHRASINGS if normalize(p) in examples]


@pytest.mark.parametrize("text, country, intents", PHRASINGS)
def test_a_miner_phrasing_finds_its_answer_in_the_top_three(index, text, country, intents):
    found = index.suggest(text, "fr", country)
    assert any(s.intent in intents for s in found), (text, found)


def test_most_phrasings_find_their_answer_first(index):
    first = [text for text, country, intents in PHRASINGS
             if (found := index.suggest(text, "fr", country)) and found[0].intent in intents]
    assert len(first) >= 0.8 * len(PHRASINGS)


@pytest.mark.parametrize("text", GIBBERISH)
def test_gibberish_and_small_talk_find_nothing(index, text):
    assert index.suggest(text, "fr", "ML") == []


def test_only_the_users_country_and_one_answer_per_intent(index):
    for country in ("ML", "GN", "SN"):
        found = index.suggest("ou vendre mon or et a quel prix", "fr", country)
        assert found and found[0].answer_id == f"{country.lower()}_sell_gold"
        for suggestion in found:
            assert country in index.content.answer(suggestion.answer_id).countries
    unknown = index.suggest("ou vendre mon or et a quel prix", "fr", None)
    assert [s.intent for s in unknown].count("sell_gold") == 1


def test_with_the_country_unknown_an_answer_for_every_country_is_preferred(index):
    found = index.suggest("la fumee du mercure rend malade", "fr", None)
    assert found[0].answer_id == "mercury_health"


def test_suggestions_are_ranked_bounded_and_above_the_minimum(index):
    found = index.suggest("mercure", "fr", "ML", limit=2)
    assert len(found) == 2 and len(index.suggest("mercure", "fr", "ML", limit=3)) == 3
    assert all(isinstance(s, Suggestion) and s.score >= MIN_SCORE for s in found)
    assert [s.score for s in found] == sorted((s.score for s in found), reverse=True)
    assert len({s.answer_id for s in found}) == len(found)


def test_a_local_language_question_searches_its_language_and_french(index):
    # Bambara training examples of sell_gold (folded spelling, as phones type it).
    found = index.suggest("n be se ka sanu feere min", "bm", "ML")
    assert found and found[0].intent == "sell_gold"
    # Bambara texts are searched for Bambara only: in French the same words find nothing.
    assert index.suggest("n be se ka sanu feere min", "fr", "ML") == []


def test_stop_words_are_removed_but_domain_words_kept():
    assert tokens("Je voudrais savoir combien pour l'or de la mine") == ["combien", "or", "mine"]


def test_the_module_function_uses_the_loaded_content(content):
    found = suggest("kel prix pour le gramme", "fr", "ML", content=content)
    assert found and found[0].answer_id == "ml_sell_gold"


def test_a_query_is_fast(index):
    # About 5 ms on an idle core; the bound leaves room for a loaded machine.
    start = time.perf_counter()
    for _ in range(20):
        index.suggest("a ki je peu vendre mon or la", "fr", "GN")
    assert (time.perf_counter() - start) / 20 < 0.5
