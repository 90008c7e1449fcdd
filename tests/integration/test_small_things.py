"""Issue 11, item 8, through the real Rasa: emoji and "?" are text, a returning user is
offered to resume the guide, the same answer is not given twice without more help, a status
says what it means and by when, "où en est ma plainte" opens the status."""

from __future__ import annotations

import sqlite3

from bot.devtools.stack import Stack
from bot.testing.conversation import Conversation


def test_emoji_and_question_mark_are_understood(chat: Conversation):
    chat.say("?").expect("Choisissez un thème").has_choice("menu:formalisation")
    chat.say("👍").expect("Merci").expect_not("pas pris en charge")
    chat.say("🙏").expect("Merci")


def test_the_same_answer_twice_offers_more_help(chat: Conversation):
    chat.press("country:GN")
    question = "où je peux vendre mon or ?"
    first = chat.say(question)
    again = chat.say(question)
    again.expect("C'est la même réponse").has_choice("flow:talk:start")
    assert again.text.startswith(first.text.split("\n")[0])


def test_ou_en_est_ma_plainte_opens_the_status(chat: Conversation):
    chat.say("où en est ma plainte").expect("code").has_choice("flow:status:cancel")


def contact_id_of(stack: Stack, marker: str) -> str:
    """The contact who typed `marker`."""
    with sqlite3.connect(stack.workdir / "assistant.db") as db:
        [(contact_id,)] = db.execute("SELECT DISTINCT contact_id FROM inbox WHERE text LIKE ?",
                                     (f"%{marker}%",)).fetchall()
    return contact_id


def age_conversation(stack: Stack, contact_id: str, seconds: int) -> None:
    """Move a conversation's last message back in time in the app's database (a pause)."""
    with sqlite3.connect(stack.workdir / "assistant.db") as db:
        assert db.execute("UPDATE conversation_states SET last_user_at = datetime(last_user_at,"
                          " ?) WHERE contact_id = ?",
                          (f"-{seconds} seconds", contact_id)).rowcount == 1


def test_a_returning_user_is_offered_to_resume_the_guide(stack: Stack, chat: Conversation):
    marker = "ZX-RETOUR-" + chat.transport.sender
    chat.say(f"bonjour {marker}")
    chat.press("country:ML")
    chat.press("flow:group:start")
    checklist = chat.press("flow:group:opt:scoops")
    step = next(c["id"] for c in checklist.choices if c["id"].startswith("flow:group:step:"))
    chat.press(step)
    chat.press(step.replace(":step:", ":done:"))
    sender = contact_id_of(stack, marker)
    age_conversation(stack, sender, 2 * 3600)
    back = chat.say("quand est la fermeture des sites pendant l'hivernage ?")
    back.expect("15 juin")
    assert back.choices[0]["id"] == "flow:group:resume", back.choices
    assert back.choices[0]["title"].startswith("Reprendre votre guide, étape 2 sur ")
    resumed = chat.press("flow:group:resume")
    done = [c["id"] for c in resumed.choices if c["id"].startswith("flow:group:done:")]
    assert done and done[0] != step.replace(":step:", ":done:"), resumed.choices
