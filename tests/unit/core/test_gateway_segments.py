"""A long typed message: the gateway parses its parts and answers the strongest question,
with the other parts' intents (names only) in the metadata. Rasa is an httpx transport."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from bot.config import load_settings, replace
from bot.core.gateway import Gateway
from bot.core.messages import Channel, Inbound, InboundKind, Reply
from bot.core.rasa_client import RasaClient
from bot.store.db import Database

STORY = ("Salut, nous sommes orpailleurs a Kenieba avec mes freres depuis longtemps. Le "
         "mercure nous rend malades au site. Ou est-ce que je peux vendre mon or ?")
KEYWORDS = {"vendre": ("sell_gold", 0.93), "mercure": ("mercury_health", 0.81),
            "salut": ("greet", 0.97), "porte": ("violence_help", 0.55)}


class ParsingRasa:
    """Rasa's /model/parse (keyword intents); `failures`: how many parses fail next. As the
    dialogue, records what it received (`sent`: the text answered and the metadata)."""

    def __init__(self):
        self.parsed: list[str] = []
        self.sent: list[dict] = []
        self.failures = 0

    def handler(self, request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return httpx.Response(200, json={"model_file": "nlu.tar.gz"})
        body = json.loads(request.content)
        assert request.url.path == "/model/parse"
        assert request.url.params.get("token") == "t0k"
        if self.failures:
            self.failures -= 1
            return httpx.Response(500)
        self.parsed.append(body["text"])
        intent = next((v for k, v in KEYWORDS.items() if k in body["text"]),
                      ("nlu_fallback", 0.3))
        return httpx.Response(200, json={"text": body["text"], "intent": {
            "name": intent[0], "confidence": intent[1]}, "entities": []})

    def respond(self, contact_id, slots, understood):
        self.sent.append({"message": understood.text, "metadata": understood.metadata})
        return [Reply("ok")], slots


@pytest.fixture
def world(tmp_path):
    settings = replace(load_settings(), database_url=f"sqlite:///{tmp_path / 'db.sqlite'}",
                       ack_after_seconds=0.0, worker_poll_seconds=0.05)
    db = Database(settings.database_url)
    db.upgrade()
    rasa = ParsingRasa()
    http = httpx.AsyncClient(transport=httpx.MockTransport(rasa.handler))
    gateway = Gateway(settings, db, RasaClient("http://rasa.test", http, token="t0k"))
    gateway.inbox.answerer.dialogue = rasa
    yield gateway, rasa
    db.dispose()


async def answer(gateway: Gateway, body: str, message_id: str = "m1") -> None:
    settled = asyncio.Event()
    gateway.on_settled(lambda inbox_id, _settled: settled.set())
    gateway.accept(Inbound(Channel.WEB, message_id, "+22370000009", InboundKind.TEXT, text=body))
    stop = asyncio.Event()
    worker = asyncio.create_task(gateway.run_inbox_worker(stop))
    try:
        await asyncio.wait_for(settled.wait(), 5)
    finally:
        stop.set()
        await worker


async def test_the_strongest_question_is_sent_with_the_other_intents(world):
    gateway, rasa = world
    await answer(gateway, STORY)
    assert len(rasa.parsed) == 4  # the three parts, then the part answered
    assert rasa.parsed[-1] == "ou est-ce que je peux vendre mon or ?"
    [sent] = rasa.sent
    assert sent["message"] == "ou est-ce que je peux vendre mon or ?"
    assert sent["metadata"]["other_intents"] == ["mercury_health"]
    assert "violence_segment" not in sent["metadata"]


async def test_a_short_message_is_sent_whole_without_parsing(world):
    gateway, rasa = world
    await answer(gateway, "Bonjour, ou vendre mon or ?")
    assert rasa.parsed == ["bonjour, ou vendre mon or ?"]
    assert rasa.sent[0]["message"] == "bonjour, ou vendre mon or ?"
    assert "other_intents" not in rasa.sent[0]["metadata"]


async def test_when_parsing_fails_the_whole_message_goes_on(world):
    gateway, rasa = world
    rasa.failures = 3  # the three parts
    await answer(gateway, STORY)
    [sent] = rasa.sent
    assert sent["message"].startswith("salut, nous sommes") and sent["message"].endswith("?")
    assert "other_intents" not in sent["metadata"]


async def test_a_message_with_no_question_is_sent_whole(world):
    gateway, rasa = world
    body = "Salut a tous. On travaille bien ici avec les freres depuis longtemps. A plus tard."
    await answer(gateway, body)
    assert len(rasa.parsed) >= 2
    assert rasa.sent[0]["message"].startswith("salut a tous") and "other_intents" not in (
        rasa.sent[0]["metadata"])


async def test_a_message_that_may_be_a_disclosure_is_never_split(world):
    gateway, rasa = world
    body = ("Le chef de chantier m'a frappee hier soir et il veut que je couche avec lui. "
            "Ou est-ce que je peux vendre mon or maintenant ?")
    await answer(gateway, body)
    assert len(rasa.parsed) == 1
    assert rasa.sent[0]["message"].startswith("le chef de chantier")


async def test_a_part_parsed_as_violence_marks_the_message(world):
    gateway, rasa = world
    body = ("Salut, nous sommes orpailleurs a Kenieba avec les freres depuis longtemps. Il "
            "reste devant la porte tous les jours. Ou est-ce que je peux vendre mon or ?")
    await answer(gateway, body)
    [sent] = rasa.sent
    assert sent["metadata"]["violence_segment"] is True
    assert "porte" in sent["message"]
