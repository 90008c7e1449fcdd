"""Issue 11, item 4, through the real Rasa: a message that carries what a step needs fills
it: a status code is answered at once; a named place is not asked for again."""

from __future__ import annotations

import re

from bot.testing.conversation import Conversation

CODE = re.compile(r"\b(ML|GN|SN)-[A-HJ-KM-NP-Z2-9]{6}\b")


def make_request(chat: Conversation) -> str:
    chat.press("country:ML")
    chat.press("flow:talk:start")
    done = chat.press("flow:talk:send")
    match = CODE.search(done.text)
    assert match, done.text
    return match.group(0)


def test_statut_and_a_code_is_answered_at_once(chat: Conversation):
    code = make_request(chat)
    for typed in (f"statut {code}", code.lower().replace("-", " "),
                  f"statut de {code.replace('-', '')}"):
        chat.say(typed).expect(f"Demande {code}", "reçue", "Réponse prévue avant le")


def test_a_question_naming_the_place_does_not_ask_the_country(chat: Conversation):
    reply = chat.say("quand est la fermeture des sites pendant l'hivernage à Kéniéba ?")
    ids = [c["id"] for c in reply.choices]
    assert "country:ML" not in ids, reply.text
    reply.expect("15 juin")
