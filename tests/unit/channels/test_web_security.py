"""The web chat as a deployment runs it (issue 14, item 3): off by default; when on, the sender
comes from a signed cookie, message ids are deduplicated per sender, and requests are
rate-limited per address and per sender. The real routes, gateway and SQLite database; Rasa
(outside us) is an httpx transport."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from pathlib import Path

import httpx
import pytest
import yaml
from itsdangerous import URLSafeTimedSerializer
from starlette.applications import Starlette
from starlette.testclient import TestClient

from bot.channels import web
from bot.config import ROOT, load_settings, replace
from bot.core.gateway import Gateway
from bot.core.messages import Channel, Reply
from bot.core.rasa_client import RasaClient
from bot.store.db import Database
from bot.store.models import InboxMessage


class FakeRasa:
    """Rasa's NLU (/status, /model/parse) and, standing in for the dialogue, an echo."""

    def __init__(self):
        self.up = True
        self.received: list[dict] = []

    def handler(self, request: httpx.Request) -> httpx.Response:
        if not self.up:
            raise httpx.ConnectError("connection refused", request=request)
        if request.method == "GET":
            return httpx.Response(200, json={"model_file": "nlu.tar.gz"})
        text = json.loads(request.content)["text"]
        return httpx.Response(200, json={"text": text, "entities": [],
                                         "intent": {"name": "greet", "confidence": 0.9}})

    def respond(self, contact_id, slots, understood):
        self.received.append({"message": understood.text})
        return [Reply(f"echo {understood.text}")], slots


@pytest.fixture(autouse=True)
def _no_web_settings_from_the_shell(monkeypatch):
    for name in ("WEB_CHAT_ENABLED", "WEB_CHAT_OPEN", "WEB_CHAT_SECRET", "REDIS_URL",
                 "WEB_CHAT_COOKIE_SECURE", "WEB_CHAT_RATE_PER_ADDRESS",
                 "WEB_CHAT_RATE_PER_SENDER"):
        monkeypatch.delenv(name, raising=False)


@contextlib.contextmanager
def running(tmp_path: Path, rasa: FakeRasa | None = None, **overrides):
    """A TestClient on the web chat's routes, with the inbox worker running."""
    overrides = {"worker_poll_seconds": 0.05, "web_wait_seconds": 3.0,
                 "ack_after_seconds": 60, "web_chat_cookie_secure": False, **overrides}
    settings = replace(load_settings(), database_url=f"sqlite:///{tmp_path / 'db.sqlite'}",
                       **overrides)
    db = Database(settings.database_url)
    db.upgrade()
    rasa = rasa or FakeRasa()
    gateway = Gateway(settings, db, RasaClient(
        "http://rasa.test", httpx.AsyncClient(transport=httpx.MockTransport(rasa.handler))))
    gateway.inbox.answerer.dialogue = rasa

    @contextlib.asynccontextmanager
    async def lifespan(_app):
        stop = asyncio.Event()
        worker = asyncio.create_task(gateway.run_inbox_worker(stop))
        yield
        stop.set()
        await worker

    app = Starlette(routes=web.routes(gateway, settings), lifespan=lifespan)
    try:
        with TestClient(app) as client:
            client.gateway, client.db, client.rasa = gateway, db, rasa
            client.waiters = web.Waiters(gateway)
            yield client
    finally:
        db.dispose()


def inbox_of(client, sender: str) -> list[InboxMessage]:
    contact_id = client.waiters.find_contact(Channel.WEB, sender)
    with client.db.session() as session:
        rows = session.query(InboxMessage).where(InboxMessage.contact_id == contact_id).all()
        session.expunge_all()
        return rows


# ------------------------------------------------------------------ off by default
def test_the_web_chat_is_off_unless_a_setting_turns_it_on(tmp_path):
    settings = load_settings()
    assert not settings.web_chat_enabled and not settings.web_chat_open
    with running(tmp_path, web_chat_enabled=False) as client:
        assert client.post("/api/chat", json={"sender": "a", "text": "Bonjour"}).status_code == 404
        assert client.get("/api/chat/updates", params={"sender": "a"}).status_code == 404
        assert client.get("/").status_code == 404


def test_compose_leaves_the_web_chat_off():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    env = compose["services"]["app"]["environment"]
    assert "WEB_CHAT_OPEN" not in env
    value = str(env.get("WEB_CHAT_ENABLED", "false"))
    assert value in ("false", "${WEB_CHAT_ENABLED:-false}")
    example = (ROOT / ".env.example").read_text()
    assert "WEB_CHAT_ENABLED=false" in example


def test_open_mode_refuses_to_listen_beyond_loopback(tmp_path):
    with pytest.raises(RuntimeError, match="loopback"), \
            running(tmp_path, web_chat_open=True, host="0.0.0.0"):
        pass


# ------------------------------------------------------------------ cookie binding
def test_the_server_issues_the_sender_in_a_signed_cookie(tmp_path):
    with running(tmp_path, web_chat_enabled=True) as client:
        page = client.get("/")
        assert page.status_code == 200
        cookie = page.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie
        data = client.post("/api/chat", json={"text": "Bonjour"}).json()
        assert data["replies"][0]["text"] == "echo bonjour"
        # The page's cookie named the sender; the client chose nothing.
        assert data["sender"].startswith("web-")
        assert client.post("/api/chat", json={"text": "encore"}).json()["sender"] == data["sender"]
        assert len(inbox_of(client, data["sender"])) == 2


def test_the_cookie_is_secure_by_default(tmp_path):
    with running(tmp_path, web_chat_enabled=True, web_chat_cookie_secure=True) as client:
        assert "Secure" in client.post("/api/chat", json={"text": "x"}).headers["set-cookie"]


def test_a_client_cannot_speak_as_or_read_another_sender(tmp_path):
    rasa = FakeRasa()
    with running(tmp_path, rasa, web_chat_enabled=True, web_wait_seconds=0.3) as client:
        # The victim writes while Rasa is away: the answer waits in the outbox for them.
        rasa.up = False
        victim = client.post("/api/chat", json={"text": "ma plainte"}).json()
        victim_cookie = client.cookies[web.COOKIE]
        assert victim["pending"] and victim["replies"] == []
        rasa.up = True
        client.gateway.rasa_up = False
        for _ in range(100):
            if not client.waiters.has_pending(client.waiters.find_contact(Channel.WEB,
                                                                          victim["sender"])):
                break
            time.sleep(0.05)
        # The attacker knows the victim's sender id but has a cookie of their own.
        client.cookies.clear()
        mine = client.post("/api/chat", json={"sender": victim["sender"], "text": "efface"})
        assert mine.status_code == 200 and mine.json()["sender"] != victim["sender"]
        stolen = client.get("/api/chat/updates", params={"sender": victim["sender"]}).json()
        assert stolen["replies"] == []
        # A forged cookie (the victim's sender, signed with another key) is a new browser.
        forged = URLSafeTimedSerializer("not the key", salt="web-chat-sender").dumps(
            victim["sender"])
        client.cookies.clear()
        client.cookies.set(web.COOKIE, forged)
        assert client.get("/api/chat/updates").json()["replies"] == []
        assert client.post("/api/chat", json={"text": "x"}).json()["sender"] != victim["sender"]
        assert [row.text for row in inbox_of(client, victim["sender"])] == ["ma plainte"]
        # The victim, with their own cookie, gets their answer.
        client.cookies.clear()
        client.cookies.set(web.COOKIE, victim_cookie)
        got = client.get("/api/chat/updates").json()
        assert [r["text"] for r in got["replies"]] == ["echo ma plainte"]


# ------------------------------------------------------------------ per-sender dedup
@pytest.mark.parametrize("mode", ["open", "enabled"])
def test_two_senders_using_the_same_message_id_send_two_messages(tmp_path, mode):
    settings = {"web_chat_open": True} if mode == "open" else {"web_chat_enabled": True}
    with running(tmp_path, **settings) as client:
        answers = {}
        for name in ("alice", "bob"):
            client.cookies.clear()
            body = {"sender": name, "text": f"je suis {name}", "message_id": "m-1"}
            data = client.post("/api/chat", json=body).json()
            # The same sender retrying the same id is one message, answered with its reply.
            again = client.post("/api/chat", json=body).json()
            answers[data["sender"]] = ([r["text"] for r in data["replies"]], again)
        assert len(answers) == 2
        for sender, (texts, again) in answers.items():
            name = "alice" if "alice" in texts[0] else "bob"
            assert texts == [f"echo je suis {name}"]
            assert again["replies"] == [] and not again["pending"]
            assert len(inbox_of(client, sender)) == 1
        assert len(client.rasa.received) == 2


def test_a_long_message_id_still_fits_the_inbox_key(tmp_path):
    with running(tmp_path, web_chat_open=True) as client:
        body = {"sender": "s", "text": "un", "message_id": "x" * 128}
        assert client.post("/api/chat", json=body).json()["replies"]
        assert client.post("/api/chat", json=body).json()["replies"] == []
        (row,) = inbox_of(client, "s")
        assert len(row.channel_message_id) <= 128


# ------------------------------------------------------------------ rate limits
def test_a_sender_that_writes_too_fast_gets_429_with_retry_after(tmp_path):
    with running(tmp_path, web_chat_enabled=True, web_chat_rate_per_sender="3/minute") as client:
        codes = [client.post("/api/chat", json={"text": f"m{n}"}).status_code for n in range(4)]
        assert codes == [200, 200, 200, 429]
        refused = client.post("/api/chat", json={"text": "encore"})
        assert refused.status_code == 429
        assert 1 <= int(refused.headers["Retry-After"]) <= 60
        assert "Attendez" in refused.json()["error"]
        # Another browser from another address is not held up by it.
        client.cookies.clear()
        assert client.post("/api/chat", json={"text": "autre"}).status_code == 200


def test_one_address_cannot_flood_with_fresh_senders(tmp_path):
    with running(tmp_path, web_chat_enabled=True, web_chat_rate_per_address="5/minute") as client:
        codes = []
        for n in range(7):
            client.cookies.clear()  # a new browser each time: the sender limit never applies
            codes.append(client.post("/api/chat", json={"text": f"m{n}"}).status_code)
        assert codes == [200] * 5 + [429, 429]


def test_open_mode_is_not_rate_limited(tmp_path):
    with running(tmp_path, web_chat_open=True, web_chat_rate_per_sender="1/minute",
                 web_chat_rate_per_address="1/minute") as client:
        codes = [client.post("/api/chat", json={"sender": "dev", "text": f"m{n}"}).status_code
                 for n in range(4)]
        assert codes == [200] * 4


@pytest.mark.integration  # the machine's Redis on 127.0.0.1:6379
def test_the_limits_are_shared_through_redis(tmp_path):
    redis = pytest.importorskip("redis")
    url = "redis://127.0.0.1:6379/15"
    redis.Redis.from_url(url).flushdb()
    first = web.RateLimits("2/minute", "2/minute", url, "secret")
    second = web.RateLimits("2/minute", "2/minute", url, "secret")  # another app process
    assert first.wait_seconds("address", "10.0.0.9") is None
    assert second.wait_seconds("address", "10.0.0.9") is None
    assert first.wait_seconds("address", "10.0.0.9") >= 1
    keys = [k.decode() for k in redis.Redis.from_url(url).keys("*")]
    assert keys and not any("10.0.0.9" in k for k in keys)  # only keyed hashes are stored
