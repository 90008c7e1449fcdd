"""Conversations in local languages through /api/chat and the real Rasa model."""

from __future__ import annotations

from bot.content import get_content
from bot.i18n import translator


def test_a_bambara_conversation(chat):
    # A first message in Bambara: the assistant offers to continue in Bambara.
    chat.say("sanu baara autorisation bɛ sɔrɔ cogo di ?").has_choice("lang:bm", "lang:fr")
    chat.press("lang:bm").has_choice("country:ML")
    answer = chat.press("country:ML")
    assert "meri" in answer.text.lower() or "mairie" in answer.text.lower()
    # Interface text is in Bambara from now on: the main menu's text and its titles.
    main = get_content().menu("main")
    assert main.text("bm") != main.text("fr")  # else the check below proves nothing
    menu = chat.say("menu")
    assert [(r["text"], [(c["id"], c["title"]) for c in r["choices"]]) for r in menu.replies] == [
        (main.text("bm"), [(item.choice_id, item.title("bm")) for item in main.items_for("ML")])]
    closure = chat.say("sanu baara datugu waati ye tuma jumɛn ye ?")
    closure.expect("15")


def test_bambara_without_special_letters_is_understood(chat):
    chat.say("Bonjour")
    chat.press("lang:bm")
    chat.press("country:ML")
    chat.say("mercure ka juguya muso konoma ma wa").expect_not(
        translator("bm").gettext("Je n'ai pas bien compris. Choisissez dans le menu ou écrivez "
                                 "votre question autrement."))


def test_a_wolof_question_in_senegal(chat):
    chat.say("Bonjour")
    chat.press("country:SN")
    chat.say("fan laa mën a jaay sama wurus ?").expect("comptoir")
