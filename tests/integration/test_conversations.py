"""Whole conversations (tests/integration/conversations.yml) through the web chat, the real
Rasa NLU and the app's dialogue: what each typed message is read as, and what is answered."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
import pytest
import yaml

from bot.core.normalize import normalize
from bot.devtools.stack import Stack
from bot.testing.conversation import web_chat

CONVERSATIONS = yaml.safe_load(
    (Path(__file__).parent / "conversations.yml").read_text(encoding="utf-8"))["conversations"]


def read_as(stack: Stack, text: str) -> str:
    """The intent Rasa's model gives the text, as the app sends it (normalized)."""
    response = httpx.post(f"{stack.rasa_url}/model/parse", json={"text": normalize(text)},
                          params={"token": stack.rasa_token}, timeout=60)
    response.raise_for_status()
    return response.json()["intent"]["name"]


@pytest.mark.parametrize("conversation", CONVERSATIONS, ids=[c["name"] for c in CONVERSATIONS])
def test_conversation(stack: Stack, conversation: dict):
    chat = web_chat(stack.app_url, "conv-" + uuid.uuid4().hex[:10])
    for step in conversation["steps"]:
        if "say" in step:
            # A list: any of these (e.g. a miss, read as out_of_scope or as the fallback).
            allowed = step["intent"] if isinstance(step["intent"], list) else [step["intent"]]
            assert read_as(stack, step["say"]) in allowed, step
            turn = chat.say(step["say"])
        else:
            turn = chat.press(step["press"])
        assert turn.replies and not turn.pending, (step, chat.transcript)
        turn.expect(*step.get("expect", []))
        turn.has_choice(*step.get("choices", []))


def test_rasa_serves_only_the_nlu(stack: Stack):
    """No REST channel (no conversation kept in Rasa); the API needs the token."""
    assert httpx.post(f"{stack.rasa_url}/webhooks/rest/webhook",
                      json={"sender": "x", "message": "bonjour"}).status_code == 404
    assert httpx.post(f"{stack.rasa_url}/model/parse",
                      json={"text": "bonjour"}).status_code == 401
