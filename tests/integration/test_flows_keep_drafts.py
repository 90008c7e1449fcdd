"""Issue 11, item 3, through the real Rasa: typed text at a button step never silently ends a
flow; yes/ok/done words of any language answer the step."""

from __future__ import annotations

import re

from bot.testing.conversation import Conversation

CODE = re.compile(r"\b(ML|GN|SN)-[A-HJ-KM-NP-Z2-9]{6}\b")


def report_until_summary(chat: Conversation) -> None:
    chat.press("country:ML")
    chat.press("flow:report:start")
    chat.press("flow:report:cat:pollution").expect("Où")
    chat.say("Sadiola").expect("Décrivez")
    chat.say("de la boue de cyanure partout dans la riviere")
    chat.press("flow:report:contact:no").expect("On l'envoie ?").has_choice(
        "flow:report:confirm")


def test_a_sentence_at_the_summary_keeps_the_report_then_ok_envoie_sends_it(chat: Conversation):
    report_until_summary(chat)
    kept = chat.say("Kéniéba c'est loin de chez moi")
    kept.expect("Je n'ai pas compris votre réponse", "pas encore envoyée", "On l'envoie ?")
    kept.has_choice("flow:report:confirm", "flow:report:cancel")
    sent = chat.say("ok envoie").expect("Demande envoyée", "Gardez ce code")
    assert CODE.search(sent.text), sent.text


def test_waaw_sends_the_talk_request(chat: Conversation):
    chat.press("country:SN")
    chat.press("flow:talk:start").has_choice("flow:talk:send")
    chat.say("waaw").expect("C'est envoyé", "Votre code")


def test_c_fait_ticks_the_guide_step(chat: Conversation):
    chat.press("flow:group:start")
    checklist = chat.press("flow:group:opt:scoops")
    step = next(c["id"] for c in checklist.choices if c["id"].startswith("flow:group:step:"))
    chat.press(step)
    ticked = chat.say("c fait")
    ticked.expect("✅ 1.")


def test_menu_leaves_and_says_the_request_was_not_sent(chat: Conversation):
    report_until_summary(chat)
    chat.say("menu").expect("Votre demande n'a pas été envoyée.")
