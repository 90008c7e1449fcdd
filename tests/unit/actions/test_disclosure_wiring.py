"""The disclosure safety net in the dialogue (bot/actions/flows/disclosure.py), without Rasa.

Turns carry what Rasa would give the action: the (possibly wrong) intent and the typed text.
"""

from __future__ import annotations

from bot.actions import flows  # noqa: F401  (registers the flows)
from bot.actions.dialogue import State, Talk
from bot.core.privacy import handle_private_input, sensitive_mode_of
from bot.testing.conversation import Turn, dialogue

OFFER = "Voulez-vous de l'aide confidentielle ?"


def protection_first_reply(country: str = "ML") -> Turn:
    from bot.actions.flows import REGISTRY as FLOWS

    return Turn(FLOWS["protection"].start(Talk(State(country=country)), "start"))


def test_a_disclosure_in_everyday_words_gets_the_protection_flow(db):
    expected = protection_first_reply()
    chat = dialogue(country="ML")
    # The NLU read it as a question about work; the safety net still routes it.
    replies = chat.say("mon patron veut que je dorme chez lui sinon il me renvoie",
                        intent="find_work")
    assert [r.text for r in replies] == [r.text for r in expected]
    assert replies.ids == expected.ids
    assert all(r.sensitive for r in replies)
    assert chat.state.flow["name"] == "protection"


def test_a_disclosure_in_bambara_asks_the_country_inside_the_protection_flow(db):
    chat = dialogue()
    replies = chat.say("n ce be n gosi tuma bee", intent="nlu_fallback")
    assert replies.ids[:3] == ["flow:protection:country:ML", "flow:protection:country:GN",
                                "flow:protection:country:SN"]
    assert "lang:bm" not in replies.ids  # help is never delayed by the language question


def test_a_disclosure_about_a_child_is_protection_not_child_labour(db):
    chat = dialogue(country="GN")
    replies = chat.say("le chef de chantier frappe les enfants qui lavent l'or",
                        intent="child_labour")
    assert chat.state.flow["name"] == "protection"
    assert replies[0].sensitive


def test_an_unsure_message_is_offered_help_first_and_non_answers_the_question(db):
    chat = dialogue(country="ML")
    offer = chat.say("ou vendre mon or, un homme me suit", intent="sell_gold")
    assert offer[0].text == OFFER
    assert offer.ids[:2] == ["flow:protection:start", "flow:disclosure:cancel"]
    assert offer[0].sensitive and sensitive_mode_of(offer[-1]) == "disclosure"
    # Only the intent's name is kept, never the text.
    assert chat.state.flow == {"name": "disclosure", "intent": "sell_gold", "asked": 1,
                               "step": "offer"}
    answer = chat.press("flow:disclosure:cancel")
    assert "more:ml_sell_gold" in answer.ids or "sell_gold" in " ".join(answer.ids)
    assert chat.state.flow is None and not answer[0].sensitive


def test_oui_at_the_offer_starts_the_protection_flow(db):
    chat = dialogue(country="SN")
    chat.say("un homme me suit partout", intent="nlu_fallback")
    replies = chat.press("flow:protection:start")
    expected = protection_first_reply("SN")
    assert [r.text for r in replies] == [r.text for r in expected]


def test_text_typed_at_the_offer_is_read_privately_and_asked_once_more(db):
    chat = dialogue(country="ML")
    offer = chat.say("un homme me suit partout", intent="nlu_fallback")
    private = handle_private_input(sensitive_mode_of(offer[-1]), "text", "je sais pas",
                                   [{"id": c.id, "title": c.title} for c in offer[-1].choices],
                                   encrypt=lambda s: "x")
    assert private.choice == "flow:disclosure:input"
    again = chat.press(private.choice)
    assert "pas gardé" in again[0].text and again[0].sensitive
    assert again.ids[:2] == ["flow:protection:start", "flow:disclosure:cancel"]
    carried_on = chat.press("flow:disclosure:input")  # a second typed message: carry on
    assert chat.state.flow is None and not carried_on[0].sensitive
    # A typed "1" picks the first button, "Oui".
    offer = chat.say("un homme me suit partout", intent="nlu_fallback")
    private = handle_private_input("disclosure", "text", "1",
                                   [{"id": c.id, "title": c.title} for c in offer[-1].choices],
                                   encrypt=lambda s: "x")
    assert private.choice == "flow:protection:start"


def test_near_misses_get_their_normal_answer(db):
    for text, intent in [("la roche m'a frappé au pied", "pit_safety"),
                         ("la pluie nous a forcés à partir du site", "seasonal_closure"),
                         ("mon mari veut qu'on forme une coopérative", "create_cooperative"),
                         ("les policiers au poste demandent 2000 à chaque moto", "extortion")]:
        chat = dialogue(country="ML")
        replies = chat.say(text, intent=intent)
        assert (chat.state.flow or {}).get("name") not in ("protection", "disclosure"), text
        assert replies[0].text != OFFER and not replies[0].sensitive, text


def test_violence_help_from_rasa_still_starts_protection_and_buttons_are_not_read(db):
    chat = dialogue(country="ML")
    chat.say("violence", intent="violence_help")
    assert chat.state.flow["name"] == "protection"
    chat = dialogue(country="ML")
    chat.press("menu:protection")
    assert (chat.state.flow or {}).get("name") != "disclosure"


def test_inside_the_protection_flow_messages_are_not_analysed_again(db):
    chat = dialogue(country="ML")
    chat.say("mon mari me frappe", intent="nlu_fallback")
    step = dict(chat.state.flow)
    replies = chat.say("il m'a encore frappée hier", intent="nlu_fallback")
    assert chat.state.flow["name"] == "protection"
    assert "pas besoin de raconter" in replies[0].text
    assert chat.state.flow["step"] == step["step"]
