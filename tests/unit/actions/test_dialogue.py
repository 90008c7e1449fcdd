"""The dialogue over the real content and catalogues, without Rasa: transcripts of turns."""

from __future__ import annotations

import pytest

from bot.testing.conversation import dialogue as Conversation

THEMES = ["menu:formalisation", "menu:licensing", "menu:safe_practice", "menu:protection"]


def test_greeting_shows_the_four_themes_in_french():
    replies = Conversation().say(intent="greet")
    assert replies.ids == THEMES
    assert replies.text == "Bonjour ! Je suis l'assistant des orpailleurs. Choisissez un thème :"
    assert replies[0].lang == "fr"


def test_a_question_needing_the_country_is_answered_right_after_it():
    chat = Conversation()
    asked = chat.say(intent="seasonal_closure")
    assert asked.ids == ["country:ML", "country:GN", "country:SN"]
    answer = chat.press("country:ML")
    assert "15 juin" in answer.text and "30 septembre" in answer.text
    assert chat.state.country == "ML" and chat.state.pending is None


@pytest.mark.parametrize("intent", ["get_authorisation", "sell_gold", "seasonal_closure",
                                    "foreigners_rules", "couloirs", "banned_practices",
                                    "grievance_channels", "child_labour"])
def test_each_rule_that_differs_between_countries_changes_the_answer(intent):
    answers = {}
    for country in ("ML", "GN", "SN"):
        answers[country] = Conversation(country=country).say(intent=intent).text
    assert len(set(answers.values())) == 3, answers


def test_the_country_named_in_the_question_is_used_and_remembered():
    chat = Conversation()
    replies = chat.say(intent="sell_gold", country="GN")
    assert "BCRG" in replies.text
    assert chat.state.country == "GN"


def test_unverified_facts_carry_their_caveat():
    replies = Conversation(country="ML").say(intent="get_authorisation")
    assert "confirmer" in replies.text.lower()


def test_two_misunderstandings_in_a_row_offer_a_person():
    chat = Conversation()
    first = chat.say(intent="nlu_fallback")
    assert first.ids[:4] == THEMES
    second = chat.say(intent="out_of_scope")
    assert second.text == "Je ne comprends toujours pas. Voulez-vous parler à une personne ?"
    assert second.ids == ["flow:talk:start", "menu:main"]
    assert chat.state.misunderstood == 2
    chat.say(intent="greet")
    assert chat.state.misunderstood == 0


def test_back_returns_to_the_previous_screen():
    chat = Conversation(country="SN")
    chat.press("menu:safe_practice")
    chat.press("answer:retort")
    back = chat.say(intent="go_back")
    assert back.ids == Conversation(country="SN").press("menu:safe_practice").ids


def test_menu_choice_works_from_anywhere():
    chat = Conversation(country="GN")
    chat.press("answer:cyanide")
    assert chat.press("menu:main").ids == THEMES


def test_language_change_then_bambara_replies():
    chat = Conversation(country="ML")
    assert chat.say(intent="change_language").ids == [
        "lang:fr", "lang:bm", "lang:emk", "lang:ff", "lang:snk", "lang:wo"]
    replies = chat.press("lang:bm")
    assert chat.state.language == "bm" and replies[0].lang == "bm"
    french = Conversation(country="ML").say(intent="seasonal_closure").text
    bambara = chat.say(intent="seasonal_closure").text
    assert bambara != french


def test_more_mercury_gets_alternatives_and_never_a_dosage():
    replies = Conversation().say(intent="more_mercury")
    body = replies.text.lower()
    assert "borax" in body or "gravimétri" in body or "sluice" in body
    assert "gramme" not in body and " g de mercure" not in body


def test_group_guide_progress_is_remembered():
    chat = Conversation()
    chat.press("flow:group:start")
    checklist = chat.press("flow:group:opt:scoops")
    step_choice = next(c for c in checklist.ids if c.startswith("flow:group:step:"))
    chat.press(step_choice)
    step_id = step_choice.rsplit(":", 1)[1]
    chat.press(f"flow:group:done:{step_id}")
    assert chat.state.progress["group"] == {"option": "scoops", "done": [step_id]}
    # Days later, a new conversation with the same slots: the guide offers to resume.
    later = Conversation(**chat.state.to_slots())
    resumed = later.press("flow:group:start")
    assert resumed.ids[0] == "flow:group:opt:scoops"
    assert resumed[0].choices[0].title == "Reprendre"
    assert resumed.text.startswith("Vous avez commencé : ")
    assert "(1 étape(s) sur " in resumed.text.splitlines()[0]


def test_a_first_message_in_bambara_proposes_bambara_then_answers_the_question():
    chat = Conversation()
    proposal = chat.say("orpaillage datugu waati ye tuma jumen ye", intent="seasonal_closure")
    assert proposal.ids == ["lang:bm", "lang:fr"]
    assert chat.state.language is None  # proposed, never imposed
    asked = chat.press("lang:bm")
    assert asked.ids[:3] == ["country:ML", "country:GN", "country:SN"]
    answer = chat.press("country:ML")
    assert answer[0].lang == "bm" and "15" in answer.text


def test_the_language_is_proposed_once_and_never_switched_silently():
    chat = Conversation()
    proposal = chat.say("orpaillage datugu waati ye tuma jumen ye", intent="seasonal_closure")
    assert proposal.ids == ["lang:bm", "lang:fr"]
    chat.press("lang:fr")
    assert chat.state.language == "fr"
    again = chat.say("datugu waati ye tuma jumen ye", intent="seasonal_closure")
    assert chat.state.language == "fr"
    assert "lang:bm" not in again.ids
    assert again.ids == ["country:ML", "country:GN", "country:SN"]


def test_violence_help_is_never_delayed_by_a_language_question(db):
    chat = Conversation(country="ML")
    replies = chat.say("muso tɔɔrɔ", intent="violence_help")
    assert "lang:bm" not in replies.ids


def test_a_shared_location_sets_the_country_of_the_nearest_place():
    chat = Conversation()
    replies = chat.say(intent="share_location", latitude="12.55", longitude="-12.18")  # Kédougou
    assert chat.state.country == "SN"
    assert "Kédougou" in replies.text
    assert replies.ids[:4] == THEMES


def test_naming_the_language_or_country_sets_it_without_asking():
    chat = Conversation()
    replies = chat.say(intent="change_language", language="wo")
    assert chat.state.language == "wo" and replies[0].lang == "wo"
    chat.say(intent="change_country", country="SN")
    assert chat.state.country == "SN"
