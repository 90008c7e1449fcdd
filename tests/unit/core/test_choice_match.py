"""Typed answers to offered choices (bot/core/choice_match.py)."""

from __future__ import annotations

import pytest

from bot.core.choice_match import match_choice, number_choice, polarity, yes_no
from bot.core.messages import Choice
from bot.i18n import translator

COUNTRIES = [{"id": "flow:protection:country:ML", "title": "Mali"},
             {"id": "flow:protection:country:GN", "title": "Guinée"},
             {"id": "flow:protection:country:SN", "title": "Sénégal"},
             {"id": "flow:protection:cancel", "title": "Annuler"}]
SUMMARY = [Choice("flow:report:confirm", "Envoyer"), Choice("flow:report:cancel", "Annuler"),
           Choice("menu:main", "Menu")]
CONTACT = [Choice("flow:report:contact:here", "Oui, ici"),
           Choice("flow:report:contact:phone", "Oui, autre numéro"),
           Choice("flow:report:contact:no", "Non"), Choice("flow:report:cancel", "Annuler")]
SHARE = [Choice("flow:talk:share", "Oui, les montrer"), Choice("flow:talk:send", "Non, sans eux"),
         Choice("flow:talk:cancel", "Annuler")]
DELETE = [Choice("flow:delete:cancel", "Annuler"), Choice("flow:delete:confirm", "Effacer")]


@pytest.mark.parametrize("typed,country", [
    ("Mali", "ML"), ("mali", "ML"), ("MALI !", "ML"), ("Sénégal.", "SN"), ("senegal", "SN"),
    ("senegale", "SN"), ("Guinée", "GN"), ("guinee", "GN"), ("guine", "GN"),
    ("Guinée Conakry", "GN"), ("au Sénégal", "SN"), ("je suis au mali", "ML"),
    ("Kédougou", "SN"), ("siguiri", "GN"), ("Kéniéba", "ML"), ("3", "SN"),
])
def test_a_country_is_chosen_by_its_name_a_spelling_or_a_place(typed, country):
    assert match_choice(typed, COUNTRIES) == f"flow:protection:country:{country}"


@pytest.mark.parametrize("typed", ["il m'a frappé", "comment vendre l'or au Mali ?", "bonjour",
                                   "12", "oui", "", "   "])
def test_what_is_not_a_choice(typed):
    assert match_choice(typed, COUNTRIES) is None


@pytest.mark.parametrize("typed", ["oui", "Oui.", "OUI", "ouiii", "ok", "ok envoie", "OK envoie",
                                   "d'accord", "dac", "d accord", "c fait", "c'est fait",
                                   "vas-y", "envoie", "👍", "👍🏾", "oui merci", "ok c bon",
                                   "waaw", "waw", "awɔ", "awo", "ɔwɔ", "ɔn", "eey", "ayyo",
                                   "haa", "ayo"])
def test_yes_words_of_every_language_select_the_affirmative_choice(typed):
    assert yes_no(typed) == "yes"
    assert match_choice(typed, SUMMARY) == "flow:report:confirm"


@pytest.mark.parametrize("typed", ["non", "Non merci", "pas maintenant", "ayi", "ɔhɔn",
                                   "alaa", "deedeet", "an-an", "👎"])
def test_no_words_select_the_negative_choice_or_cancel(typed):
    assert yes_no(typed) == "no"
    assert match_choice(typed, SUMMARY) == "flow:report:cancel"
    assert match_choice(typed, CONTACT) == "flow:report:contact:no"
    assert match_choice(typed, SHARE) == "flow:talk:send"


def test_yes_picks_the_first_affirmative_choice_and_titles_win():
    assert match_choice("oui", CONTACT) == "flow:report:contact:here"
    assert match_choice("oui, autre numéro", CONTACT) == "flow:report:contact:phone"
    assert match_choice("autre numero", CONTACT) == "flow:report:contact:phone"
    assert match_choice("oui", SHARE) == "flow:talk:share"


@pytest.mark.parametrize("typed", ["oui je veux vendre mon or", "ok mais combien ça coûte",
                                   "oui non"])
def test_a_sentence_is_not_a_yes(typed):
    assert yes_no(typed) is None
    assert match_choice(typed, SUMMARY) is None


def test_a_step_without_a_yes_choice_ignores_yes():
    choices = [Choice("flow:report:voice", "J'ai envoyé un vocal"),
               Choice("flow:report:cancel", "Annuler")]
    assert match_choice("oui", choices) is None
    assert match_choice("ok", COUNTRIES) is None


def test_the_polarity_of_choices():
    assert [polarity(c) for c in CONTACT] == ["yes", "yes", "no", "cancel"]
    assert polarity(Choice("flow:group:done:statutes", "C'est fait")) == "yes"
    assert polarity(Choice("flow:protection:consent", "Oui, rappelez-moi")) == "yes"
    assert polarity(Choice("flow:delete:confirm", "Oui, tout effacer")) is None


def test_a_destructive_choice_is_never_selected_by_typing():
    for typed in ("2", "Effacer", "effacer", "oui", "ok", "👍", "Oui, tout effacer"):
        assert match_choice(typed, DELETE) != "flow:delete:confirm", typed
    assert number_choice("2", DELETE) is None
    assert number_choice("1", DELETE) == "flow:delete:cancel"
    assert number_choice("0", DELETE) == "menu:main"


@pytest.mark.parametrize("lang", ["bm", "emk", "ff", "snk", "wo"])
def test_a_title_in_another_language_selects_the_choice(lang):
    # The user reads Bambara buttons but types the French word, or the reverse.
    t = translator(lang)
    shown = [Choice("flow:report:cancel", t.gettext("Annuler")),
             Choice("flow:report:voice", t.gettext("J'ai envoyé un vocal"))]
    assert match_choice("annuler", shown) == "flow:report:cancel"
    french = [Choice("flow:report:cancel", "Annuler"),
              Choice("flow:report:voice", "J'ai envoyé un vocal")]
    if t.gettext("Annuler") != "Annuler":
        assert match_choice(t.gettext("Annuler"), french) == "flow:report:cancel"


def test_content_titles_are_matched_in_any_language():
    from bot.content import get_content

    content = get_content()
    menu = content.menu("main")
    shown = [Choice(item.choice_id, item.title("fr")) for item in menu.items_for("ML")]
    target = shown[1]
    assert match_choice(target.title, shown) == target.id
    assert match_choice(target.title.upper() + " !", shown) == target.id
    bambara = str(content.choice_title(target.id, "bm"))
    assert match_choice(bambara, shown) == target.id
