"""Privacy through the whole pipeline (gateway -> Rasa -> action -> store), on SQLite and
PostgreSQL: what is typed in the protection flow is kept nowhere, and "delete my data" erases.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import select

from bot.core import privacy
from bot.store import requests as store
from bot.store.identities import IdentityVault
from bot.store.models import Contact, FollowUpRequest, InboxMessage
from bot.testing.requests_world import World, with_protection_staff

MARKER = "Mon oncle Bakary m'a frappé hier soir derrière le puits ZX-MARQUEUR-4471"
NUMBER = "76 12 34 56"


async def test_nothing_typed_in_the_protection_flow_is_kept_logged_or_sent_to_rasa(
        world: World, caplog, monkeypatch):
    data = with_protection_staff()
    monkeypatch.setattr(store, "ensure_reference_data",
                        lambda session, path=None: store.sync_reference_data(session, data))
    caplog.set_level(logging.DEBUG)
    await world.say("bonjour")
    await world.press("country:ML")
    await world.say("aide violences")
    assert "80 00 11 32" in world.text and all(r.sensitive for r in world.replies)

    await world.say(MARKER)  # a disclosure: never kept, never echoed
    assert "pas besoin de raconter" in world.text and "Bakary" not in world.text
    await world.say("1")  # typed menu number: "Être rappelé(e)"
    assert "d'accord" in world.text
    await world.press("flow:protection:consent")
    await world.press("flow:protection:number:other")
    await world.say(NUMBER)
    assert "flow:protection:time:morning" in world.choices
    await world.press("flow:protection:time:morning")
    await world.say(MARKER)  # again, at another step
    await world.press("flow:protection:confirm")
    assert "Votre code" in world.text
    await world.say(MARKER)  # after the flow: still private (the last reply was sensitive)

    dump = world.dump()
    for secret in ("Bakary", "ZX-MARQUEUR-4471", "76123456", NUMBER):
        assert secret not in dump, f"{secret!r} stored"
        assert secret not in caplog.text, f"{secret!r} logged"
        assert secret not in world.rasa.everything_seen(), f"{secret!r} sent to Rasa"
    assert "22376000001" not in caplog.text  # the WhatsApp number is never logged either
    assert "22376000001" not in dump

    with world.db.session() as session:
        texts = session.scalars(select(InboxMessage.text).where(
            InboxMessage.kind == "text")).all()
        assert texts[:2] == ["bonjour", "aide violences"] and set(texts[2:]) == {None}
        [request] = session.scalars(select(FollowUpRequest)).all()
        assert (request.category, request.sensitive, request.summary, request.locality) == (
            "protection", True, None, None)
        vault = IdentityVault(world.gateway.settings.data_key)
        assert vault.decrypt(request.callback_contact_encrypted) == "76123456"
        assert session.get(Contact, world.contact_id).sensitive_mode is None  # flow over


async def test_stop_ends_the_protection_flow_at_once(world: World):
    await world.press("country:SN")
    await world.say("aide violences")
    await world.say("STOP")
    assert "Effacer la discussion" in world.text
    assert not any(r.sensitive for r in world.replies)
    await world.say("bonjour")  # back to normal: this one is kept
    with world.db.session() as session:
        texts = session.scalars(select(InboxMessage.text).order_by(InboxMessage.id)).all()
    assert texts[-1] == "bonjour" and texts[-2] is None


async def test_delete_my_data_erases_everything_but_anonymised_requests(world: World):
    await world.press("country:GN")
    await world.say("je veux signaler un problème")
    await world.press("flow:report:cat:extortion")
    await world.say("Siguiri")
    await world.say("Le chef de site prend la moitié de notre or")
    await world.press("flow:report:contact:phone")
    await world.say("+224 620 00 00 01")
    await world.press("flow:report:confirm")
    assert "GN-" in world.text
    contact_id = world.contact_id
    # The typed call-back number is stored encrypted only, and never reached Rasa.
    for shape in ("620 00 00 01", "620000001"):
        assert shape not in world.dump() and shape not in world.rasa.everything_seen()

    assert world.count("conversation_states") == 1  # what the dialogue remembers of them
    await world.say("effacer mes données")
    await world.press("flow:delete:start")  # the confirmation opens only on an explicit request
    world.deliver = False  # keep the confirmation waiting, as a slow channel would
    await world.press("flow:delete:confirm")
    assert "effacées" in world.text
    # Right after the turn: messages, consents and the conversation state are gone; the
    # contact remains only until the confirmation is delivered. Rasa never kept anything.
    assert world.count("conversation_states") == 0
    assert world.count("consents") == 0
    assert world.count("outbox") == 1 and world.count("inbox") == 0

    await privacy.finish_erasures(world.db, grace=timedelta(0))
    for table in ("contacts", "channel_identities", "inbox", "outbox", "consents",
                  "media_files", "conversation_states"):
        assert world.count(table) == 0, table
    with world.db.session() as session:
        [request] = session.scalars(select(FollowUpRequest)).all()
        assert request.contact_id is None and request.anonymised_at is not None
        assert (request.callback_consent, request.callback_contact_encrypted) == (False, None)
        # Kept for statistics only: category, country, zone, status, dates (issue 14, 9).
        assert (request.category, request.country) == ("extortion", "GN")
        assert (request.summary, request.locality, request.language) == (None, None, None)
    dump = world.dump()
    assert contact_id not in dump and "620000001" not in dump


async def test_a_voice_note_in_the_protection_flow_is_not_kept(world: World):
    from bot.core.messages import Inbound, InboundKind, Media

    await world.press("country:ML")
    await world.say("aide violences")
    await world._send(Inbound(world.channel, "voice-1", world.address, InboundKind.VOICE,
                              media=Media("voice", "wa-media-id-123", "audio/ogg")))
    assert "pas besoin de raconter" in world.text
    assert world.count("media_files") == 0
    assert "wa-media-id-123" not in world.dump()


async def test_a_number_typed_then_abandoned_is_forgotten(world: World):
    await world.press("country:ML")
    await world.say("je veux signaler un problème")
    await world.press("flow:report:cat:pollution")
    await world.say("Kéniéba")
    await world.say("De la boue dans le fleuve")
    await world.press("flow:report:contact:phone")
    await world.say("76 55 44 33")
    with world.db.session() as session:
        assert session.get(Contact, world.contact_id).callback_draft is not None
    await world.say("0")  # the menu: the report is abandoned
    with world.db.session() as session:
        assert session.get(Contact, world.contact_id).callback_draft is None
        assert session.scalars(select(FollowUpRequest)).all() == []
