"""Issue 14, promise 9: "delete my data" is true on disk.

A miner reports a problem with a place, GPS, a description, a voice note and a call-back
number; a partner writes back; the miner erases their data. Afterwards no file under the data
folder (the SQLite database with its -wal/-journal and the conversation state, the media
folder, the log file; Rasa keeps nothing) holds the miner's words, numbers or coordinates, in
text or as the 8-byte floats SQLite stores; what is kept for statistics (category, country,
zone, status, dates) is still there. SQLite only: PostgreSQL's behaviour is in docs/SECURITY.md.
"""

from __future__ import annotations

import logging
import struct
from datetime import timedelta
from pathlib import Path

import httpx
from sqlalchemy import select

from bot.channels.media import MediaWorker
from bot.core import privacy
from bot.core.gateway import Gateway
from bot.core.messages import Channel, Inbound, InboundKind, Location, Media
from bot.core.notify import record_partner_update
from bot.core.rasa_client import RasaClient
from bot.logging_setup import RedactIdentifiers
from bot.store import requests as store
from bot.store.db import Database
from bot.store.models import FollowUpRequest, RequestEvent
from bot.testing.harness import make_settings
from bot.testing.rasa import KeywordNLU
from bot.testing.requests_world import World

ADDRESS = "+22376000991"
SUMMARY = "Les camions de Zirconax-Ouattara versent du cyanure dans le marigot Koulounkoro"
WORDS = ["Zirconax-Ouattara", "cyanure dans le marigot", "Koulounkoro"]
LATER = "Merci beaucoup Bintou-Xyloba pour votre aide"
PARTNER = "Nous passons jeudi chez Moussa Qwertani au puits 7"
VOICE = b"OggS\x00VOICE-Zx81-Ketekoro-voice-bytes"
TYPED_NUMBER = "+223 65 43 21 09"
LAT, LON = 12.4567891, -8.3456789


def _needles() -> dict[str, bytes]:
    needles = {word: word.encode() for word in [*WORDS, "Bintou-Xyloba", "Qwertani",
                                                 "Ketekoro"]}
    for number in ("65432109", "65 43 21 09", "22376000991", "76000991"):
        needles[number] = number.encode()
    for value in (LAT, LON):
        needles[repr(value)] = repr(value).encode()
        needles[f"{value:.5f}"] = f"{value:.5f}".encode()
        needles[f"{value} (big-endian double)"] = struct.pack(">d", value)  # SQLite REAL
        needles[f"{value} (little-endian double)"] = struct.pack("<d", value)
    return needles


async def test_after_erasure_no_file_under_the_data_folder_holds_the_miner(tmp_path, monkeypatch):
    data = tmp_path / "var"
    (data / "logs").mkdir(parents=True)
    settings = make_settings(tmp_path, "http://rasa.test",
                             database_url=f"sqlite:///{data / 'assistant.db'}",
                             media_dir=data / "media", ack_after_seconds=60.0)
    # The log file, as `make run` writes it (our handler: formatter and filter).
    handler = logging.FileHandler(data / "logs" / "app.log")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactIdentifiers())
    root = logging.getLogger()
    root.addHandler(handler)
    monkeypatch.setattr(root, "level", logging.DEBUG)

    db = Database(settings.database_url)
    db.upgrade()
    rasa = KeywordNLU()
    http = httpx.AsyncClient(transport=rasa.transport())
    gateway = Gateway(settings, db, RasaClient("http://rasa.test", http))

    async def fetch(_row, sink):  # the channel's download: the bytes of the voice note
        sink.write(VOICE)
        return "audio/ogg"

    media = MediaWorker(gateway, Channel.WHATSAPP, settings.media_dir, fetch)
    try:
        with store.use_database(db):
            world = World(gateway, rasa, db, address=ADDRESS)
            async with world.memory.connected():  # its sender, the inbox and outbox workers
                await world.press("country:ML")
                await world.say("je veux signaler un problème")
                await world.press("flow:report:cat:pollution")
                await world._send(Inbound(Channel.WHATSAPP, "loc-1", ADDRESS, InboundKind.LOCATION,
                                          location=Location(LAT, LON)))
                await world.say(SUMMARY)
                await world._send(Inbound(Channel.WHATSAPP, "voice-1", ADDRESS, InboundKind.VOICE,
                                          media=Media("voice", "wa-media-991", "audio/ogg")))
                assert await media.run_once() == 1
                await world.press("flow:report:contact:phone")
                await world.say(TYPED_NUMBER)
                await world.press("flow:report:confirm")
                with db.session() as session:
                    request = session.scalar(select(FollowUpRequest))
                    code = request.reference_code
                    assert request.summary == SUMMARY and request.latitude == LAT
                    assert request.attachments and request.callback_contact_encrypted
                with db.session() as session:
                    record_partner_update(session, code, "in_progress", PARTNER, actor="femima:awa")
                await world.say(LATER)
                assert any(p.is_file() for p in settings.media_dir.rglob("*"))
                # Everything is on disk now: the search below would find it.
                before = _files_holding(data, _needles())
                assert {"Zirconax-Ouattara", "Qwertani", "Ketekoro"} <= before, before

                await world.press("flow:delete:start")
                await world.press("flow:delete:confirm")
                assert "effac" in world.text.lower()
                await privacy.finish_erasures(db, settings.media_dir, grace=timedelta(0))
        with db.session() as session:  # kept for statistics, nothing else
            request = session.scalar(select(FollowUpRequest))
            assert (request.category, request.country, request.status) == (
                "pollution", "ML", "in_progress")
            assert request.created_at and request.anonymised_at and request.contact_id is None
            assert (request.summary, request.locality, request.latitude, request.longitude,
                    request.partner_message, request.attachments, request.language) == (
                None, None, None, None, None, None, None)
            assert all(e.message is None for e in session.scalars(select(RequestEvent)))
    finally:
        root.removeHandler(handler)
        handler.close()
        await http.aclose()
        db.dispose()

    found = _files_holding(data, _needles())
    assert found == set(), f"still on disk: {found}"


def _files_holding(folder: Path, needles: dict[str, bytes]) -> set[str]:
    files = [p for p in folder.rglob("*") if p.is_file()]
    assert any(p.name == "assistant.db" for p in files)
    found = set()
    for path in files:
        content = path.read_bytes()
        for name, needle in needles.items():
            if needle in content:
                found.add(name)
                print(f"{name!r} in {path.relative_to(folder)}")
    return found
