"""The disclosure detector (bot.core.disclosure) and its evaluation on the DEV set.

The TEST set (nlu/tests/disclosure/test/) is held out: no test here reads it.
"""

from __future__ import annotations

import pytest

from bot.core.disclosure import KINDS, detect, key, segments
from bot.devtools import eval_disclosure


@pytest.mark.parametrize("lang", eval_disclosure.LANGS)
def test_the_dev_set_meets_the_targets(lang):
    row, errors = eval_disclosure.score_set("dev", lang)
    assert row.disclosures >= 10 and row.non_disclosures >= 10
    assert row.recall >= eval_disclosure.RECALL_TARGET, errors
    assert row.precision >= eval_disclosure.PRECISION_TARGET, errors


@pytest.mark.parametrize("text", [
    "la roche m'a frappé au pied",
    "la pluie nous a forcés à partir",
    "il faut forcer la machine pour qu'elle démarre",
    "un éboulement a blessé mon frère au puits",
    "les policiers au poste demandent 2000 à chaque moto",
    "les gendarmes ont pris notre motopompe au barrage",
    "mon mari veut qu'on forme une coopérative",
    "les enfants peuvent-ils travailler au lavage ?",
    "on se bat pour avoir nos papiers",
    "on a frappé la roche toute la journée",
    "le soleil nous tue au site",
    "je suis enceinte, le mercure est-il dangereux ?",
    "bonjour nous sommes une coop de femmes, nous avons 30 membres",
])
def test_near_misses_are_not_disclosures(text):
    assert detect(text).level == "none", detect(text)


@pytest.mark.parametrize("text,kind", [
    ("mon mari me frappe quand je rentre tard", "domestic_violence"),
    ("Mon mari m'a battue hier soir", "domestic_violence"),
    ("le chef de site veut que je dorme chez lui sinon pas de travail", "sexual_coercion"),
    ("un homme m'a prise de force dans la brousse", "rape"),
    ("ma soeur a été violée", "rape"),
    ("le chef d'équipe me touche les fesses", "sexual_harassment"),
    ("le patron frappe les enfants qui lavent l'or", "child_abuse"),
    ("un homme du site a touché ma fille de 9 ans", "child_abuse"),
    ("il a dit qu'il va me tuer si je parle", "threat"),
    ("les gendarmes m'ont roué de coups au poste", "physical_assault"),
])
def test_everyday_french_disclosures_are_sure(text, kind):
    found = detect(text)
    assert found.level == "sure", found
    assert found.kind == kind, found


@pytest.mark.parametrize("text", [
    "n ce be n gosi",                       # bm: my husband beats me
    "cɛ dɔ ye n minɛ fanga la",             # bm: a man took me by force
    "a ko a bena n faga",                   # bm: he said he will kill me
    "n kɛ ye n gbasi",                      # emk: my husband beat me
    "gorko am no fiya lam",                 # ff: my husband beats me
    "gorko gooto nangi lam doole",          # ff: a man grabbed me by force
    "n yugo ga n bugu",                     # snk: my husband beats me
    "yugo ga n mulla fanka ya",             # snk: a man wanted me by force
    "dañu ma dóor",                         # wo: they beat me
    "Dagnou ma door",                       # wo, SMS spelling
    "benn goor dafa ma japp ci doole",      # wo: a man grabbed me by force
])
def test_local_language_disclosures_are_flagged(text):
    assert detect(text).positive, detect(text)


@pytest.mark.parametrize("text", [
    "kaba binna n sen kan",          # bm: a rock fell on my foot
    "dinge ye ba fila faga",         # bm: the pit killed two goats
    "hayre fiyii koyngal am",        # ff: a rock hit my leg
    "tinbe ga n taaxe katu",         # snk: a stone hit my foot
    "doj wi dafa door sama tank",    # wo: the stone hit my foot
    "pax bi dafa rey ñaari bey",     # wo: the pit killed two goats
    "n fa be baara ke damanda la",   # bm: my father works at the mine
])
def test_local_language_near_misses_are_not(text):
    assert detect(text).level == "none", detect(text)


def test_a_long_message_is_read_sentence_by_sentence():
    text = ("Bonjour. Je voulais demander pour la carte d'orpailleur. Mais aussi mon mari me "
            "bat depuis que je gagne mon argent au site. Où aller ?")
    assert segments(text) == [
        "Bonjour", "Je voulais demander pour la carte d'orpailleur",
        "Mais aussi mon mari me bat depuis que je gagne mon argent au site", "Où aller"]
    assert detect(text).level == "sure"


def test_cues_spread_over_sentences_give_at_most_an_offer():
    found = detect("Mon patron est un homme dur. Hier il y a eu de la violence au site.")
    assert found.level in ("none", "unsure")


def test_spellings_meet_and_the_result_keeps_no_text():
    assert key("Dagnou ma dóor") == key("dañu ma door")
    assert key("il m’a frappée") == key("il m a frapé")
    found = detect("il m'a frappée avec un bâton")
    assert found.kind in KINDS
    words = set(key("il m'a frappée avec un bâton").split())
    assert not any(w in cue.split(".") for cue in found.cues for w in words if len(w) > 3)
    assert detect("").level == "none" and detect(None).level == "none"
