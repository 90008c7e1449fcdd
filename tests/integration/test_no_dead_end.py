"""Through the real Rasa: a long message is answered by its strongest question and offers the
other topic; a message no intent matches offers the closest answers, a person and the menu,
and the miss (and what the user then chose) is kept for the learning loop."""

from __future__ import annotations

import json
import sqlite3

import httpx
import pytest

from bot.content.search import suggest
from bot.core.normalize import normalize
from bot.testing.conversation import Conversation, web_chat

STORY = ("Salut. Je travaille a Kenieba avec mes freres depuis deux ans. On utilise le mercure "
         "pour laver et ma femme tousse beaucoup depuis. Ou est-ce que je peux vendre mon or a "
         "un bon prix ?")
# Mining questions in words the classifier does not know well. Which ones it misses depends
# on the trained model: the test takes the first one the real Rasa falls back on.
VAGUE = ["les trucs pour le trou la", "kestion sur le trou profond la",
         "le produit la pour la poudre", "ya koi pour nous les gens du placer",
         "les histoires de papier la", "le sable la qui brille on fait komen pr le separer",
         "pb avec la chose la du puits", "les affaires de la poudre jaune la"]


def a_message_rasa_misses(stack) -> tuple[str, list[str]]:
    """The first vague message the real model falls back on, and what the search offers."""
    for text in VAGUE:
        parsed = httpx.post(f"{stack.rasa_url}/model/parse", json={"text": normalize(text)},
                            params={"token": stack.rasa_token}, timeout=30).json()
        offered = suggest(normalize(text), "fr", "SN")
        if parsed["intent"]["name"] == "nlu_fallback" and offered:
            return text, [s.answer_id for s in offered]
    pytest.fail("the model understands every vague message: add vaguer ones")


def misses(stack) -> list[dict]:
    with sqlite3.connect(stack.workdir / "assistant.db") as db:
        db.row_factory = sqlite3.Row
        return [dict(r) for r in db.execute("SELECT * FROM understanding_misses ORDER BY id")]


def test_a_long_story_gets_the_answer_to_its_question_and_the_other_topic(chat: Conversation):
    chat.say("Salut")
    chat.press("country:ML")
    turn = chat.say(STORY)
    turn.expect("Vous avez aussi parlé de")
    # The answer to the question at the end: selling gold in Mali.
    assert turn.replies[0]["text"] != turn.replies[-1]["text"]
    # The other topic: mercury and health (the part about the wife's cough).
    others = [c["id"] for c in turn.replies[-1]["choices"] if c["id"].startswith("answer:")]
    assert others and set(others) <= {"answer:mercury_health", "answer:health_risks"}, others
    chat.press(others[0]).expect("mercure")


def test_the_story_answer_is_the_sell_gold_answer(chat: Conversation, stack):
    chat.say("Salut")
    chat.press("country:GN")
    direct = web_chat(chat.transport.base_url, chat.transport.sender + "-b")
    direct.say("Salut")
    direct.press("country:GN")
    expected = direct.say("Ou est-ce que je peux vendre mon or a un bon prix ?").replies[0]["text"]
    assert chat.say(STORY).replies[0]["text"] == expected


def test_a_vague_mining_message_offers_the_closest_answers_a_person_and_the_menu(chat: Conversation,
                                                                               stack):
    chat.say("Salut")
    chat.press("country:SN")
    text, expected = a_message_rasa_misses(stack)
    turn = chat.say(text)
    turn.expect("Vouliez-vous parler de")
    ids = [c["id"] for c in turn.choices]
    suggested = [i for i in ids if i.startswith("answer:")]
    assert suggested == [f"answer:{a}" for a in expected] and len(suggested) <= 3
    assert all(a.startswith("sn_") or a[:3] not in ("ml_", "gn_") for a in expected)
    assert "flow:talk:start" in ids and "menu:main" in ids
    chosen = suggested[-1].removeprefix("answer:")
    shown = chat.press(suggested[-1])
    assert not shown.text.startswith("Vouliez-vous")
    kept = [m for m in misses(stack) if m["text"] == normalize(text)]
    assert len(kept) == 1
    [miss] = kept
    assert miss["channel"] == "web" and miss["language"] == "fr" and miss["country"] == "SN"
    assert json.loads(miss["suggested"]) == expected
    assert miss["chosen"] == chosen and miss["contact_id"]


def test_gibberish_gets_the_menu_and_a_person_on_the_second_try(chat: Conversation):
    chat.say("Salut")
    first = chat.say("qsdkjh azerty wxcvb")
    first.expect_not("Vouliez-vous").has_choice("menu:licensing")
    chat.say("pfff mlkjh poiuy").has_choice("flow:talk:start")
