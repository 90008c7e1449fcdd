"""Issue 11, item 7, through the real Rasa: erasure starts only on an explicit request and is
confirmed by the typed word or the button, never by a menu number."""

from __future__ import annotations

from bot.testing.conversation import Conversation, Turn


def open_confirmation(chat: Conversation) -> Turn:
    turn = chat.say("je veux effacer mes données")
    ids = [c["id"] for c in turn.choices]
    if "flow:delete:start" in ids:  # the NLU was not sure enough: asked first
        turn = chat.press("flow:delete:start")
    return turn.has_choice("flow:delete:confirm").expect("EFFACER")


def test_numbers_typed_at_the_confirmation_never_erase(chat: Conversation):
    chat.say("Bonjour")
    open_confirmation(chat)
    chat.say("1").expect("rien n'est effacé").expect_not("sont effacées")
    open_confirmation(chat)
    chat.say("2").expect_not("sont effacées")
    chat.say("oui").expect_not("sont effacées")
    open_confirmation(chat)
    chat.say("EFFACER").expect("vos données sont effacées")


def test_a_question_about_registration_never_opens_the_confirmation(chat: Conversation):
    chat.say("Bonjour")
    chat.press("country:ML")
    for text in ("combien coûte l'inscription ?", "1"):
        turn = chat.say(text)
        ids = [c["id"] for c in turn.choices]
        assert "flow:delete:confirm" not in ids, turn.text
        turn.expect_not("sont effacées")
