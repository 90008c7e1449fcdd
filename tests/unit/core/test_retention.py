"""Issue 14, promise 10: nothing is kept forever.

With the documented defaults, 90 days after a message its text, payload and media are gone
(unless the media is attached to a request still open), replies likewise; 12 months after a
request was closed or resolved it is anonymised; what the dialogue remembers of a conversation
(`conversation_states`) goes 90 days after its last turn. The gateway's housekeeping runs the
job; the clock is injected.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
from sqlalchemy import func, select, update

from bot.config import load_settings
from bot.core.gateway import Gateway
from bot.core.messages import Channel, Inbound, InboundKind, Media
from bot.core.rasa_client import RasaClient
from bot.core.retention import RetentionPolicy, RetentionReport, apply_retention
from bot.store import requests as store
from bot.store.models import (
    Contact,
    ConversationState,
    FollowUpRequest,
    InboxMessage,
    MediaFile,
    OutboxMessage,
    UnderstandingMiss,
    utcnow,
)
from bot.testing.harness import make_settings

ADDRESS = "+22376000777"


def _count(db, model) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_the_defaults_are_the_documented_ones(monkeypatch, tmp_path):
    for name in ("RETENTION_MESSAGE_DAYS", "RETENTION_CLOSED_REQUEST_DAYS",
                 "RETENTION_TRACKER_DAYS", "RETENTION_EVERY_MINUTES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    monkeypatch.setenv("DATA_ENCRYPTION_KEY", "a" * 43 + "=")
    settings = load_settings()
    policy = RetentionPolicy.from_settings(settings)
    assert (policy.message_days, policy.closed_request_days, policy.tracker_days) == (
        90, 365, 90)
    assert settings.retention_every_minutes == 60
    monkeypatch.setenv("RETENTION_MESSAGE_DAYS", "30")
    assert RetentionPolicy.from_settings(load_settings()).message_days == 30


async def test_housekeeping_expires_old_data_with_an_injected_clock(db, tmp_path, monkeypatch):
    settings = make_settings(tmp_path, "http://rasa.invalid", database_url=db.url,
                             media_dir=tmp_path / "media")
    http = httpx.AsyncClient(transport=httpx.MockTransport(lambda r: httpx.Response(200)))
    gateway = Gateway(settings, db, RasaClient("http://rasa.invalid", http))
    start = utcnow()
    gateway.housekeeping.clock = lambda: start

    # Three messages with a voice note each; the second voice note is attached to an open
    # request, the third to a request that gets closed.
    ids = []
    for n in range(3):
        accepted = gateway.accept(Inbound(Channel.WHATSAPP, f"v{n}", ADDRESS, InboundKind.VOICE,
                                          media=Media("voice", f"media-{n}", "audio/ogg"),
                                          text=f"légende {n}"))
        ids.append(accepted.inbox_id)
    gateway.accept(Inbound(Channel.WHATSAPP, "t1", ADDRESS, InboundKind.TEXT,
                           text="mon chef prend notre or"))
    (settings.media_dir / "whatsapp").mkdir(parents=True)
    with db.session() as session:
        session.execute(update(InboxMessage).values(status="done"))
        for media in session.scalars(select(MediaFile)):
            media.status, media.path = "stored", f"whatsapp/{media.inbox_id}.ogg"
            (settings.media_dir / media.path).write_bytes(b"OggS")
        contact_id = session.scalar(select(InboxMessage.contact_id))
        session.add(OutboxMessage(contact_id=contact_id, channel="whatsapp", status="sent",
                                  payload={"text": "Votre demande ML-234567 : reçue."}))
        open_request = store.create_request(session, contact_id=contact_id, category="accident",
                                            channel="whatsapp", country="ML",
                                            summary="éboulement", attachments=[ids[1]])
        closed = store.create_request(session, contact_id=contact_id, category="pollution",
                                      channel="whatsapp", country="ML", locality="Kéniéba",
                                      summary="boue", attachments=[ids[2]])
        store.change_status(session, closed, "closed", actor="femima:awa")
        open_id, closed_id = open_request.id, closed.id
        session.add(ConversationState(contact_id=contact_id, slots={"language": "fr"},
                                      last_user_at=start, updated_at=start))

    await gateway.housekeeping.housekeep()  # day 0: nothing is old yet
    assert _count(db, InboxMessage) == 4 and _count(db, OutboxMessage) == 1
    assert _count(db, ConversationState) == 1

    gateway.housekeeping.clock = lambda: start + timedelta(days=91)
    gateway.housekeeping._retention_due = None
    await gateway.housekeeping.housekeep()
    with db.session() as session:
        kept = session.scalars(select(InboxMessage.id)).all()
        assert kept == [ids[1]]  # attached to an open request; the closed one's is not kept
        assert session.scalars(select(MediaFile.inbox_id)).all() == [ids[1]]
        assert _count(db, OutboxMessage) == 0
        assert session.get(FollowUpRequest, closed_id).summary == "boue"  # not 12 months yet
        assert session.get(FollowUpRequest, closed_id).attachments is None
    files = sorted(p.name for p in settings.media_dir.rglob("*") if p.is_file())
    assert files == [f"{ids[1]}.ogg"]
    assert _count(db, ConversationState) == 0

    gateway.housekeeping.clock = lambda: start + timedelta(days=366)
    gateway.housekeeping._retention_due = None
    await gateway.housekeeping.housekeep()
    with db.session() as session:
        closed = session.get(FollowUpRequest, closed_id)
        assert closed.anonymised_at is not None and closed.contact_id is None
        assert (closed.summary, closed.locality, closed.category) == (None, None, "pollution")
        still_open = session.get(FollowUpRequest, open_id)
        assert still_open.anonymised_at is None and still_open.summary == "éboulement"
    await http.aclose()


async def test_housekeeping_runs_retention_at_most_every_interval(db, tmp_path):
    settings = make_settings(tmp_path, "http://rasa.invalid", database_url=db.url)
    http = httpx.AsyncClient(transport=httpx.MockTransport(lambda r: httpx.Response(200)))
    gateway = Gateway(settings, db, RasaClient("http://rasa.invalid", http))
    runs = []
    now = utcnow()
    gateway.housekeeping.clock = lambda: now
    gateway.housekeeping.run_retention = lambda when: runs.append(when) or asyncio.sleep(0)
    await gateway.housekeeping.housekeep()
    await gateway.housekeeping.housekeep()
    now += timedelta(minutes=61)
    await gateway.housekeeping.housekeep()
    assert len(runs) == 2
    await http.aclose()


def test_apply_retention_counts_what_it_deleted_and_keeps_the_recent(db):
    now = utcnow()
    old, recent = now - timedelta(days=91), now - timedelta(days=89)
    with db.session() as session:
        contact = Contact()
        session.add(contact)
        session.flush()
        for n, when in enumerate((old, old, recent)):
            session.add(InboxMessage(channel="web", channel_message_id=f"m{n}", kind="text",
                                     contact_id=contact.id, text=f"texte {n}", status="done",
                                     received_at=when))
            session.add(OutboxMessage(contact_id=contact.id, channel="web", status="sent",
                                      payload={"text": f"réponse {n}"}, created_at=when))
            session.add(UnderstandingMiss(contact_id=contact.id, text=f"incompris {n}",
                                          created_at=when))
        # A pending message or reply is never expired, however old.
        session.add(InboxMessage(channel="web", channel_message_id="pending", kind="text",
                                 contact_id=contact.id, text="en attente", received_at=old))
        session.add(OutboxMessage(contact_id=contact.id, channel="web", status="pending",
                                  payload={"text": "à envoyer"}, created_at=old))

    report = apply_retention(db, RetentionPolicy(), now=now)

    assert report == RetentionReport(messages=2, replies=2, misses=2)
    with db.session() as session:
        assert sorted(session.scalars(select(InboxMessage.text))) == ["en attente", "texte 2"]
        assert sorted(r["text"] for r in session.scalars(select(OutboxMessage.payload))) == [
            "réponse 2", "à envoyer"]
        assert session.scalars(select(UnderstandingMiss.text)).all() == ["incompris 2"]
    assert apply_retention(db, RetentionPolicy(), now=now) == RetentionReport()
    off = RetentionPolicy(message_days=0, closed_request_days=0, tracker_days=0)
    assert apply_retention(db, off, now=now + timedelta(days=1000)) == RetentionReport()
