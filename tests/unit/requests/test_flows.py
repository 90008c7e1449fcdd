"""Conversations through the request flows, driving `Talk.respond` directly (no Rasa)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.core.privacy import handle_private_input, sensitive_mode_of
from bot.store import requests as store
from bot.store.models import (
    ChannelIdentity,
    Consent,
    Contact,
    FollowUpRequest,
    InboxMessage,
)
from bot.testing.conversation import Conversation
from tests.unit.requests.conftest import make_contact, miner


def only_request(db) -> FollowUpRequest:
    with db.session() as session:
        [request] = session.scalars(select(FollowUpRequest)).all()
        return request


def type_privately(db, vault, chat: Conversation, text: str) -> None:
    """What the gateway does with a message typed in a sensitive step."""
    with db.session() as session:
        contact = session.get(Contact, chat.transport.contact_id)
        private = handle_private_input(contact.sensitive_mode or "protection", "text", text,
                                       contact.last_choices, vault.encrypt)
        if private.callback_draft:
            contact.callback_draft = private.callback_draft
    chat.press(private.choice)


def set_mode(db, chat: Conversation) -> None:
    """What the gateway remembers after a reply (Contact.sensitive_mode)."""
    with db.session() as session:
        mode = sensitive_mode_of(chat.last[-1])
        session.get(Contact, chat.transport.contact_id).sensitive_mode = mode


# -------------------------------------------------------------------------- report
def test_report_a_problem_from_start_to_reference_code(db, chat):
    chat.say("je veux signaler un problème", intent="report_problem")
    assert chat.text == "Quel est le problème ?"
    assert chat.choices == [f"flow:report:cat:{c}" for c in (
        "land_conflict", "extortion", "accident", "pollution", "child_labour", "violence",
        "other")] + ["flow:report:cancel", "menu:main"]
    chat.press("flow:report:cat:pollution")
    assert chat.text == "Où ? Écrivez le nom du village ou du site, ou envoyez votre position."
    assert chat.choices == ["flow:report:cancel", "menu:main"]
    chat.say("kenieba")
    assert chat.step == "description"
    chat.say("Le cyanure coule dans le marigot depuis une semaine")
    assert chat.choices == ["flow:report:contact:here", "flow:report:contact:phone",
                            "flow:report:contact:no", "flow:report:cancel", "menu:main"]
    chat.press("flow:report:contact:here")
    assert chat.text == ("Votre demande :\n• Pollution\n• Lieu : Kéniéba\n• Le cyanure coule "
                         "dans le marigot depuis une semaine\n• Être contacté(e) : oui, ici\n"
                         "On l'envoie ?")
    assert chat.choices == ["flow:report:confirm", "flow:report:cancel", "menu:main"]
    chat.press("flow:report:confirm")
    request = only_request(db)
    assert chat.text.startswith(f"Demande envoyée. Votre code : {request.reference_code}\n")
    assert chat.choices == ["menu:main"]
    assert request.reference_code.startswith("ML-")
    assert (request.category, request.country, request.locality, request.cluster) == (
        "pollution", "ML", "Kéniéba", 4)
    assert request.summary == "Le cyanure coule dans le marigot depuis une semaine"
    assert (request.callback_method, request.partner_id, request.channel) == (
        "channel", "femima", "whatsapp")
    assert chat.state.flow is None


def test_an_unknown_place_is_kept_as_typed_and_the_country_is_asked(db, contact):
    chat = miner(contact)
    chat.press("flow:report:start")
    chat.press("flow:report:cat:land_conflict")
    chat.say("Campement de Wuroxaana haut")
    assert chat.step == "country" and chat.text == "Dans quel pays ?"
    assert chat.choices == ["flow:report:country:ML", "flow:report:country:GN",
                            "flow:report:country:SN", "flow:report:cancel", "menu:main"]
    chat.press("flow:report:country:SN")
    chat.say("Un voisin a pris notre puits")
    chat.press("flow:report:contact:no")
    chat.press("flow:report:confirm")
    request = only_request(db)
    assert (request.locality, request.country, request.partner_id) == (
        "Campement de Wuroxaana haut", "SN", "la_lumiere")
    assert not request.callback_consent


def test_a_shared_location_names_the_nearest_known_place(db, chat):
    chat.press("flow:report:start")
    chat.press("flow:report:cat:accident")
    chat.say('/share_location{"latitude": 11.42, "longitude": -9.17}', intent="share_location",
             latitude="11.42", longitude="-9.17")
    assert chat.step == "description"
    assert chat.state.flow["locality"] == "Siguiri"


def test_a_voice_note_can_be_the_description(db, chat):
    with db.session() as session:
        session.add(InboxMessage(channel="whatsapp", channel_message_id="v1",
                                 contact_id=chat.transport.contact_id, kind="voice", status="done",
                                 payload={}))
    chat.press("flow:report:start")
    chat.press("flow:report:cat:extortion")
    chat.say("Sadiola")
    assert chat.choices == ["flow:report:voice", "flow:report:cancel", "menu:main"]
    chat.press("flow:report:voice")
    chat.press("flow:report:contact:no")
    assert chat.text.splitlines()[3] == "• message vocal"
    chat.press("flow:report:confirm")
    with db.session() as session:
        voice = session.scalar(select(InboxMessage.id).where(InboxMessage.kind == "voice"))
    assert only_request(db).attachments == [voice]


def test_a_callback_number_is_typed_privately_and_stored_encrypted(db, vault, chat):
    chat.press("flow:report:start")
    chat.press("flow:report:cat:accident")
    chat.say("Kéniéba")
    chat.say("Un puits s'est effondré")
    chat.press("flow:report:contact:phone")
    assert chat.last.replies[-1].sensitive
    set_mode(db, chat)
    type_privately(db, vault, chat, "pas maintenant")
    assert chat.text == ("Ce n'est pas un numéro de téléphone. Écrivez-le comme ceci : "
                         "76 12 34 56.")
    assert chat.choices == ["flow:report:cancel", "menu:main"] and chat.last.replies[-1].sensitive
    type_privately(db, vault, chat, "+223 76 55 44 33")
    assert chat.step == "summary"
    chat.press("flow:report:confirm")
    request = only_request(db)
    assert request.callback_method == "phone"
    assert vault.decrypt(request.callback_contact_encrypted) == "+22376554433"
    with db.session() as session:
        assert session.get(Contact, chat.transport.contact_id).callback_draft is None
        assert [c.scope for c in session.scalars(select(Consent))] == ["callback"]


@pytest.mark.parametrize("steps", [[], ["flow:report:cat:pollution"],
                                   ["flow:report:cat:pollution", "@Kéniéba"]])
def test_every_report_step_can_be_cancelled(db, chat, steps):
    chat.press("flow:report:start")
    for step in steps:
        chat.say(step[1:]) if step.startswith("@") else chat.press(step)
    assert chat.choices[-2:] == ["flow:report:cancel", "menu:main"]
    chat.press("flow:report:cancel")
    assert chat.text == "C'est annulé. Rien n'a été envoyé." and chat.state.flow is None
    assert chat.choices == ["menu:main"]
    with db.session() as session:
        assert session.scalars(select(FollowUpRequest)).all() == []


def test_menu_and_zero_leave_the_flow(db, chat):
    chat.press("flow:report:start")
    chat.press("flow:report:cat:pollution")
    chat.say("menu", intent="menu")
    assert chat.state.flow is None
    assert chat.text.startswith("Votre demande n'a pas été envoyée.\n\n")
    assert chat.choices == ["menu:formalisation", "menu:licensing", "menu:safe_practice",
                            "menu:protection"]
    chat.press("flow:report:start")
    chat.press("menu:main")  # what the gateway sends for "0"
    assert chat.state.flow is None


def test_violence_in_a_report_switches_to_protection_without_a_description(
        protection_staff, db, chat):
    chat.press("flow:report:start")
    chat.press("flow:report:cat:violence")
    assert chat.state.flow["name"] == "protection"
    assert "80 00 11 32" in chat.text and "Décrivez" not in chat.text
    assert all(r.sensitive for r in chat.last.replies)


# ---------------------------------------------------------------------- protection
def test_protection_gives_the_country_services_at_once(protection_staff, db, contact):
    chat = miner(contact, country="SN")
    chat.say("aide violences", intent="violence_help")
    assert "116" in chat.text and "gratuit" in chat.text and "STOP" in chat.text
    assert "?" not in chat.text.split("\n")[0]  # no question about what happened
    assert chat.choices == ["flow:protection:callback", "flow:protection:cancel", "menu:main"]
    assert all(r.sensitive for r in chat.last.replies)


def test_no_callback_is_promised_when_no_protection_staff_is_named(db, contact):
    chat = miner(contact, country="ML")
    chat.say("aide violences", intent="violence_help")
    assert "80 00 11 32" in chat.text and "appelez le numéro" in chat.text
    assert chat.choices == ["flow:protection:cancel", "menu:main"]
    chat.press("flow:protection:callback")  # an old button: still no promise
    assert chat.choices == ["flow:protection:cancel", "menu:main"]
    assert chat.state.flow == {"name": "protection", "step": "info"}


def test_protection_asks_the_country_when_unknown(db, contact):
    chat = miner(contact)
    chat.say("aide violences", intent="violence_help")
    assert chat.text == "De l'aide existe, gratuite et confidentielle. Dans quel pays êtes-vous ?"
    assert chat.choices == ["flow:protection:country:ML", "flow:protection:country:GN",
                            "flow:protection:country:SN", "flow:protection:cancel", "menu:main"]
    chat.press("flow:protection:country:GN")
    assert "116" in chat.text and "*1000*1#" in chat.text
    assert chat.state.country == "GN"


@pytest.mark.parametrize("word", ["STOP", "sortir", "Quitter"])
def test_a_quick_exit_word_ends_at_once_and_explains_how_to_clear_the_chat(db, vault, chat, word):
    chat.say("aide violences", intent="violence_help")
    set_mode(db, chat)
    type_privately(db, vault, chat, word)
    assert chat.state.flow is None
    assert "Effacer la discussion" in chat.text
    assert not chat.last.replies[-1].sensitive


def test_a_callback_needs_explicit_consent_and_keeps_only_the_number(
        protection_staff, db, vault, contact):
    chat = miner(contact, country="ML", channel="telegram")
    chat.say("aide violences", intent="violence_help")
    set_mode(db, chat)
    # A number typed before consent is dropped, not kept.
    type_privately(db, vault, chat, "76 00 00 01")
    with db.session() as session:
        assert session.get(Contact, contact).callback_draft is None
    chat.press("flow:protection:callback")
    assert "d'accord" in chat.text
    chat.press("flow:protection:consent")
    set_mode(db, chat)
    type_privately(db, vault, chat, "il m'a frappé hier")  # never kept, never echoed
    assert "frappé" not in chat.text and "pas besoin de raconter" in chat.text
    type_privately(db, vault, chat, "76 12 34 56")
    chat.press("flow:protection:time:evening")
    chat.press("flow:protection:confirm")
    request = only_request(db)
    assert (request.category, request.sensitive, request.summary, request.locality) == (
        "protection", True, None, None)
    assert vault.decrypt(request.callback_contact_encrypted) == "76123456"
    assert request.callback_time == "evening" and request.reference_code in chat.text
    assert chat.last.replies[-1].sensitive


def test_on_whatsapp_this_number_can_be_chosen(protection_staff, db, vault, contact):
    chat = miner(contact, country="GN", channel="whatsapp")
    chat.press("flow:protection:start")
    chat.press("flow:protection:callback")
    chat.press("flow:protection:consent")
    assert chat.text == "À quel numéro ?"
    assert chat.choices == ["flow:protection:number:this", "flow:protection:number:other",
                            "flow:protection:cancel", "menu:main"]
    chat.press("flow:protection:number:this")
    chat.press("flow:protection:time:any")
    chat.press("flow:protection:confirm")
    request = only_request(db)
    assert vault.decrypt(request.callback_contact_encrypted) == "+22376000001"
    with db.session() as session:
        identity = session.scalar(select(ChannelIdentity))
        assert identity.address_encrypted == request.callback_contact_encrypted


def test_annuler_right_after_booking_withdraws_the_callback(protection_staff, db, vault, contact):
    chat = miner(contact, country="GN", channel="whatsapp")
    for choice in ("flow:protection:start", "flow:protection:callback", "flow:protection:consent",
                   "flow:protection:number:this", "flow:protection:time:any",
                   "flow:protection:confirm"):
        chat.press(choice)
    assert [(c.id, c.title) for c in chat.last.replies[-1].choices] == [
        ("flow:protection:cancel", "Annuler le rappel"), ("menu:main", "Menu")]
    set_mode(db, chat)
    type_privately(db, vault, chat, "annuler")
    request = only_request(db)
    assert request.callback_contact_encrypted is None and not request.callback_consent
    assert chat.text == ("Le rappel est annulé et votre numéro est effacé. De l'aide reste "
                         "possible quand vous voulez.")


def test_cancel_keeps_nothing(protection_staff, db, vault, contact):
    chat = miner(contact, country="ML", channel="telegram")
    chat.press("flow:protection:start")
    chat.press("flow:protection:callback")
    chat.press("flow:protection:consent")
    set_mode(db, chat)
    type_privately(db, vault, chat, "70 11 22 33")
    chat.press("flow:protection:cancel")
    with db.session() as session:
        assert session.get(Contact, contact).callback_draft is None
        assert session.scalars(select(FollowUpRequest)).all() == []


# ------------------------------------------------------------------- status, talk, delete
def test_status_answers_only_the_contact_who_asked(db, vault, chat):
    other = miner(make_contact(db, vault, "+22376111111"), country="ML")
    with db.session() as session:
        request = store.create_request(session, contact_id=chat.transport.contact_id,
                                       category="pollution", channel="whatsapp", country="ML")
        request.partner_message = "Nous venons jeudi."
        code = request.reference_code
    chat.say("suivi", intent="check_status")
    assert chat.text == "Choisissez votre demande, ou écrivez son code."
    assert chat.choices == [f"flow:status:ref:{code}", "flow:status:cancel", "menu:main"]
    chat.say(code.lower().replace("-", " "))
    assert "reçue" in chat.text and "Nous venons jeudi." in chat.text
    other.say("suivi", intent="check_status")
    other.say(code)
    assert other.text == f"Je ne trouve pas de demande {code} faite depuis ce téléphone."
    assert other.choices == ["flow:status:cancel", "menu:main"]


def test_talk_to_a_person_shares_only_what_the_user_agrees_to(db, chat):
    with db.session() as session:
        for n, text in enumerate(["Le chef de site demande 5000 F", "2",
                                  "on nous chasse du couloir"]):
            session.add(InboxMessage(channel="whatsapp", channel_message_id=f"t{n}",
                                     contact_id=chat.transport.contact_id, kind="text", text=text,
                                     status="done", payload={}))
    chat.press("flow:talk:start")
    assert chat.text.endswith("?\n« Le chef de site demande 5000 F »\n"
                              "« on nous chasse du couloir »")
    assert chat.choices == ["flow:talk:share", "flow:talk:send", "flow:talk:cancel",
                            "menu:main"]
    chat.press("flow:talk:share")
    request = only_request(db)
    assert request.category == "talk_to_person"
    assert request.summary == "Le chef de site demande 5000 F\non nous chasse du couloir"
    with db.session() as session:
        # Answered here (they asked for it) and the messages shown: both consents recorded.
        assert sorted(c.scope for c in session.scalars(select(Consent))) == [
            "callback", "share_conversation"]


def test_talk_without_sharing_keeps_no_messages(db, chat):
    with db.session() as session:
        session.add(InboxMessage(channel="whatsapp", channel_message_id="t1",
                                 contact_id=chat.transport.contact_id, kind="text", text="secret",
                                 status="done", payload={}))
    chat.press("flow:talk:start")
    chat.press("flow:talk:send")
    assert only_request(db).summary is None


def test_talk_is_offered_after_two_misunderstandings(db, chat):
    chat.say("blabla")
    chat.say("blabla encore")
    assert chat.text == "Je ne comprends toujours pas. Voulez-vous parler à une personne ?"
    assert chat.choices == ["flow:talk:start", "menu:main"]


def test_delete_asks_first_then_marks_the_contact(db, chat):
    chat.say("effacer mes données", intent="delete_data", confidence=0.98)
    assert chat.choices == ["flow:delete:cancel", "flow:delete:confirm", "menu:main"]
    assert chat.state.flow == {"name": "delete", "step": "confirm"}
    with db.session() as session:
        assert session.get(Contact, chat.transport.contact_id).erase_requested_at is None
    chat.press("flow:delete:confirm")
    with db.session() as session:
        assert session.get(Contact, chat.transport.contact_id).erase_requested_at is not None


def test_protection_speaks_the_users_language(db, contact):
    chat = miner(contact, country="ML", language="bm")
    chat.say("n dɛmɛ", intent="violence_help")
    assert "I kelen tɛ" in chat.text and "80 00 11 32" in chat.text
    assert all(r.lang == "bm" for r in chat.last.replies)


def test_oui_and_non_typed_answer_the_report_questions(db, chat):
    chat.press("flow:report:start")
    chat.press("flow:report:cat:pollution")
    chat.say("Sadiola")
    chat.say("De la boue partout dans la rivière")
    chat.say("non", intent="deny")
    assert chat.step == "summary"
    chat.say("oui", intent="affirm")
    request = only_request(db)
    assert request.callback_method is None and request.reference_code in chat.text


def test_a_location_shared_at_a_later_step_is_kept_without_losing_the_report(db, chat):
    chat.press("flow:report:start")
    chat.press("flow:report:cat:pollution")
    chat.say("un village près du fleuve")
    chat.say('/share_location{"latitude": 11.42, "longitude": -9.17}', intent="share_location",
             latitude="11.42", longitude="-9.17")
    assert chat.step == "description" and chat.state.flow["locality"] == "Siguiri"
    chat.say("Des fûts de cyanure dans l'eau")
    chat.press("flow:report:contact:no")
    chat.press("flow:report:confirm")
    request = only_request(db)
    # Siguiri is in Guinea: the Guinean partner follows it up, whatever the user's country.
    assert (request.country, request.partner_id, request.cluster) == (
        "GN", "action_mines_guinee", 1)
