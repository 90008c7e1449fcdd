"""A small fake of Rasa's REST channel, for channel tests that do not need the real NLU.

GET /webhooks/rest/ answers 200 (what `RasaClient.ready` checks); POST
/webhooks/rest/webhook answers like `action_dispatch` does: `custom` payloads with text and
choices. By default it echoes the message and offers two choices; `reply_with` changes that.
The real-Rasa conversation tests live elsewhere.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from bot.testing.server import FaultInjector, LoopbackServer, Recorded, ServedFake

DEFAULT_CHOICES = [{"id": "menu:main", "title": "Menu principal"},
                   {"id": "answer:mercury_health", "title": "Mercure et santé"}]


def default_reply(sender: str, message: str) -> list[dict[str, Any]]:
    return [{"recipient_id": sender,
             "custom": {"text": f"Vous avez dit : {message}", "choices": DEFAULT_CHOICES,
                        "lang": "fr"}}]


class FakeRasa(FaultInjector, ServedFake):
    def __init__(self) -> None:
        super().__init__()
        self.respond: Callable[[str, str], list[dict[str, Any]]] = default_reply
        self.server = LoopbackServer(Starlette(routes=[
            Route("/webhooks/rest/", self._ready, methods=["GET"]),
            Route("/webhooks/rest/webhook", self._webhook, methods=["POST"]),
        ]))


    def reply_with(self, text: str, choices: list[dict[str, str]] | None = None) -> None:
        self.respond = lambda sender, _message: [
            {"recipient_id": sender, "custom": {"text": text, "choices": choices or []}}]

    def messages(self) -> list[str]:
        return [r.body["message"] for r in self.calls("webhook")]

    async def _ready(self, _request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def _webhook(self, request: Request) -> JSONResponse:
        body = await request.json()
        self.record(Recorded("POST", request.url.path, "webhook", body))
        if (fault := self.take_fault("webhook")) is not None:
            return JSONResponse({"error": "simulated"}, status_code=fault.status)
        return JSONResponse(self.respond(body["sender"], body["message"]))
