"""The real assistant for integration tests: Rasa's NLU server with the trained model and the
app (which runs the dialogue), each in its own process on free loopback ports, with a fresh
SQLite database.

`make test` trains (or takes from the cache) `models/current.tar.gz` before pytest runs.
"""

from __future__ import annotations

import os
import time
import uuid

import pytest

from bot.devtools.stack import MODEL, Stack
from bot.testing.conversation import WebChat, web_chat
from bot.testing.rasa import FakeRasa


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    if not MODEL.exists():
        pytest.fail("no trained model: run `make train` (make test does it first)")
    workdir = tmp_path_factory.mktemp("stack")
    stack = Stack.create(workdir, usual_ports=False,
                         database_url=f"sqlite:///{workdir / 'assistant.db'}",
                         extra_env={"WEB_WAIT_SECONDS": "3", "ACK_AFTER_SECONDS": "1",
                                    "LOG_LEVEL": "INFO"})
    # The app starts first and Rasa last, as in `make run`: the first message of the test
    # session arrives while Rasa is still loading its model.
    stack.migrate()
    stack.start_app()
    stack.started_at = time.monotonic()
    stack.wait_app(60)
    stack.early_sender = "early-" + uuid.uuid4().hex[:8]
    stack.early_reply = WebChat(stack.app_url, stack.early_sender).post({"text": "Bonjour"})
    stack.start_rasa()
    try:
        # RASA_WAIT_SECONDS: a busy machine (several stacks at once) loads the model slower.
        stack.wait_rasa(float(os.environ.get("RASA_WAIT_SECONDS", "300")))
        yield stack
    finally:
        stack.stop()


@pytest.fixture
def chat(stack):
    """A new user of the web chat (a fresh sender id each time)."""
    return web_chat(stack.app_url, "t-" + uuid.uuid4().hex[:10])


@pytest.fixture(scope="module")
def rasa():
    """A loopback stand-in for Rasa's NLU server, for the channel adapters' own tests."""
    fake = FakeRasa().start()
    yield fake
    fake.stop()
