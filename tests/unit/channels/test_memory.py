"""The in-memory channel (bot/channels/memory.py), with the real gateway, store and dialogue
behind it: Rasa's NLU is `KeywordNLU`, a keyword table.
"""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select

from bot.channels import base
from bot.channels.memory import MemoryChannel
from bot.core.gateway import Gateway, SendError
from bot.core.messages import Channel, Location
from bot.core.rasa_client import RasaClient
from bot.store.db import Database
from bot.store.models import OutboxMessage
from bot.testing.harness import make_settings
from bot.testing.rasa import KeywordNLU

ADDRESS = "+22376000001"


@pytest.fixture
async def gateway(tmp_path):
    settings = make_settings(tmp_path, "http://rasa.test", ack_after_seconds=60.0)
    db = Database(settings.database_url)
    db.upgrade()
    rasa = KeywordNLU()
    http = httpx.AsyncClient(transport=rasa.transport())
    yield Gateway(settings, db, RasaClient("http://rasa.test", http))
    await http.aclose()
    db.dispose()


def outbox(gateway: Gateway) -> list[tuple[str, str | None, str | None]]:
    with gateway.db.session() as session:
        rows = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        return [(row.status, row.provider_message_id, row.last_error) for row in rows]


def choice_ids(replies) -> list[str]:
    return [choice.id for reply in replies for choice in reply.choices]


async def test_a_conversation_goes_through_the_real_gateway_and_outbox(gateway):
    channel = MemoryChannel(gateway, Channel.TELEGRAM)
    async with channel.connected():
        first = await channel.say(ADDRESS, "bonjour")
        assert first, "the greeting was not answered"
        assert "menu:formalisation" in choice_ids(first)  # the main menu
        second = await channel.press(ADDRESS, "menu:formalisation")
        assert second and "menu:formalisation" not in choice_ids(second)
    # Each reply was stored in the outbox, then sent through the channel exactly once.
    rows = outbox(gateway)
    assert len(rows) == len(first) + len(second) == len(channel.delivered)
    assert [status for status, _, _ in rows] == ["sent"] * len(rows)
    assert [provider for _, provider, _ in rows] == [
        d.provider_message_id for d in channel.delivered]
    assert {d.address for d in channel.delivered} == {ADDRESS}
    assert channel.replies(ADDRESS) == first + second
    assert channel.take(ADDRESS) == []  # say and press read them already


async def test_two_users_get_their_own_replies(gateway):
    channel = MemoryChannel(gateway, Channel.TELEGRAM)
    async with channel.connected():
        await channel.say("111", "bonjour")
        await channel.press("111", "menu:formalisation")
        await channel.say("222", "bonjour")
    assert len(channel.replies("111")) > len(channel.replies("222")) > 0
    assert channel.take("222") == []
    assert channel.replies() == [d.reply for d in channel.delivered]


async def test_a_refused_send_is_retried_and_delivered_once(gateway):
    channel = MemoryChannel(gateway, Channel.TELEGRAM)
    channel.fail_next(SendError("flood control", retry_after=0.1))
    async with channel.connected():
        replies = await channel.say(ADDRESS, "bonjour")
    assert replies
    assert channel.attempts == len(replies) + 1
    assert len(channel.delivered) == len(replies)
    assert {status for status, _, _ in outbox(gateway)} == {"sent"}


async def test_a_reply_refused_for_good_is_failed_not_delivered(gateway):
    channel = MemoryChannel(gateway, Channel.TELEGRAM)
    channel.fail_next(SendError("chat not found", retryable=False), times=10)
    async with channel.connected():
        assert await channel.say(ADDRESS, "bonjour") == []
    rows = outbox(gateway)
    assert rows and {status for status, _, _ in rows} == {"failed"}
    assert all(error == "chat not found" for _, _, error in rows)
    assert channel.delivered == []


async def test_a_held_reply_goes_out_when_the_user_writes_again(gateway):
    """A WhatsApp stand-in holds replies (its capabilities say so): the outbox keeps a held
    reply and sends it, before the new answer, as soon as the user writes."""
    channel = MemoryChannel(gateway, Channel.WHATSAPP)
    assert channel.holds_replies
    channel.hold_next()
    async with channel.connected():
        assert await channel.say(ADDRESS, "bonjour") == []
        held = [status for status, _, _ in outbox(gateway)]
        assert held and set(held) == {"held"}  # what follows a held reply waits with it
        again = await channel.press(ADDRESS, "menu:formalisation")
    rows = outbox(gateway)
    assert [status for status, _, _ in rows] == ["sent"] * len(rows)
    assert len(again) == len(rows) == len(channel.delivered) > len(held)
    # The greeting first, then the answer to the choice: the order of a contact's replies.
    assert "menu:formalisation" in choice_ids(again[:len(held)])
    assert "menu:formalisation" not in choice_ids(again[len(held):])


# No database needed below: a channel touches its gateway only when a message is pushed.
NO_GATEWAY = None


def test_only_a_channel_that_holds_replies_can_be_scripted_to_hold():
    with pytest.raises(ValueError):
        MemoryChannel(NO_GATEWAY, Channel.TELEGRAM).hold_next()


def test_the_web_chat_cannot_be_stood_in_for():
    # Its replies are taken by its HTTP answers, never pushed through `send`.
    with pytest.raises(ValueError):
        MemoryChannel(NO_GATEWAY, Channel.WEB)


def test_it_has_the_capabilities_of_the_channel_it_stands_in_for():
    telegram = MemoryChannel(NO_GATEWAY, Channel.TELEGRAM)
    whatsapp = MemoryChannel(NO_GATEWAY, Channel.WHATSAPP)
    assert (telegram.name, telegram.capabilities) == ("telegram", base.TELEGRAM)
    assert (whatsapp.name, whatsapp.capabilities) == ("whatsapp", base.WHATSAPP)
    assert not telegram.holds_replies and whatsapp.holds_replies
    assert isinstance(telegram, base.ChannelAdapter)
    custom = base.Capabilities(text_limit=160, buttons=0, button_title_limit=None,
                               list_rows=0, voice=False, media=False, location=False,
                               held_replies=True)
    assert MemoryChannel(NO_GATEWAY, Channel.TELEGRAM, capabilities=custom).holds_replies


async def test_push_sets_the_kind_from_what_is_given(gateway):
    channel = MemoryChannel(gateway, Channel.TELEGRAM)
    from bot.store.models import InboxMessage

    channel.push(ADDRESS, "salut", message_id="a")
    channel.push(ADDRESS, choice="menu:main", message_id="b")
    channel.push(ADDRESS, location=Location(12.6, -8.0), message_id="c")
    again = channel.push(ADDRESS, "salut", message_id="a")
    assert again.duplicate
    with gateway.db.session() as session:
        kinds = session.scalars(select(InboxMessage.kind).order_by(InboxMessage.id)).all()
    assert kinds == ["text", "choice", "location"]
