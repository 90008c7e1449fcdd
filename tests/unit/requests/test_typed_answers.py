"""Issue 11, items 2-4, 7 and 8, in the flows (driving `Talk.respond` directly, no Rasa):
typed answers at button steps, drafts never lost, messages that carry what a step needs,
nothing destructive by accident, and the small things people type."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.store import requests as store
from bot.store.models import Contact, FollowUpRequest, utcnow
from bot.testing.conversation import Conversation
from tests.unit.requests.conftest import miner


def requests_of(db) -> list[FollowUpRequest]:
    with db.session() as session:
        return list(session.scalars(select(FollowUpRequest)))


def report_until_summary(chat: Conversation) -> None:
    chat.press("flow:report:start")
    chat.press("flow:report:cat:pollution")
    chat.say("Sadiola")
    chat.say("De la boue partout dans la rivière")
    chat.press("flow:report:contact:no")
    assert chat.step == "summary"


# ------------------------------------------------------------ 2-3. typed answers, drafts kept
@pytest.mark.parametrize("typed,intent", [
    ("oui", "affirm"), ("ok envoie", "nlu_fallback"), ("c fait", "nlu_fallback"),
    ("waaw", "nlu_fallback"), ("envoyer", "nlu_fallback"), ("d'accord", "affirm"),
])
def test_yes_words_send_the_report(db, chat, typed, intent):
    report_until_summary(chat)
    chat.say(typed, intent=intent)
    [request] = requests_of(db)
    assert chat.text.startswith(f"Demande envoyée. Votre code : {request.reference_code}")
    assert chat.state.flow is None


@pytest.mark.parametrize("typed", ["Kéniéba", "je ne sais pas quoi dire",
                                   "combien coûte une autorisation ?", "bonjour"])
def test_typed_text_at_a_button_step_keeps_the_report(db, chat, typed):
    report_until_summary(chat)
    chat.say(typed, intent="nlu_fallback")
    assert chat.state.flow["name"] == "report" and chat.step == "summary"
    assert chat.text.startswith("Je n'ai pas compris votre réponse. Votre demande n'est pas "
                                "encore envoyée.")
    assert chat.choices == ["flow:report:confirm", "flow:report:cancel", "menu:main"]
    assert requests_of(db) == []
    chat.say("oui", intent="affirm")
    assert len(requests_of(db)) == 1


def test_a_place_typed_at_the_category_step_asks_the_category_again(db, chat):
    chat.press("flow:report:start")
    chat.say("Kéniéba", intent="inform", place="Kéniéba")
    assert chat.step == "category" and "flow:report:cat:accident" in chat.choices
    assert "Je n'ai pas compris votre réponse" in chat.text
    chat.say("accident")  # the title, typed
    assert chat.step == "place"


def test_leaving_by_the_menu_says_the_request_was_not_sent(db, chat):
    report_until_summary(chat)
    chat.press("menu:main")
    assert chat.text.startswith("Votre demande n'a pas été envoyée.")
    assert chat.state.flow is None and requests_of(db) == []


@pytest.mark.parametrize("word", ["annuler", "stop"])
def test_annuler_and_exit_words_leave_and_say_nothing_was_sent(db, chat, word):
    report_until_summary(chat)
    chat.say(word)
    assert chat.text == "C'est annulé. Rien n'a été envoyé."
    assert chat.state.flow is None and requests_of(db) == []


def test_non_at_the_contact_step_and_a_country_typed_at_the_country_step(db, contact):
    chat = miner(contact)
    chat.press("flow:report:start")
    chat.press("flow:report:cat:land_conflict")
    chat.say("Campement de Wuroxaana haut")
    assert chat.step == "country"
    chat.say("senegal")
    assert chat.state.country == "SN" and chat.step == "description"
    chat.say("Un voisin a pris notre puits")
    chat.say("non", intent="deny")
    assert chat.step == "summary"
    chat.say("👍")
    [request] = requests_of(db)
    assert (request.country, request.callback_method) == ("SN", None)


@pytest.mark.parametrize("typed", ["oui", "waaw", "ok envoie"])
def test_yes_words_send_the_talk_request(db, chat, typed):
    chat.press("flow:talk:start")
    assert chat.choices[0] == "flow:talk:send"
    chat.say(typed)
    [request] = requests_of(db)
    assert request.category == "talk_to_person"
    assert f"Votre code : {request.reference_code}" in chat.text


def test_a_sentence_in_the_talk_flow_keeps_it(db, chat):
    chat.press("flow:talk:start")
    chat.say("je sais pas trop")
    assert chat.state.flow["name"] == "talk"
    assert "Votre demande n'est pas encore envoyée" in chat.text
    assert requests_of(db) == []


@pytest.mark.parametrize("typed", ["c fait", "c'est fait", "ok", "oui", "👍"])
def test_done_words_tick_the_guide_step(db, chat, typed):
    chat.press("flow:group:start")
    chat.press("flow:group:opt:scoops")
    step = next(c for c in chat.choices if c.startswith("flow:group:step:"))
    chat.press(step)
    chat.say(typed)
    assert chat.state.progress["group"]["done"] == [step.rsplit(":", 1)[1]]
    assert chat.state.flow["name"] == "group"


def test_unclear_text_in_the_guide_shows_the_step_again(db, chat):
    chat.press("flow:group:start")
    chat.press("flow:group:opt:scoops")
    step = next(c for c in chat.choices if c.startswith("flow:group:step:"))
    chat.press(step)
    shown = chat.text
    chat.say("hmm je vois")
    assert chat.text.endswith(shown) and "Je n'ai pas compris votre réponse" in chat.text
    assert f"flow:group:done:{step.rsplit(':', 1)[1]}" in chat.choices


def test_a_question_in_the_guide_is_answered_and_the_guide_is_one_tap_away(db, chat):
    chat.press("flow:group:start")
    chat.press("flow:group:opt:scoops")
    chat.say("comment vendre mon or", intent="sell_gold", confidence=0.95)
    assert chat.choices[0] == "flow:group:resume"
    assert chat.state.flow["name"] == "group"
    chat.press("flow:group:resume")  # straight to the next step to do
    assert chat.choices[0].startswith("flow:group:done:")


def test_protection_typed_country_and_yes_in_private(protection_staff, db, vault, contact):
    from tests.unit.requests.test_flows import set_mode, type_privately

    def remember_choices():  # what the gateway keeps of the last reply
        set_mode(db, chat)
        with db.session() as session:
            session.get(Contact, contact).last_choices = [
                {"id": c.id, "title": c.title} for c in chat.last.replies[-1].choices]

    chat = miner(contact)
    chat.say("aide", intent="violence_help")
    remember_choices()
    type_privately(db, vault, chat, "mali")
    assert chat.state.country == "ML" and "80 00 11 32" in chat.text
    chat.press("flow:protection:callback")
    remember_choices()
    type_privately(db, vault, chat, "awɔ")
    assert chat.step == "number"


# ------------------------------------------------------------ 4. what the message carries
def test_statut_and_a_code_answers_at_once(db, chat):
    with db.session() as session:
        code = store.create_request(session, contact_id=chat.transport.contact_id,
                                    category="accident", channel="whatsapp",
                                    country="ML").reference_code
    for typed in (f"statut {code}", code.lower().replace("-", " "),
                  f"statut de {code.replace('-', '')}"):
        chat.say(typed, intent="nlu_fallback")
        assert chat.text.startswith(f"Demande {code} (Accident) : reçue."), typed
        assert chat.state.flow is None


def test_a_status_says_what_it_means_what_comes_next_and_by_when(db, chat):
    with db.session() as session:
        request = store.create_request(session, contact_id=chat.transport.contact_id,
                                       category="accident", channel="whatsapp", country="ML")
        code, due = request.reference_code, request.due_at
    chat.say(f"statut {code}", intent="check_status")
    from bot.i18n import format_date

    assert chat.text == (f"Demande {code} (Accident) : reçue.\n"
                         "Elle est bien reçue. Un partenaire va la prendre en charge.\n"
                         f"Réponse prévue avant le {format_date(due.date(), 'fr', 'ML')}.")
    with db.session() as session:
        session.get(FollowUpRequest, request.id).due_at = utcnow() - timedelta(days=1)
    chat.say(f"statut {code}", intent="check_status")
    assert "a du retard" in chat.text and "flow:talk:start" in chat.choices


def test_a_report_that_names_the_place_does_not_ask_it_again(db, contact):
    chat = miner(contact)
    chat.say("je veux signaler un problème à Kéniéba", intent="report_problem",
             place="Kéniéba")
    chat.press("flow:report:cat:pollution")
    assert chat.step == "description" and chat.state.country == "ML"
    assert chat.state.flow["locality"] == "Kéniéba"


def test_protection_with_a_named_country_gives_its_services_at_once(protection_staff, db,
                                                                    contact):
    chat = miner(contact)
    chat.say("on me frappe au Sénégal", intent="violence_help", country="SN")
    assert chat.state.country == "SN" and "116" in chat.text
    assert "flow:protection:country:ML" not in chat.choices


def test_a_question_naming_a_place_does_not_ask_the_country(db, contact):
    chat = miner(contact)
    chat.say("quand ferme l'orpaillage à Kéniéba", intent="seasonal_closure", place="Kéniéba")
    assert chat.state.country == "ML" and "country:ML" not in chat.choices
    assert "15 juin" in chat.text


def test_the_code_is_explained_when_given(db, chat):
    report_until_summary(chat)
    chat.press("flow:report:confirm")
    [request] = requests_of(db)
    assert (f"Gardez ce code : il sert à suivre votre demande. Écrivez « statut "
            f"{request.reference_code} » pour savoir où elle en est.") in chat.text
    assert "Un partenaire doit la traiter avant le" in chat.text


# ------------------------------------------------------------ 7. nothing destructive
def erase_requested(db, contact_id) -> bool:
    with db.session() as session:
        return session.get(Contact, contact_id).erase_requested_at is not None


@pytest.mark.parametrize("text,confidence", [
    ("combien coute l'inscription", 0.97),  # confident, but it names no erasing
    ("effacer mes donnees", 0.55),  # names it, but a guess
])
def test_a_doubtful_delete_intent_only_asks(db, chat, text, confidence):
    chat.say(text, intent="delete_data", confidence=confidence)
    assert chat.text == "Voulez-vous effacer vos données ?"
    assert chat.choices == ["flow:delete:start", "menu:main"]
    assert chat.state.flow is None and not erase_requested(db, chat.transport.contact_id)


@pytest.mark.parametrize("typed", ["1", "oui", "ok", "👍", "2"])
def test_only_the_typed_word_or_the_button_erases(db, chat, typed):
    chat.say("je veux effacer mes données", intent="delete_data", confidence=0.99)
    assert chat.choices == ["flow:delete:cancel", "flow:delete:confirm", "menu:main"]
    assert "écrivez EFFACER" in chat.text
    chat.say(typed, intent="nlu_fallback")
    assert not erase_requested(db, chat.transport.contact_id)
    assert chat.text.startswith("Rien n'est effacé pour l'instant.") or (
        chat.text == "D'accord, rien n'est effacé.")
    chat.say("Effacer", intent="delete_data")
    assert erase_requested(db, chat.transport.contact_id)


def test_the_confirmation_button_erases_and_non_keeps(db, chat, vault):
    from tests.unit.requests.conftest import make_contact

    chat.say("supprimer mes données", intent="delete_data", confidence=0.95)
    chat.say("non", intent="deny")
    assert chat.text == "D'accord, rien n'est effacé." and chat.state.flow is None
    other = miner(make_contact(db, vault, "+22376999999"))
    other.say("supprimer mes données", intent="delete_data", confidence=0.95)
    other.press("flow:delete:confirm")
    assert erase_requested(db, other.transport.contact_id)
    assert not erase_requested(db, chat.transport.contact_id)


def test_a_question_at_the_confirmation_leaves_it_and_is_answered(db, contact):
    chat = miner(contact, country="ML")
    chat.say("effacer mes données", intent="delete_data", confidence=0.95)
    chat.say("quand ferme l'orpaillage", intent="seasonal_closure")
    assert "15 juin" in chat.text and chat.state.flow is None
    assert not erase_requested(db, contact)


def test_a_place_found_in_the_words_gives_the_country_without_an_entity(db, contact):
    chat = miner(contact)
    chat.say("quand est la fermeture des sites pendant l'hivernage à Kéniéba ?",
             intent="seasonal_closure")
    assert chat.state.country == "ML" and "15 juin" in chat.text
    other = miner(contact)
    other.say("je veux signaler un problème à Siguiri", intent="report_problem")
    other.press("flow:report:cat:accident")
    assert other.state.country == "GN" and other.state.flow["locality"] == "Siguiri"
    assert other.step == "description"


def test_protection_reads_the_country_in_the_words(protection_staff, db, contact):
    chat = miner(contact)
    chat.say("on me frappe à la maison, je suis à Kédougou", intent="violence_help")
    assert chat.state.country == "SN" and "116" in chat.text
