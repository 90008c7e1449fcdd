"""Talks to the Rasa server over HTTP (Rasa runs in its own venv; nothing here imports rasa)."""

from __future__ import annotations

import json
import logging
from typing import Any

import httpx

from bot.core.messages import Choice, Reply

log = logging.getLogger(__name__)


class RasaUnavailable(Exception):
    """Rasa did not answer (down, starting, restarting or overloaded): try again later."""


class RasaClient:
    def __init__(self, base_url: str, http: httpx.AsyncClient, token: str | None = None,
                 timeout: float = 30.0):
        self.base_url = base_url.rstrip("/")
        self.http = http
        self.token = token
        self.timeout = timeout

    async def send(self, sender: str, message: str,
                   metadata: dict[str, Any] | None = None) -> list[Reply]:
        """Send one user message through Rasa's REST channel; return the bot's replies."""
        body = {"sender": sender, "message": message, "metadata": metadata or {}}
        try:
            response = await self.http.post(
                f"{self.base_url}/webhooks/rest/webhook", json=body, timeout=self.timeout
            )
        except httpx.HTTPError as exc:
            raise RasaUnavailable(type(exc).__name__) from exc
        if response.status_code >= 500 or response.status_code in (404, 409, 429):
            raise RasaUnavailable(f"HTTP {response.status_code}")
        response.raise_for_status()
        return [reply for item in response.json() if (reply := to_reply(item)) is not None]

    async def parse(self, text: str, timeout: float = 5.0) -> dict[str, Any]:
        """Rasa's NLU reading of a text (`/model/parse`: intent, ranking, entities), without
        touching any conversation. Needs the HTTP API (and its token)."""
        params = {"token": self.token} if self.token else None
        try:
            response = await self.http.post(f"{self.base_url}/model/parse", json={"text": text},
                                            params=params, timeout=timeout)
        except httpx.HTTPError as exc:
            raise RasaUnavailable(type(exc).__name__) from exc
        if response.status_code != 200:
            raise RasaUnavailable(f"parse: HTTP {response.status_code}")
        try:
            result = response.json()
        except ValueError as exc:
            raise RasaUnavailable("parse: not JSON") from exc
        if not isinstance(result, dict):
            raise RasaUnavailable("parse: unexpected body")
        return result

    async def ready(self) -> bool:
        """True once the server answers and has a model loaded."""
        try:
            response = await self.http.get(f"{self.base_url}/webhooks/rest/", timeout=3.0)
        except httpx.HTTPError:
            return False
        return response.status_code == 200

    async def replace_tracker_events(self, sender: str, events: list[dict[str, Any]]) -> None:
        """Overwrite a conversation's tracker (used to erase it); needs the API token."""
        params = {"token": self.token} if self.token else None
        try:
            response = await self.http.put(
                f"{self.base_url}/conversations/{sender}/tracker/events",
                json=events, params=params, timeout=self.timeout,
            )
        except httpx.HTTPError as exc:
            raise RasaUnavailable(type(exc).__name__) from exc
        response.raise_for_status()


def choice_message(choice_id: str) -> str:
    """The Rasa message for a pressed button or a selected choice."""
    return "/choose" + json.dumps({"choice": choice_id}, ensure_ascii=False)


def to_reply(item: dict[str, Any]) -> Reply | None:
    """Convert one REST-channel output message to a Reply."""
    custom = item.get("custom")
    if isinstance(custom, dict) and "text" in custom:
        return Reply.from_json(custom)
    text = item.get("text")
    if not text:
        return None
    choices = []
    for button in item.get("buttons") or []:
        payload = str(button.get("payload", ""))
        if payload.startswith("/choose{"):
            try:
                payload = json.loads(payload[len("/choose"):])["choice"]
            except (ValueError, KeyError):
                pass
        choices.append(Choice(id=payload, title=str(button.get("title", payload))))
    return Reply(text=text, choices=choices)
