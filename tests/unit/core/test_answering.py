"""The turn of an inbox row (bot/core/answering.py) and the app's dialogue behind it
(bot/conversation.py): Rasa's parse becomes the turn, a choice needs no Rasa, the state is
read before the turn and written by `persist`, a message after an hour of silence is a return."""

from __future__ import annotations

import json
from datetime import timedelta
from types import SimpleNamespace

import httpx
import pytest

from bot.conversation import TalkDialogue
from bot.core.answering import Answerer, ContactView, Understood, from_parse
from bot.core.rasa_client import RasaClient, RasaUnavailable
from bot.store.conversations import load_state
from bot.store.models import Contact, ConversationState, utcnow


def test_the_classifiers_guess_under_a_fallback_reaches_the_turn():
    parse = {"text": "kel prix", "intent": {"name": "nlu_fallback", "confidence": 0.6},
             "intent_ranking": [{"name": "nlu_fallback", "confidence": 0.6},
                                {"name": "sell_gold", "confidence": 0.42}],
             "entities": [{"entity": "country", "value": "ML"},
                          {"entity": "country", "value": "GN"},
                          {"entity": "place", "value": "Kéniéba"}]}
    turn = from_parse(parse, "kel prix", {"channel": "web"})
    assert (turn.intent, turn.guess, turn.confidence) == ("nlu_fallback", "sell_gold", 0.42)
    assert turn.entities == {"country": "ML", "place": "Kéniéba"}  # the first of each
    assert (turn.text, turn.metadata, turn.choice) == ("kel prix", {"channel": "web"}, None)


def test_a_choice_turn_moves_the_dialogue_and_its_state():
    replies, slots = TalkDialogue().respond(
        "c_test", {"language": "fr"},
        Understood("choose", {"choice": "country:SN"}, "country:SN",
                   '/choose{"choice": "country:SN"}'))
    assert replies[0].country == "SN"
    assert replies[0].choices[0].id == "menu:formalisation"
    assert (slots["language"], slots["country"]) == ("fr", "SN")
    json.dumps(slots)  # kept as JSON


def test_the_gateways_memory_fills_a_lost_state():
    replies, slots = TalkDialogue().respond(
        "c_test", {}, Understood("sell_gold", text="vendre",
                                 metadata={"language": "fr", "country": "GN"}))
    assert "BCRG" in replies[0].text
    assert slots["country"] == "GN"


class Recorder:
    def __init__(self):
        self.turns: list[tuple[dict, Understood]] = []

    def respond(self, contact_id, slots, understood):
        self.turns.append((dict(slots), understood))
        return [], {**slots, "n": slots.get("n", 0) + 1}


def nlu(parsed: list[str], up: bool = True) -> RasaClient:
    def handler(request: httpx.Request) -> httpx.Response:
        if not up:
            raise httpx.ConnectError("refused", request=request)
        text = json.loads(request.content)["text"]
        parsed.append(text)
        return httpx.Response(200, json={"text": text, "entities": [],
                                         "intent": {"name": "sell_gold", "confidence": 0.9}})

    return RasaClient("http://rasa.test", httpx.AsyncClient(transport=httpx.MockTransport(handler)))


def row(kind: str, text: str | None = None, **payload) -> SimpleNamespace:
    return SimpleNamespace(kind=kind, text=text, payload=payload, channel="web")


@pytest.fixture
def contact(db):
    with db.session() as session:
        session.add(Contact(id="c_answering"))
    return ContactView("c_answering", "fr", "ML")


async def turn(answerer: Answerer, db, item, contact: ContactView):
    answered = await answerer.answer(item, contact)
    with db.session() as session:
        answered.persist(session)
    return answered


async def test_typed_text_is_read_by_rasa_and_a_choice_is_not(db, contact):
    parsed: list[str] = []
    dialogue = Recorder()
    answerer = Answerer(nlu(parsed), db, dialogue)
    await turn(answerer, db, row("text", "Où vendre l'or ?"), contact)
    await turn(answerer, db, row("choice", choice_id="menu:main"), contact)
    await turn(answerer, db, row("text", None, private={"choice": "flow:protection:input"}),
               contact)
    assert parsed == ["ou vendre l'or ?"]
    (first_slots, first), (second_slots, second), (_, private) = dialogue.turns
    assert (first.intent, first.guess, first.metadata) == (
        "sell_gold", None, {"language": "fr", "country": "ML", "channel": "web",
                            "original_text": "Où vendre l'or ?"})
    assert (second.intent, second.choice, second.text) == (
        "choose", "menu:main", '/choose{"choice": "menu:main"}')
    assert (private.intent, private.choice) == ("choose", "flow:protection:input")
    assert (first_slots, second_slots) == ({}, {"n": 1})
    with db.session() as session:
        assert load_state(session, contact.id).slots == {"n": 3}


async def test_only_typed_text_waits_for_rasa(db, contact):
    answerer = Answerer(nlu([], up=False), db, Recorder())
    with pytest.raises(RasaUnavailable):
        await answerer.answer(row("text", "vendre"), contact)
    await turn(answerer, db, row("choice", choice_id="menu:main"), contact)
    await turn(answerer, db, row("location", location={"latitude": 12.5, "longitude": -8.1}),
               contact)
    loc = answerer.dialogue.turns[-1][1]
    assert (loc.intent, loc.entities) == ("share_location",
                                          {"latitude": "12.5", "longitude": "-8.1"})
    typed_choice = ContactView(contact.id, "fr", "ML", [{"id": "menu:a", "title": "A"}])
    await turn(answerer, db, row("text", "1"), typed_choice)
    await turn(answerer, db, row("text", "👍"), contact)
    assert [u.intent for _, u in answerer.dialogue.turns[-2:]] == ["choose", "thanks"]


async def test_a_message_after_an_hour_of_silence_is_a_return(db, contact):
    dialogue = Recorder()
    answerer = Answerer(nlu([]), db, dialogue)
    await turn(answerer, db, row("choice", choice_id="menu:main"), contact)
    await turn(answerer, db, row("choice", choice_id="menu:main"), contact)
    with db.session() as session:
        state = session.get(ConversationState, contact.id)
        state.last_user_at = utcnow() - timedelta(minutes=61)
    await turn(answerer, db, row("choice", choice_id="menu:main"), contact)
    assert ["returning" in u.metadata for _, u in dialogue.turns] == [False, False, True]
