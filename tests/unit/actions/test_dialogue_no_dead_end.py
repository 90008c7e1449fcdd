"""No dead end: a message no intent matched gets the closest answers, a person and the menu;
every miss is kept for the learning loop (never a private one); the other topics of a long
message are offered after the answer to its strongest question."""

from __future__ import annotations

from sqlalchemy import select

from bot.actions import flows as _flows  # noqa: F401  (registers the flows)
from bot.core.normalize import normalize
from bot.core.privacy import erase_contact_data
from bot.store.misses import mask
from bot.store.models import Contact, UnderstandingMiss
from bot.testing.conversation import Conversation, Turn, dialogue

THEMES = ["menu:formalisation", "menu:licensing", "menu:safe_practice", "menu:protection"]


def new_contact(db) -> str:
    with db.session() as session:
        contact = Contact()
        session.add(contact)
        session.flush()
        return contact.id


def Chat(contact_id: str | None = None, **state) -> Conversation:  # noqa: N802
    """A French-speaking Telegram user talking to the dialogue in process."""
    return dialogue(contact_id, "telegram", **{"language": "fr", **state})


def unmatched(chat: Conversation, text: str, **metadata) -> Turn:
    """A message no intent matched (the classifier's best guess: sell_gold, unsure)."""
    return chat.say(text, intent="nlu_fallback", metadata=metadata, guess="sell_gold",
                    confidence=0.41)


def misses(db) -> list[UnderstandingMiss]:
    with db.session() as session:
        return list(session.scalars(select(UnderstandingMiss).order_by(UnderstandingMiss.id)))


def test_a_missed_question_offers_the_closest_answers_a_person_and_the_menu(db):
    replies = unmatched(Chat(new_contact(db), country="GN"), "a ki je peu vendre mon or la")
    assert len(replies) == 1
    assert "Vouliez-vous parler de" in replies[0].text
    choices = replies.ids
    assert choices[0] == "answer:gn_sell_gold"
    assert all(c.startswith("answer:gn_") or not c.startswith("answer:") for c in choices)
    assert choices[-2:] == ["flow:talk:start", "menu:main"]
    assert 2 <= len(choices) <= 5


def test_gibberish_gets_todays_menu_then_a_person(db):
    chat = Chat(new_contact(db))
    first = unmatched(chat, "qsdkjh azerty")
    assert first.ids == THEMES and "Vouliez-vous" not in first[0].text
    second = unmatched(chat, "blblbl xkcd")
    assert second.ids == ["flow:talk:start", "menu:main"]


def test_every_miss_is_kept_masked_with_the_guess_and_the_suggestions(db):
    contact = new_contact(db)
    unmatched(Chat(contact, country="ML"), "Kel prix pr le gramme? appelez moi au +223 76 12 34 56")
    unmatched(Chat(contact, country="ML"), "qsdkjh azerty 12345678901")
    first, second = misses(db)
    assert first.contact_id == contact and first.channel == "telegram"
    assert first.language == "fr" and first.country == "ML"
    assert first.intent == "sell_gold" and first.confidence == 0.41
    assert "76" not in first.text and "<tel>" in first.text
    assert first.text.startswith(normalize("kel prix"))
    assert first.suggested[0] == "ml_sell_gold" and first.chosen is None
    assert second.suggested is None and "12345678901" not in second.text


def test_pressing_a_suggestion_records_what_the_miss_meant(db):
    contact = new_contact(db)
    chat = Chat(contact, country="ML")
    unmatched(chat, "kel prix pour le gramme")
    replies = chat.press("answer:ml_sell_gold")
    assert "or" in replies[0].text.lower() and chat.state.misunderstood == 0
    [miss] = misses(db)
    assert miss.chosen == "ml_sell_gold" and miss.chosen_at is not None
    # A later press of another answer does not rewrite it.
    unmatched(chat, "kel prix pour le gramme")
    chat.press("answer:ml_couloirs")  # not among the suggestions
    assert [m.chosen for m in misses(db)] == ["ml_sell_gold", None]


def test_a_country_rule_suggested_before_the_country_is_known_asks_it_first(db):
    chat = Chat(new_contact(db))
    replies = unmatched(chat, "a ki je peu vendre mon or la")
    suggestion = next(c for c in replies.ids if c.endswith("_sell_gold"))
    asked = chat.press(suggestion)
    assert asked.ids == ["country:ML", "country:GN", "country:SN"]
    answered = chat.press("country:SN")
    assert chat.state.last_answer == "sn_sell_gold" and "Pays choisi" in answered[0].text


def test_nothing_is_searched_or_kept_in_the_protection_flow(db):
    contact = new_contact(db)
    chat = Chat(contact, country="ML")
    chat.say("mon mari me frappe", intent="violence_help")
    assert chat.state.flow["name"] == "protection"
    replies = unmatched(chat, "il me frappe tous les jours, ou vendre mon or")
    assert all(r.sensitive for r in replies)
    assert not any(c.startswith("answer:") for c in replies.ids)
    assert misses(db) == []


def test_a_message_the_gateway_marked_as_a_possible_disclosure_is_never_kept(db):
    contact = new_contact(db)
    unmatched(Chat(contact, country="ML"), "kel prix pour le gramme", violence_segment=True)
    unmatched(Chat(contact, country="ML"), "kel prix pour le gramme", private=True)
    assert misses(db) == []


def test_a_button_misunderstood_keeps_nothing(db):
    chat = Chat(new_contact(db))
    replies = chat.press("nowhere:at-all")
    assert replies.ids == THEMES and misses(db) == []


def test_misses_are_erased_with_the_contacts_data(db):
    contact, other = new_contact(db), new_contact(db)
    unmatched(Chat(contact), "kel prix pour le gramme")
    unmatched(Chat(other), "kel prix pour le gramme")
    with db.session() as session:
        erase_contact_data(session, contact)
    assert [m.contact_id for m in misses(db)] == [other]


def test_masking_hides_phone_numbers_and_long_digit_runs():
    assert mask("Appelez le 76-12-34-56 svp") == "appelez le <tel> s'il vous plait"
    assert mask("carte 1234567 et 2 grammes") == "carte <num> et 2 grammes"
    assert mask("00223 7612 3456") == "<tel>"


def test_the_other_topics_of_a_long_message_are_offered_after_its_answer():
    chat = Chat(country="ML")
    replies = chat.say("ou vendre mon or", intent="sell_gold",
                             metadata={"other_intents": ["mercury_health", "greet",
                                                         "sell_gold", "report_problem"]})
    assert chat.state.last_answer == "ml_sell_gold"
    assert len(replies) == 2
    assert "Vous avez aussi parlé de" in replies[1].text
    assert Turn([replies[1]]).ids == ["answer:mercury_health", "menu:main"]


def test_a_violence_topic_among_the_others_opens_the_protection_flow_not_its_answer():
    chat = Chat(country="GN")
    replies = chat.say("ou vendre mon or", intent="sell_gold",
                             metadata={"other_intents": ["violence_help"]})
    assert "flow:protection:start" in Turn(replies[1:]).ids


def test_no_other_topics_in_the_protection_flow(db):
    chat = Chat(country="ML")
    replies = chat.say("mon mari me frappe", intent="violence_help",
                             metadata={"other_intents": ["sell_gold", "mercury_health"]})
    assert all(r.sensitive for r in replies)
    assert not any(c.startswith("answer:") for c in replies.ids)


def test_a_message_surely_off_topic_gets_no_mining_suggestions_but_is_kept(db):
    contact = new_contact(db)
    chat = Chat(contact, country="ML")
    sure = chat.say("je veux acheter du mercure pour ma moto", intent="out_of_scope",
                          guess="out_of_scope", confidence=0.97)
    assert "Vouliez-vous" not in sure[0].text and sure.ids == THEMES
    unsure = Chat(contact, country="ML").say("je veux acheter du mercure pour ma moto",
                                             intent="out_of_scope", guess="out_of_scope",
                                             confidence=0.55)
    assert "Vouliez-vous" in unsure[0].text
    assert [m.intent for m in misses(db)] == ["out_of_scope", "out_of_scope"]
