"""Talks to the Rasa NLU server over HTTP (Rasa runs in its own venv; nothing here imports
rasa): `/model/parse` reads a text, `/status` tells whether a model is loaded."""

from __future__ import annotations

import logging
from typing import Any

import httpx

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
        """True once the server answers with a model loaded (`/status`, an API route: 409
        while no model is loaded, 401 with a wrong token)."""
        params = {"token": self.token} if self.token else None
        try:
            response = await self.http.get(f"{self.base_url}/status", params=params, timeout=3.0)
        except httpx.HTTPError:
            return False
        return response.status_code == 200
