"""Issue 16: the new topics through /api/chat and the real Rasa model, per country in French,
and in local languages; the "Sources" choice through the real stack.

The questions are phrased for these tests (not copied from the training data): the reply must
be the content's answer for the user's country."""

from __future__ import annotations

import uuid

import pytest

from bot.content import get_content
from bot.testing.conversation import web_chat

QUESTIONS = {
    "land_conflict":
        "la société minière dit que notre site est sur son permis et veut nous chasser",
    "extortion": "des gendarmes nous obligent à payer chaque semaine sans reçu",
    "taxes_fees": "combien de taxes on doit payer pour notre coopérative d'orpailleurs",
    "first_aid": "mon collègue s'est noyé dans le puits, il ne respire plus, que faire",
    "health_risks": "la poussière quand on broie les cailloux, c'est mauvais pour les poumons ?",
    "site_rehabilitation": "faut-il reboucher les trous quand on quitte le site ?",
    "women_rights": "je suis enceinte, est-ce que je peux continuer le travail au placer ?",
    "savings_credit": "comment notre groupe peut épargner et se prêter de l'argent",
    # "une machine chinoise, c'est légal ?" is read as banned_practices (an older example of
    # that intent says so); both answers speak of legality, see the issue-16 report.
    "equipment_rules":
        "il faut quel papier pour faire tourner une pelleteuse et un concasseur au site",
    "sell_gold": "comment vérifier le poids et le prix avant de vendre mon or",
}
REPORT_FLOW = {"land_conflict", "extortion"}
REPORT_CATEGORIES = ["land_conflict", "extortion", "accident", "pollution", "child_labour",
                     "violence", "other"]


def cases():
    content = get_content()
    for intent, question in QUESTIONS.items():
        for country in ("ML", "GN", "SN"):
            answer = content.answer_for(intent, country)
            yield pytest.param(intent, question, country, answer.id, id=f"{intent}-{country}")


def first_line(answer_id: str) -> str:
    return get_content().answer(answer_id).message("fr").splitlines()[0]


@pytest.mark.parametrize("intent,question,country,answer_id", list(cases()))
def test_new_topic_is_answered_in_french_per_country(stack, intent, question, country, answer_id):
    chat = web_chat(stack.app_url, "topic16-" + uuid.uuid4().hex[:8])
    chat.press(f"country:{country}")
    turn = chat.say(question)
    assert first_line(answer_id) in turn.text, (
        f"{question!r} in {country}: expected answer {answer_id}, got:\n{turn.text}")
    turn.has_choice(f"sources:{answer_id}")
    if intent in REPORT_FLOW:
        turn.has_choice("flow:report:start")


def test_sources_choice_through_the_stack(stack):
    chat = web_chat(stack.app_url, "topic16-src-" + uuid.uuid4().hex[:8])
    chat.press("country:GN")
    chat.say(QUESTIONS["land_conflict"]).has_choice("sources:gn_land_conflict")
    sources = chat.press("sources:gn_land_conflict")
    sources.expect("Sources de « Conflit de terrain » :", "guinee114.com",
                   "Pas encore vérifié par un partenaire")
    sources.has_choice("answer:gn_land_conflict", "menu:main")


def test_land_conflict_leads_to_the_report_flow(stack):
    chat = web_chat(stack.app_url, "topic16-rep-" + uuid.uuid4().hex[:8])
    chat.press("country:SN")
    chat.say("un conflit de terrain avec le village d'à côté pour notre dioura").has_choice(
        "flow:report:start")
    started = chat.press("flow:report:start")  # the request flow begins (its tests go further)
    assert started.text == "Quel est le problème ?"
    assert [c["id"] for c in started.choices] == [
        f"flow:report:cat:{category}" for category in REPORT_CATEGORIES] + [
        "flow:report:cancel", "menu:main"]


def test_a_bambara_question_on_illegal_levies_in_mali(chat):
    chat.say("sɔrɔdasiw bɛ wari ɲini an fɛ sanu kolon na reçu tɛ").has_choice("lang:bm")
    chat.press("lang:bm").has_choice("country:ML")
    chat.press("country:ML").expect(first_line("ml_extortion"))


def test_a_wolof_question_on_land_in_senegal(chat):
    chat.say("am nanu xeex ci suuf bi ak société minière bi").has_choice("lang:wo")
    chat.press("lang:wo").has_choice("country:SN")
    chat.press("country:SN").expect(first_line("sn_land_conflict"))


def test_a_pular_question_on_women_in_guinea(chat):
    chat.say("Bonjour")
    chat.press("lang:ff")
    chat.press("country:GN")
    chat.say("debbo reedu ina waawi gasde kaŋŋe e site na").expect(first_line("gn_women"))


def test_a_maninka_question_on_machines_in_guinea(chat):
    chat.say("Bonjour")
    chat.press("lang:emk")
    chat.press("country:GN")
    chat.say("machine chinoise si baara kɛ an ka site la wa").expect(first_line("gn_equipment"))
