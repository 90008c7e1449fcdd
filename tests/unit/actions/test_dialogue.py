"""The dialogue over the real content and catalogues, without Rasa: transcripts of turns."""

from __future__ import annotations

import pytest

from bot.actions.dialogue import State, Talk, Turn

THEMES = ["menu:formalisation", "menu:licensing", "menu:safe_practice", "menu:protection"]


class Conversation:
    def __init__(self, **state):
        self.state = State(**state)

    def say(self, intent: str, **entities: str):
        return Talk(self.state).respond(Turn(intent=intent, entities=entities))

    def press(self, choice: str):
        return Talk(self.state).respond(Turn(intent="choose", choice=choice,
                                             entities={"choice": choice}))


def ids(replies) -> list[str]:
    return [c.id for r in replies for c in r.choices]


def text(replies) -> str:
    return "\n".join(r.text for r in replies)


def test_greeting_shows_the_four_themes_in_french():
    replies = Conversation().say("greet")
    assert ids(replies) == THEMES
    assert text(replies) == "Bonjour ! Je suis l'assistant des orpailleurs. Choisissez un thème :"
    assert replies[0].lang == "fr"


def test_a_question_needing_the_country_is_answered_right_after_it():
    chat = Conversation()
    asked = chat.say("seasonal_closure")
    assert ids(asked) == ["country:ML", "country:GN", "country:SN"]
    answer = chat.press("country:ML")
    assert "15 juin" in text(answer) and "30 septembre" in text(answer)
    assert chat.state.country == "ML" and chat.state.pending is None


@pytest.mark.parametrize("intent", ["get_authorisation", "sell_gold", "seasonal_closure",
                                    "foreigners_rules", "couloirs", "banned_practices",
                                    "grievance_channels", "child_labour"])
def test_each_rule_that_differs_between_countries_changes_the_answer(intent):
    answers = {}
    for country in ("ML", "GN", "SN"):
        answers[country] = text(Conversation(country=country).say(intent))
    assert len(set(answers.values())) == 3, answers


def test_the_country_named_in_the_question_is_used_and_remembered():
    chat = Conversation()
    replies = chat.say("sell_gold", country="GN")
    assert "BCRG" in text(replies)
    assert chat.state.country == "GN"


def test_unverified_facts_carry_their_caveat():
    replies = Conversation(country="ML").say("get_authorisation")
    assert "confirmer" in text(replies).lower()


def test_two_misunderstandings_in_a_row_offer_a_person():
    chat = Conversation()
    first = chat.say("nlu_fallback")
    assert ids(first)[:4] == THEMES
    second = chat.say("out_of_scope")
    assert text(second) == "Je ne comprends toujours pas. Voulez-vous parler à une personne ?"
    assert ids(second) == ["flow:talk:start", "menu:main"]
    assert chat.state.misunderstood == 2
    chat.say("greet")
    assert chat.state.misunderstood == 0


def test_back_returns_to_the_previous_screen():
    chat = Conversation(country="SN")
    chat.press("menu:safe_practice")
    chat.press("answer:retort")
    back = chat.say("go_back")
    assert ids(back) == ids(Conversation(country="SN").press("menu:safe_practice"))


def test_menu_choice_works_from_anywhere():
    chat = Conversation(country="GN")
    chat.press("answer:cyanide")
    assert ids(chat.press("menu:main")) == THEMES


def test_language_change_then_bambara_replies():
    chat = Conversation(country="ML")
    assert ids(chat.say("change_language")) == [
        "lang:fr", "lang:bm", "lang:emk", "lang:ff", "lang:snk", "lang:wo"]
    replies = chat.press("lang:bm")
    assert chat.state.language == "bm" and replies[0].lang == "bm"
    french = text(Conversation(country="ML").say("seasonal_closure"))
    bambara = text(chat.say("seasonal_closure"))
    assert bambara != french


def test_more_mercury_gets_alternatives_and_never_a_dosage():
    replies = Conversation().say("more_mercury")
    body = text(replies).lower()
    assert "borax" in body or "gravimétri" in body or "sluice" in body
    assert "gramme" not in body and " g de mercure" not in body


def test_group_guide_progress_is_remembered():
    chat = Conversation()
    chat.press("flow:group:start")
    checklist = chat.press("flow:group:opt:scoops")
    step_choice = next(c for c in ids(checklist) if c.startswith("flow:group:step:"))
    chat.press(step_choice)
    step_id = step_choice.rsplit(":", 1)[1]
    chat.press(f"flow:group:done:{step_id}")
    assert chat.state.progress["group"] == {"option": "scoops", "done": [step_id]}
    # Days later, a new conversation with the same slots: the guide offers to resume.
    later = Conversation(**chat.state.to_slots())
    resumed = later.press("flow:group:start")
    assert ids(resumed)[0] == "flow:group:opt:scoops"
    assert resumed[0].choices[0].title == "Reprendre"
    assert text(resumed).startswith("Vous avez commencé : ")
    assert "(1 étape(s) sur " in text(resumed).splitlines()[0]


def test_a_first_message_in_bambara_proposes_bambara_then_answers_the_question():
    chat = Conversation()
    proposal = Talk(chat.state).respond(
        Turn(intent="seasonal_closure", text="orpaillage datugu waati ye tuma jumen ye"))
    assert ids(proposal) == ["lang:bm", "lang:fr"]
    assert chat.state.language is None  # proposed, never imposed
    asked = chat.press("lang:bm")
    assert ids(asked)[:3] == ["country:ML", "country:GN", "country:SN"]
    answer = chat.press("country:ML")
    assert answer[0].lang == "bm" and "15" in text(answer)


def test_the_language_is_proposed_once_and_never_switched_silently():
    chat = Conversation()
    Talk(chat.state).respond(Turn(intent="greet", text="i ni ce"))
    chat.press("lang:fr")
    again = Talk(chat.state).respond(Turn(intent="seasonal_closure", text="datugu waati"))
    assert chat.state.language == "fr"
    assert "lang:bm" not in ids(again)


def test_violence_help_is_never_delayed_by_a_language_question(db):
    chat = Conversation(country="ML")
    replies = Talk(chat.state).respond(Turn(intent="violence_help", text="muso tɔɔrɔ"))
    assert "lang:bm" not in ids(replies)


def test_a_shared_location_sets_the_country_of_the_nearest_place():
    chat = Conversation()
    replies = chat.say("share_location", latitude="12.55", longitude="-12.18")  # Kédougou
    assert chat.state.country == "SN"
    assert "Kédougou" in text(replies)
    assert ids(replies)[:4] == THEMES


def test_naming_the_language_or_country_sets_it_without_asking():
    chat = Conversation()
    replies = chat.say("change_language", language="wo")
    assert chat.state.language == "wo" and replies[0].lang == "wo"
    chat.say("change_country", country="SN")
    assert chat.state.country == "SN"
