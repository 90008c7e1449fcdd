"""The disclosure safety net through the real stack: web chat -> app -> real Rasa NLU -> dialogue.

A disclosure written in everyday words, which the trained model does not read as
`violence_help`, must still reach the hotline; a doubtful one is offered confidential help
first (privately), and "Non, continuer" carries on.
"""

from __future__ import annotations

import uuid

import httpx

from bot.content import get_content
from bot.core.normalize import normalize
from bot.devtools.stack import Stack
from bot.testing.conversation import Conversation, web_chat

MALI_HOTLINE = "80 00 11 32"
EVERYDAY_DISCLOSURES = [
    "mon patron veut que je dorme chez lui sinon il me renvoie",
    "le gerant dit que si je viens pas chez lui le soir je perds ma place au lavage",
    "le chef de chantier me touche les fesses tous les jours",
    "mon mari me tape avec la ceinture quand il boit",
    "les tomboulouma m'ont tabassé au site hier",
]


# Doubtful to the detector (bot/core/disclosure: "unsure"); the test takes the first one the
# model does not read as violence_help (which would rightly open the protection flow at once).
DOUBTFUL = [
    "un homme me suit partout",
    "il me fait peur quand je rentre du site",
    "il me colle partout au placer",
    "j ai peur de rentrer seule du site",
]


def a_doubtful_message(stack: Stack) -> str:
    from bot.core.disclosure import detect

    for text in DOUBTFUL:
        assert detect(text).level == "unsure", text
        if intent_of(stack, text) != "violence_help":
            return text
    raise AssertionError("the model reads every doubtful phrasing as violence_help: add one")


def intent_of(stack: Stack, text: str) -> str:
    response = httpx.post(f"{stack.rasa_url}/model/parse", params={"token": stack.rasa_token},
                          json={"text": normalize(text)}, timeout=60)
    response.raise_for_status()
    return response.json()["intent"]["name"]


def new_chat(stack: Stack) -> Conversation:
    chat = web_chat(stack.app_url, "disc-" + uuid.uuid4().hex[:10])
    chat.say("Bonjour")
    chat.press("country:ML")
    return chat


def test_a_disclosure_the_nlu_misreads_still_reaches_the_hotline(stack: Stack):
    misread = [text for text in EVERYDAY_DISCLOSURES if intent_of(stack, text) != "violence_help"]
    # The point of the test: at least one of these is not understood as violence by the model
    # (if the model learns them all, add a new everyday phrasing here).
    assert misread, "the model reads every phrasing as violence_help: add a harder one"
    for text in misread:
        chat = new_chat(stack)
        turn = chat.say(text)
        assert MALI_HOTLINE in turn.text, (text, turn.text)
        turn.has_choice("flow:protection:cancel")
        # The next message is read privately: it is not interpreted, only acknowledged.
        chat.say("il m'a encore fait ça hier").expect("pas besoin de raconter")


def test_a_doubtful_message_is_offered_help_and_non_continuer_carries_on(stack: Stack):
    chat = new_chat(stack)
    doubtful = a_doubtful_message(stack)
    offer = chat.say(f"où vendre mon or à Kangaba ? {doubtful}")
    offer.expect("aide confidentielle")
    offer.has_choice("flow:protection:start", "flow:disclosure:cancel")
    again = chat.say("je sais pas")  # typed at the offer: read privately, asked once more
    again.expect("pas gardé").has_choice("flow:disclosure:cancel")
    carried_on = chat.press("flow:disclosure:cancel")
    # The question the message asked is answered (where to sell gold, in Mali: Kangaba).
    assert [r["text"] for r in carried_on.replies] == [
        get_content().answer("ml_sell_gold").message("fr")]
    assert carried_on.choices[0]["id"] == "more:ml_sell_gold"
    # "Oui" on a new offer reaches the hotline.
    chat.say(doubtful).expect("aide confidentielle")
    assert MALI_HOTLINE in chat.press("flow:protection:start").text


NEAR_MISSES = [
    "la roche m'a frappé au pied au site",
    "la pluie nous a forcés à partir du site",
    "mon mari veut qu'on forme une coopérative",
]


def test_near_misses_get_their_normal_answer(stack: Stack):
    # A near miss that the model itself reads as violence_help goes to protection by the
    # intent's own path; the safety net must add nothing to the others.
    checked = [text for text in NEAR_MISSES if intent_of(stack, text) != "violence_help"]
    assert checked, "the model reads every near miss as violence_help"
    for text in checked:
        turn = new_chat(stack).say(text)
        turn.expect_not("aide confidentielle", MALI_HOTLINE)
