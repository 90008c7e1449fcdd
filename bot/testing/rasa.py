"""A small fake of Rasa's NLU server, for tests that do not need the real model.

Rasa serves only the NLU model: `GET /status` (what `RasaClient.ready` checks) and
`POST /model/parse`, which reads a text as Rasa does (intent, confidence, ranking,
entities). Here the reading is a keyword table (`KEYWORDS`; anything else is `nlu_fallback`),
and every text read is recorded, so that a test can assert what Rasa saw. Two forms:

    rasa = FakeRasa().start()          # a loopback server (the app in its own server)
    transport = KeywordNLU().transport()  # an httpx transport (a gateway in the test)

The real-Rasa conversation tests live in tests/integration/ (the stack fixture).
"""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from bot.testing.server import FaultInjector, LoopbackServer, Recorded, ServedFake

# The gateway normalizes text before Rasa sees it (accents may be gone): match both ways.
KEYWORDS = [
    (re.compile(r"violence|frapp|aide violences", re.I), "violence_help"),
    (re.compile(r"signaler|probl[eè]me", re.I), "report_problem"),
    (re.compile(r"\bsuivi\b", re.I), "check_status"),
    (re.compile(r"effacer mes donn", re.I), "delete_data"),
    (re.compile(r"parler [aà] ", re.I), "talk_to_person"),
    (re.compile(r"^menu$", re.I), "menu"),
    (re.compile(r"^bonjour", re.I), "greet"),
]


def keyword_parse(text: str) -> dict[str, Any]:
    """Rasa's `/model/parse` answer for `text`, by keyword: a keyword is a sure reading (1.0),
    anything else the fallback."""
    for pattern, intent in KEYWORDS:
        if pattern.search(text):
            return {"text": text, "intent": {"name": intent, "confidence": 1.0},
                    "entities": []}
    return {"text": text, "intent": {"name": "nlu_fallback"}, "entities": []}


class KeywordNLU:
    """Rasa's NLU server as an httpx transport; `parsed`: every text it read."""

    def __init__(self) -> None:
        self.parsed: list[str] = []

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def everything_seen(self) -> str:
        """All Rasa ever received, as one string (for "not in Rasa" assertions)."""
        return json.dumps(self.parsed, ensure_ascii=False)

    async def handle(self, request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return httpx.Response(200, json={"model_file": "fake-nlu.tar.gz"})
        text = json.loads(request.content)["text"]
        self.parsed.append(text)
        return httpx.Response(200, json=keyword_parse(text))


class FakeRasa(FaultInjector, ServedFake):
    """Rasa's NLU server on loopback; `messages()`: the texts it read, in order."""

    def __init__(self) -> None:
        super().__init__()
        self.server = LoopbackServer(Starlette(routes=[
            Route("/status", self._status, methods=["GET"]),
            Route("/model/parse", self._parse, methods=["POST"]),
        ]))

    def messages(self) -> list[str]:
        return [r.body["text"] for r in self.calls("parse")]

    async def _status(self, _request: Request) -> JSONResponse:
        return JSONResponse({"model_file": "fake-nlu.tar.gz", "model_id": "fake"})

    async def _parse(self, request: Request) -> JSONResponse:
        body = await request.json()
        self.record(Recorded("POST", request.url.path, "parse", body))
        if (fault := self.take_fault("parse")) is not None:
            return JSONResponse({"error": "simulated"}, status_code=fault.status)
        return JSONResponse(keyword_parse(body["text"]))
