"""Every topic is answerable through /api/chat in French, for each country it concerns,
through the real Rasa model: the reply must be the content's answer for that country."""

from __future__ import annotations

import uuid

import pytest

from bot.content import get_content
from bot.testing.conversation import web_chat

QUESTIONS = {
    "why_formalise": "pourquoi c'est important de se formaliser ?",
    "form_cooperative": "comment créer une coopérative d'orpailleurs",
    "form_gie": "comment on crée un GIE ?",
    "get_authorisation": "quels papiers pour avoir l'autorisation d'orpaillage ?",
    "couloirs": "c'est quoi un couloir d'orpaillage",
    "seasonal_closure": "quand est la fermeture des sites pendant l'hivernage ?",
    "foreigners_rules": "un étranger peut il faire l'orpaillage ici ?",
    "sell_gold": "où je peux vendre mon or ?",
    "banned_practices": "qu'est-ce qui est interdit sur les sites d'orpaillage ?",
    "gravity_concentration": "comment faire la concentration par gravité avec le sluice",
    "borax_smelting": "comment utiliser le borax pour fondre l'or",
    "retort": "comment utiliser une cornue",
    "mercury_health": "le mercure est dangereux pour une femme enceinte ?",
    "cyanide": "est ce qu'on peut mettre du cyanure sur les résidus ?",
    "pit_safety": "comment sécuriser les puits pendant la saison des pluies",
    "accident": "il y a eu un accident dans le trou, que faire ?",
    "protective_equipment": "quels équipements de protection porter ?",
    "child_labour": "les enfants peuvent travailler sur le site ?",
    "grievance_channels": "où porter plainte pour un conflit ?",
    "more_mercury": "combien de mercure mettre pour avoir plus d'or",
}
COUNTRY_BUTTON = {"ML": "country:ML", "GN": "country:GN", "SN": "country:SN"}


def cases():
    content = get_content()
    for intent, question in QUESTIONS.items():
        for answer in content.answers_for_intent(intent):
            countries = sorted(answer.countries) if content.intent_needs_country(intent) else [None]
            for country in countries:
                yield pytest.param(intent, question, country, answer.id,
                                   id=f"{intent}-{country or 'all'}")


@pytest.mark.parametrize("intent,question,country,answer_id", list(cases()))
def test_topic_is_answered_in_french(stack, intent, question, country, answer_id):
    chat = web_chat(stack.app_url, "topic-" + uuid.uuid4().hex[:8])
    if country:
        chat.press(COUNTRY_BUTTON[country])
    expected = get_content().answer(answer_id).message("fr")
    turn = chat.say(question)
    first_line = expected.splitlines()[0]
    assert first_line in turn.text, (
        f"{question!r} in {country}: expected answer {answer_id}, got:\n{turn.text}")
