"""The gateway's guarantees, with Rasa replaced by an httpx transport (Rasa is outside us) and
the dialogue by an echo (the dialogue has its own tests)."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from dataclasses import replace
from datetime import timedelta

import httpx
import pytest

from bot.config import load_settings
from bot.core.gateway import Gateway
from bot.core.messages import Channel, Choice, Inbound, InboundKind, Reply
from bot.core.rasa_client import RasaClient
from bot.store.db import Database
from bot.store.models import ConversationState, InboxMessage, OutboxMessage


class FakeRasa:
    """Answers like Rasa's NLU server (`/status`, `/model/parse`); can be switched off to
    simulate a restart. `received`: what the dialogue got (the turn's text and metadata)."""

    def __init__(self):
        self.up = True
        self.parsed: list[str] = []
        self.received: list[dict] = []

    def handler(self, request: httpx.Request) -> httpx.Response:
        if not self.up:
            raise httpx.ConnectError("connection refused", request=request)
        if request.method == "GET":
            return httpx.Response(200, json={"model_file": "nlu.tar.gz"})
        body = json.loads(request.content)
        self.parsed.append(body["text"])
        return httpx.Response(200, json={"text": body["text"], "entities": [],
                                         "intent": {"name": "greet", "confidence": 0.9}})


class EchoDialogue:
    """The dialogue, echoing the turn's text with two choices (menu:a, menu:b)."""

    def __init__(self, received: list[dict]):
        self.received = received

    def respond(self, contact_id, slots, understood):
        self.received.append({"message": understood.text, "metadata": understood.metadata,
                              "intent": understood.intent, "slots": slots})
        return [Reply(f"echo {understood.text}", lang="fr",
                      choices=[Choice("menu:a", "A"), Choice("menu:b", "B")])], {
            "turns": int(slots.get("turns", 0)) + 1}


@pytest.fixture
def world(tmp_path):
    settings = replace(load_settings(), database_url=f"sqlite:///{tmp_path / 'db.sqlite'}",
                       ack_after_seconds=0.0, worker_poll_seconds=0.05)
    db = Database(settings.database_url)
    db.upgrade()
    rasa = FakeRasa()
    http = httpx.AsyncClient(transport=httpx.MockTransport(rasa.handler))
    gateway = Gateway(settings, db, RasaClient("http://rasa.test", http))
    gateway.answerer.dialogue = EchoDialogue(rasa.received)
    yield gateway, rasa, db, tmp_path
    db.dispose()


def text(message_id: str, body: str, address: str = "+22370000001") -> Inbound:
    return Inbound(Channel.WEB, message_id, address, InboundKind.TEXT, text=body)


async def run_until_settled(gateway: Gateway, inbox_id: int, timeout: float = 5) -> bool:
    stop = asyncio.Event()
    worker = asyncio.create_task(gateway.run_inbox_worker(stop))
    try:
        return await gateway.wait_processed(inbox_id, timeout)
    finally:
        stop.set()
        await worker


async def test_a_message_is_stored_once_even_when_delivered_twice(world):
    gateway, _, db, _ = world
    first = gateway.accept(text("m1", "bonjour"))
    again = gateway.accept(text("m1", "bonjour"))
    assert again.duplicate and again.inbox_id == first.inbox_id
    with db.session() as session:
        assert session.query(InboxMessage).count() == 1


async def test_the_phone_number_is_stored_only_encrypted(world):
    gateway, _, _, tmp_path = world
    gateway.accept(text("m1", "bonjour", address="+22370123456"))
    dump = "\n".join(sqlite3.connect(tmp_path / "db.sqlite").iterdump())
    assert "22370123456" not in dump


async def test_a_reply_is_stored_and_a_typed_number_selects_the_choice(world):
    gateway, rasa, _, _ = world
    first = gateway.accept(text("m1", "Bonjour"))
    assert await run_until_settled(gateway, first.inbox_id)
    replies = gateway.take_web_replies(first.contact_id, first.inbox_id)
    assert [r.text for r in replies] == ["echo bonjour"]
    second = gateway.accept(text("m2", " 2 "))
    assert await run_until_settled(gateway, second.inbox_id)
    assert rasa.received[-1]["message"] == '/choose{"choice": "menu:b"}'
    third = gateway.accept(text("m3", "0"))
    assert await run_until_settled(gateway, third.inbox_id)
    assert rasa.received[-1]["message"] == '/choose{"choice": "menu:main"}'


async def test_users_cannot_inject_rasa_payloads(world):
    gateway, rasa, _, _ = world
    accepted = gateway.accept(text("m1", '/delete_data{"x": 1}'))
    assert await run_until_settled(gateway, accepted.inbox_id)
    assert not rasa.received[-1]["message"].startswith("/")


@pytest.mark.parametrize("typed,message", [
    ("👍", "/thanks"), ("🙏", "/thanks"), ("👍🙏", "/thanks"), ("👌🏽", "/thanks"),
    ("?", "/help"), ("??!", "/help"), ("😕", "/help"), ("...", "/help"),
])
async def test_emoji_and_punctuation_are_text_not_an_unsupported_type(world, typed, message):
    gateway, rasa, _, _ = world
    accepted = gateway.accept(text("m1", typed))
    assert await run_until_settled(gateway, accepted.inbox_id)
    assert rasa.received[-1]["message"] == message


async def set_last_choices(gateway, db, choices: list[dict]) -> None:
    """What the last reply offered this contact (the fake Rasa offers menu:a and menu:b)."""
    from bot.store.models import Contact

    contact_id = gateway.find_contact(Channel.WEB, "+22370000001")
    if contact_id is None:
        first = gateway.accept(text("m0", "bonjour"))
        assert await run_until_settled(gateway, first.inbox_id)
        contact_id = first.contact_id
    with db.session() as session:
        session.get(Contact, contact_id).last_choices = choices


COUNTRY_CHOICES = [{"id": "flow:report:country:ML", "title": "Mali"},
                   {"id": "flow:report:country:GN", "title": "Guinée"},
                   {"id": "flow:report:country:SN", "title": "Sénégal"},
                   {"id": "flow:report:cancel", "title": "Annuler"}]


@pytest.mark.parametrize("typed,choice", [
    ("Mali", "flow:report:country:ML"), ("mali", "flow:report:country:ML"),
    ("Sénégal.", "flow:report:country:SN"), ("senegal", "flow:report:country:SN"),
    ("guine", "flow:report:country:GN"), ("Kédougou", "flow:report:country:SN"),
    ("annule", "flow:report:cancel"), ("3", "flow:report:country:SN"), ("0", "menu:main"),
])
async def test_a_typed_title_selects_the_offered_choice_before_rasa(world, typed, choice):
    gateway, rasa, db, _ = world
    await set_last_choices(gateway, db, COUNTRY_CHOICES)
    accepted = gateway.accept(text("m1", typed))
    assert await run_until_settled(gateway, accepted.inbox_id)
    assert rasa.received[-1]["message"] == f'/choose{{"choice": "{choice}"}}'


async def test_yes_words_select_the_affirmative_choice(world):
    gateway, rasa, db, _ = world
    for n, typed in enumerate(["oui", "ok envoie", "waaw", "👍", "c fait"]):
        await set_last_choices(gateway, db, [{"id": "flow:report:confirm", "title": "Envoyer"},
                                             {"id": "flow:report:cancel", "title": "Annuler"}])
        accepted = gateway.accept(text(f"y{n}", typed))
        assert await run_until_settled(gateway, accepted.inbox_id)
        assert rasa.received[-1]["message"] == '/choose{"choice": "flow:report:confirm"}', typed


async def test_a_number_never_selects_a_choice_that_cannot_be_undone(world):
    gateway, rasa, db, _ = world
    for n, typed in enumerate(["1", "Effacer", "oui"]):
        await set_last_choices(gateway, db, [{"id": "flow:delete:confirm", "title": "Effacer"},
                                             {"id": "flow:delete:cancel", "title": "Annuler"}])
        accepted = gateway.accept(text(f"d{n}", typed))
        assert await run_until_settled(gateway, accepted.inbox_id)
        assert "flow:delete:confirm" not in rasa.received[-1]["message"]
        assert not rasa.received[-1]["message"].startswith("/choose")


async def test_a_question_is_not_taken_for_a_choice(world):
    gateway, rasa, db, _ = world
    await set_last_choices(gateway, db, COUNTRY_CHOICES)
    accepted = gateway.accept(text("m1", "comment vendre l'or au Mali ?"))
    assert await run_until_settled(gateway, accepted.inbox_id)
    assert rasa.received[-1]["message"] == "comment vendre l'or au mali ?"


async def test_while_rasa_is_down_messages_wait_are_acknowledged_then_answered(world):
    gateway, rasa, db, _ = world
    rasa.up = False
    accepted = gateway.accept(text("m1", "autorisation"))
    # Acknowledged (settled) but not answered.
    assert await run_until_settled(gateway, accepted.inbox_id)
    assert gateway.is_pending(accepted.inbox_id)
    ack = gateway.take_web_replies(accepted.contact_id, accepted.inbox_id)
    assert len(ack) == 1 and "bien reçu" in ack[0].text
    rasa.up = True
    gateway._rasa_down_until = None
    stop = asyncio.Event()
    worker = asyncio.create_task(gateway.run_inbox_worker(stop))
    for _ in range(100):
        if not gateway.is_pending(accepted.inbox_id):
            break
        await asyncio.sleep(0.05)
    stop.set()
    await worker
    answer = gateway.take_web_replies(accepted.contact_id)
    assert [r.text for r in answer] == ["echo autorisation"]
    with db.session() as session:
        assert session.query(OutboxMessage).count() == 2  # the acknowledgement + the answer


async def test_each_contact_is_answered_in_order(world):
    gateway, rasa, _, _ = world
    ids = [gateway.accept(text(f"m{i}", f"message {i}")).inbox_id for i in range(6)]
    assert await run_until_settled(gateway, ids[-1])
    for _ in range(50):
        if len(rasa.received) == 6:
            break
        await asyncio.sleep(0.05)
    assert [m["message"] for m in rasa.received] == [f"message {i}" for i in range(6)]


async def test_leases_of_a_crashed_worker_on_this_host_are_freed_at_start(world):
    import os
    import subprocess

    from bot.store.models import Contact

    gateway, rasa, db, _ = world
    accepted = gateway.accept(text("m1", "bonjour"))
    dead = subprocess.Popen(["true"])
    dead.wait()  # a pid that no longer exists
    with db.session() as session:
        contact = session.get(Contact, accepted.contact_id)
        contact.lease_owner = f"{os.uname().nodename}:{dead.pid}:abc"
        from datetime import timedelta

        from bot.store.models import utcnow
        contact.lease_until = utcnow() + timedelta(minutes=5)
    assert gateway.reclaim_dead_leases() == 1
    assert await run_until_settled(gateway, accepted.inbox_id)
    assert rasa.received[-1]["message"] == "bonjour"


async def test_a_receipt_of_the_template_leaves_the_held_reply_waiting(world):
    from bot.store.models import Contact

    gateway, _, db, _ = world
    accepted = gateway.accept(text("m1", "bonjour"))
    with db.session() as session:
        assert session.get(Contact, accepted.contact_id) is not None
        session.add(OutboxMessage(contact_id=accepted.contact_id, channel="whatsapp",
                                  status="held", provider_message_id="wamid.template",
                                  payload={"text": "la réponse"}))
        session.add(OutboxMessage(contact_id=accepted.contact_id, channel="whatsapp",
                                  status="sent", provider_message_id="wamid.other",
                                  payload={"text": "autre"}))
    assert gateway.record_delivery_status(Channel.WHATSAPP, "wamid.template", "delivered")
    assert gateway.record_delivery_status(Channel.WHATSAPP, "wamid.other", "delivered")
    with db.session() as session:
        statuses = {row.provider_message_id: row.status
                    for row in session.query(OutboxMessage).all()}
    assert statuses == {"wamid.template": "held", "wamid.other": "delivered"}


def choice(message_id: str, choice_id: str, address: str = "+22370000001") -> Inbound:
    return Inbound(Channel.WEB, message_id, address, InboundKind.CHOICE, choice_id=choice_id)


async def test_while_rasa_is_down_a_pressed_button_is_answered_and_text_waits(world):
    gateway, rasa, _, _ = world
    rasa.up = False
    pressed = gateway.accept(choice("c1", "menu:main"))
    assert await run_until_settled(gateway, pressed.inbox_id)
    assert not gateway.is_pending(pressed.inbox_id)
    assert [r.text for r in gateway.take_web_replies(pressed.contact_id, pressed.inbox_id)] \
        == ['echo /choose{"choice": "menu:main"}']
    typed = gateway.accept(text("t1", "autorisation"))
    assert await run_until_settled(gateway, typed.inbox_id)  # acknowledged, not answered
    assert gateway.is_pending(typed.inbox_id)
    # A button pressed after the waiting text waits behind it: the order is kept.
    later = gateway.accept(choice("c2", "menu:a"))
    stop = asyncio.Event()
    worker = asyncio.create_task(gateway.run_inbox_worker(stop))
    await asyncio.sleep(0.5)
    assert gateway.is_pending(later.inbox_id)
    stop.set()
    await worker
    assert rasa.parsed == []
    assert [m["message"] for m in rasa.received] == ['/choose{"choice": "menu:main"}']


async def test_the_dialogue_state_is_kept_between_turns_and_a_return_is_told(world):
    gateway, rasa, db, _ = world
    first = gateway.accept(text("m1", "bonjour"))
    assert await run_until_settled(gateway, first.inbox_id)
    second = gateway.accept(choice("c1", "menu:a"))
    assert await run_until_settled(gateway, second.inbox_id)
    assert [m["slots"] for m in rasa.received] == [{}, {"turns": 1}]
    assert "returning" not in rasa.received[-1]["metadata"]
    assert rasa.received[-1]["metadata"]["channel"] == "web"
    with db.session() as session:
        state = session.get(ConversationState, first.contact_id)
        assert state.slots == {"turns": 2}
        state.last_user_at = state.last_user_at - timedelta(minutes=61)
    third = gateway.accept(choice("c2", "menu:b"))
    assert await run_until_settled(gateway, third.inbox_id)
    assert rasa.received[-1]["metadata"]["returning"] is True
