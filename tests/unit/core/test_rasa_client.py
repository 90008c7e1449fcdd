"""bot/core/rasa_client.py: Rasa's NLU reading (`parse`) and readiness (`ready`), against a
fake Rasa behind httpx.MockTransport (no socket: unit tests never touch the network)."""

from __future__ import annotations

import json

import httpx
import pytest

from bot.core.rasa_client import RasaClient, RasaUnavailable

PARSED = {"text": "ou vendre mon or", "intent": {"name": "sell_gold", "confidence": 0.93},
          "intent_ranking": [{"name": "sell_gold", "confidence": 0.93}], "entities": []}


class FakeRasa:
    """Answers every request with `respond(request)`; remembers the requests."""

    def __init__(self, respond):
        self.respond = respond
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.respond(request)


def client(respond, token: str | None = None) -> tuple[RasaClient, FakeRasa]:
    fake = FakeRasa(respond)
    http = httpx.AsyncClient(transport=httpx.MockTransport(fake))
    return RasaClient("http://rasa.test:5005/", http, token=token), fake


async def test_parse_posts_the_text_and_returns_rasas_reading():
    rasa, fake = client(lambda request: httpx.Response(200, json=PARSED), token="s3cret")
    assert await rasa.parse("ou vendre mon or") == PARSED
    [request] = fake.requests
    assert (request.method, request.url.path) == ("POST", "/model/parse")
    assert request.url.host == "rasa.test" and request.url.port == 5005
    assert dict(request.url.params) == {"token": "s3cret"}
    assert json.loads(request.content) == {"text": "ou vendre mon or"}
    assert request.extensions["timeout"] == {"connect": 5.0, "read": 5.0, "write": 5.0,
                                             "pool": 5.0}


async def test_parse_sends_no_token_when_none_is_configured():
    rasa, fake = client(lambda request: httpx.Response(200, json=PARSED))
    await rasa.parse("bonjour", timeout=1.5)
    [request] = fake.requests
    assert request.url.query == b""
    assert request.extensions["timeout"]["read"] == 1.5


@pytest.mark.parametrize("response, reason", [
    (httpx.Response(500, text="Internal Server Error"), "parse: HTTP 500"),
    (httpx.Response(503), "parse: HTTP 503"),
    (httpx.Response(401, json={"status": "failure"}), "parse: HTTP 401"),  # wrong token
    (httpx.Response(200, text="<html>starting</html>"), "parse: not JSON"),
    (httpx.Response(200, json=["sell_gold"]), "parse: unexpected body"),
])
async def test_parse_turns_every_bad_answer_into_rasa_unavailable(response, reason):
    rasa, _ = client(lambda request: response)
    with pytest.raises(RasaUnavailable) as info:
        await rasa.parse("bonjour")
    assert str(info.value) == reason


@pytest.mark.parametrize("error", [httpx.ReadTimeout, httpx.ConnectTimeout, httpx.ConnectError,
                                   httpx.RemoteProtocolError])
async def test_parse_turns_timeouts_and_connection_errors_into_rasa_unavailable(error):
    def fail(request):
        raise error("no answer", request=request)

    rasa, _ = client(fail)
    with pytest.raises(RasaUnavailable) as info:
        await rasa.parse("bonjour")
    # The reason names the error, never the text (it may be private).
    assert str(info.value) == error.__name__
    assert isinstance(info.value.__cause__, error)


async def test_ready_once_rasa_answers_200():
    rasa, fake = client(lambda request: httpx.Response(200, json={}))
    assert await rasa.ready() is True
    [request] = fake.requests
    assert request.url.host == "rasa.test"
    assert request.extensions["timeout"]["read"] == 3.0


@pytest.mark.parametrize("status", [404, 500, 503])
async def test_not_ready_while_rasa_answers_an_error(status):
    rasa, _ = client(lambda request: httpx.Response(status))
    assert await rasa.ready() is False


@pytest.mark.parametrize("error", [httpx.ConnectError, httpx.ReadTimeout])
async def test_not_ready_while_rasa_is_unreachable(error):
    def fail(request):
        raise error("down", request=request)

    rasa, _ = client(fail)
    assert await rasa.ready() is False
