"""The inbox worker (bot/core/delivery/inbox.py): each message answered once, in order, with
typed input matched to the offered choices before Rasa; while Rasa is away messages wait and
are acknowledged once; a turn that keeps failing ends with an apology."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from bot.core.delivery.inbox import MAX_MESSAGE_ATTEMPTS
from bot.core.messages import Channel, Inbound, InboundKind
from bot.i18n import common, translator
from bot.store.models import Contact, ConversationState, InboxMessage, OutboxMessage


async def test_a_reply_is_stored_and_a_typed_number_selects_the_choice(world):
    first = world.gateway.accept(world.text("m1", "Bonjour"))
    assert await world.run_until_settled(first.inbox_id)
    assert world.replies(first.inbox_id) == ["echo bonjour"]
    # A web message: its channel collects the replies itself, so the event names them.
    with world.db.session() as session:
        ids = [row.id for row in session.query(OutboxMessage).all()]
    assert world.settled[first.inbox_id].outbox_ids == ids
    assert not world.settled[first.inbox_id].pending
    second = world.gateway.accept(world.text("m2", " 2 "))
    assert await world.run_until_settled(second.inbox_id)
    assert world.rasa.received[-1]["message"] == '/choose{"choice": "menu:b"}'
    third = world.gateway.accept(world.text("m3", "0"))
    assert await world.run_until_settled(third.inbox_id)
    assert world.rasa.received[-1]["message"] == '/choose{"choice": "menu:main"}'


async def test_users_cannot_inject_rasa_payloads(world):
    accepted = world.gateway.accept(world.text("m1", '/delete_data{"x": 1}'))
    assert await world.run_until_settled(accepted.inbox_id)
    assert not world.rasa.received[-1]["message"].startswith("/")


@pytest.mark.parametrize("typed,message", [
    ("👍", "/thanks"), ("🙏", "/thanks"), ("👍🙏", "/thanks"), ("👌🏽", "/thanks"),
    ("?", "/help"), ("??!", "/help"), ("😕", "/help"), ("...", "/help"),
])
async def test_emoji_and_punctuation_are_text_not_an_unsupported_type(world, typed, message):
    accepted = world.gateway.accept(world.text("m1", typed))
    assert await world.run_until_settled(accepted.inbox_id)
    assert world.rasa.received[-1]["message"] == message


async def set_last_choices(world, choices: list[dict]) -> None:
    """What the last reply offered this contact (the fake Rasa offers menu:a and menu:b)."""
    first = world.gateway.accept(world.text("m0", "bonjour"))
    if not first.duplicate:
        assert await world.run_until_settled(first.inbox_id)
    with world.db.session() as session:
        session.get(Contact, first.contact_id).last_choices = choices


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
    await set_last_choices(world, COUNTRY_CHOICES)
    accepted = world.gateway.accept(world.text("m1", typed))
    assert await world.run_until_settled(accepted.inbox_id)
    assert world.rasa.received[-1]["message"] == f'/choose{{"choice": "{choice}"}}'


async def test_yes_words_select_the_affirmative_choice(world):
    for n, typed in enumerate(["oui", "ok envoie", "waaw", "👍", "c fait"]):
        await set_last_choices(world, [{"id": "flow:report:confirm", "title": "Envoyer"},
                                       {"id": "flow:report:cancel", "title": "Annuler"}])
        accepted = world.gateway.accept(world.text(f"y{n}", typed))
        assert await world.run_until_settled(accepted.inbox_id)
        assert world.rasa.received[-1]["message"] == '/choose{"choice": "flow:report:confirm"}'


async def test_a_number_never_selects_a_choice_that_cannot_be_undone(world):
    for n, typed in enumerate(["1", "Effacer", "oui"]):
        await set_last_choices(world, [{"id": "flow:delete:confirm", "title": "Effacer"},
                                       {"id": "flow:delete:cancel", "title": "Annuler"}])
        accepted = world.gateway.accept(world.text(f"d{n}", typed))
        assert await world.run_until_settled(accepted.inbox_id)
        assert "flow:delete:confirm" not in world.rasa.received[-1]["message"]
        assert not world.rasa.received[-1]["message"].startswith("/choose")


async def test_a_question_is_not_taken_for_a_choice(world):
    await set_last_choices(world, COUNTRY_CHOICES)
    accepted = world.gateway.accept(world.text("m1", "comment vendre l'or au Mali ?"))
    assert await world.run_until_settled(accepted.inbox_id)
    assert world.rasa.received[-1]["message"] == "comment vendre l'or au mali ?"


async def test_while_rasa_is_down_messages_wait_are_acknowledged_then_answered(world):
    world.rasa.up = False
    accepted = world.gateway.accept(world.text("m1", "autorisation"))
    also = world.gateway.accept(world.text("m2", "orpaillage"))
    # Acknowledged (settled, still pending) but not answered; once per contact.
    assert await world.run_until_settled(also.inbox_id)
    assert world.settled[accepted.inbox_id].pending and world.settled[also.inbox_id].pending
    assert world.settled[also.inbox_id].outbox_ids == []
    assert world.status(accepted.inbox_id) == "pending"
    assert world.replies() == [translator("fr").gettext(common.MESSAGE_RECEIVED)]
    assert "bien reçu" in world.replies()[0]
    world.rasa.up = True
    world.gateway.inbox._rasa_down_until = None
    assert await world.run_until_settled(also.inbox_id)
    assert world.status(accepted.inbox_id) == world.status(also.inbox_id) == "done"
    assert world.replies()[1:] == ["echo autorisation", "echo orpaillage"]


async def test_each_contact_is_answered_in_order(world):
    ids = [world.gateway.accept(world.text(f"m{i}", f"message {i}")).inbox_id for i in range(6)]
    assert await world.run_until_settled(ids[-1])
    assert [m["message"] for m in world.rasa.received] == [f"message {i}" for i in range(6)]


async def test_a_turn_that_keeps_failing_ends_with_an_apology(world):
    class Breaking:  # not Rasa being away: this message breaks the turn
        def respond(self, contact_id, slots, understood):
            raise ValueError("a broken turn")

    world.gateway.inbox.answerer.dialogue = Breaking()
    accepted = world.gateway.accept(world.text("m1", "bonjour"))
    stop = asyncio.Event()
    worker = asyncio.create_task(world.gateway.run_inbox_worker(stop))
    for _ in range(100):
        with world.db.session() as session:
            if session.get(InboxMessage, accepted.inbox_id).attempts:
                break
        await asyncio.sleep(0.02)
    stop.set()
    await worker
    with world.db.session() as session:
        row = session.get(InboxMessage, accepted.inbox_id)
        assert (row.status, row.attempts, row.last_error) == ("pending", 1, "ValueError")
        row.attempts, row.next_attempt_at = MAX_MESSAGE_ATTEMPTS - 1, None
    assert await world.run_until_settled(accepted.inbox_id)
    assert world.status(accepted.inbox_id) == "failed"
    assert world.replies(accepted.inbox_id) == [translator("fr").gettext(common.NOT_UNDERSTOOD)]
    assert world.settled[accepted.inbox_id].outbox_ids  # the web chat collects the apology


async def test_a_channel_with_a_sender_is_not_handed_the_reply_ids(world):
    class Quiet:
        holds_replies = False

        async def send(self, address, reply, *, last_inbound_at=None):
            return "id"

    world.gateway.senders[Channel.TELEGRAM.value] = Quiet()
    accepted = world.gateway.accept(world.text("t1", "bonjour", channel=Channel.TELEGRAM))
    assert await world.run_until_settled(accepted.inbox_id)
    assert world.settled[accepted.inbox_id].outbox_ids == []
    assert world.replies(accepted.inbox_id) == ["echo bonjour"]


def choice(message_id: str, choice_id: str, address: str = "+22370000001") -> Inbound:
    return Inbound(Channel.WEB, message_id, address, InboundKind.CHOICE, choice_id=choice_id)


async def test_while_rasa_is_down_a_pressed_button_is_answered_and_text_waits(world):
    world.rasa.up = False
    pressed = world.gateway.accept(choice("c1", "menu:main"))
    assert await world.run_until_settled(pressed.inbox_id)
    assert world.status(pressed.inbox_id) == "done"
    assert world.replies(pressed.inbox_id) == ['echo /choose{"choice": "menu:main"}']
    typed = world.gateway.accept(world.text("t1", "autorisation"))
    assert await world.run_until_settled(typed.inbox_id)  # acknowledged, not answered
    assert world.status(typed.inbox_id) == "pending"
    # A button pressed after the waiting text waits behind it: the order is kept.
    later = world.gateway.accept(choice("c2", "menu:a"))
    stop = asyncio.Event()
    worker = asyncio.create_task(world.gateway.run_inbox_worker(stop))
    await asyncio.sleep(0.5)
    stop.set()
    await worker
    assert world.status(later.inbox_id) == "pending"
    assert world.rasa.parsed == []
    assert [m["message"] for m in world.rasa.received] == ['/choose{"choice": "menu:main"}']


async def test_the_dialogue_state_is_kept_between_turns_and_a_return_is_told(world):
    first = world.gateway.accept(world.text("m1", "bonjour"))
    assert await world.run_until_settled(first.inbox_id)
    second = world.gateway.accept(choice("c1", "menu:a"))
    assert await world.run_until_settled(second.inbox_id)
    assert [m["slots"] for m in world.rasa.received] == [{}, {"turns": 1}]
    assert "returning" not in world.rasa.received[-1]["metadata"]
    assert world.rasa.received[-1]["metadata"]["channel"] == "web"
    with world.db.session() as session:
        state = session.get(ConversationState, first.contact_id)
        assert state.slots == {"turns": 2}
        state.last_user_at = state.last_user_at - timedelta(minutes=61)
    third = world.gateway.accept(choice("c2", "menu:b"))
    assert await world.run_until_settled(third.inbox_id)
    assert world.rasa.received[-1]["metadata"]["returning"] is True
