"""Rasa's REST API as an httpx transport that runs our real `action_dispatch` in process.

For the follow-up request tests: the dialogue, the flows and `bot/actions/dispatch.py` run for
real; only the NLU is a keyword table. Every message Rasa receives is kept in `tracker`, so a
test can assert what Rasa saw (and that an erased conversation is gone).

    rasa = InProcessRasa()
    client = RasaClient("http://rasa.test", httpx.AsyncClient(transport=rasa.transport()))
"""

from __future__ import annotations

import json
import re
import sqlite3
import time
from collections import defaultdict
from typing import Any

import httpx
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.dispatch import ActionDispatch

# The gateway normalises text before Rasa sees it (accents may be gone): match both ways.
KEYWORDS = [
    (re.compile(r"violence|frapp|aide violences", re.I), "violence_help"),
    (re.compile(r"signaler|probl[eè]me", re.I), "report_problem"),
    (re.compile(r"\bsuivi\b", re.I), "check_status"),
    (re.compile(r"effacer mes donn", re.I), "delete_data"),
    (re.compile(r"parler [aà] ", re.I), "talk_to_person"),
    (re.compile(r"^menu$", re.I), "menu"),
    (re.compile(r"^bonjour", re.I), "greet"),
]


class InProcessRasa:
    def __init__(self, tracker_db: str | None = None) -> None:
        """`tracker_db`: a SQLite file where every event is also written, as Rasa's SQL
        tracker store does (table `events`, the event as JSON in `data`)."""
        self.slots: dict[str, dict[str, Any]] = defaultdict(dict)
        self.tracker: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.received: list[dict[str, Any]] = []
        self.erased: list[str] = []
        self.tracker_db = tracker_db
        if tracker_db:
            with sqlite3.connect(tracker_db) as connection:
                connection.execute(
                    "CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY, sender_id "
                    "VARCHAR(255) NOT NULL, type_name VARCHAR(255) NOT NULL, timestamp FLOAT, "
                    "intent_name VARCHAR(255), action_name VARCHAR(255), data TEXT)")
            connection.close()

    def _store(self, sender: str, events: list[dict[str, Any]]) -> None:
        if not self.tracker_db:
            return
        with sqlite3.connect(self.tracker_db) as connection:
            connection.executemany(
                "INSERT INTO events (sender_id, type_name, timestamp, data) VALUES (?, ?, ?, ?)",
                [(sender, str(e.get("event")), e.get("timestamp") or time.time(),
                  json.dumps(e, ensure_ascii=False)) for e in events])
        connection.close()

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def everything_seen(self) -> str:
        """All Rasa ever received or stored, as one string (for "not in Rasa" assertions)."""
        return json.dumps([self.received, self.tracker, self.slots], ensure_ascii=False)

    async def handle(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if request.method == "GET":
            return httpx.Response(200, json={"status": "ok"})
        if request.method == "PUT" and path.endswith("/tracker/events"):
            sender = path.split("/")[2]
            self.tracker[sender] = json.loads(request.content)
            self.slots.pop(sender, None)
            self.erased.append(sender)
            return httpx.Response(200, json={})
        body = json.loads(request.content)
        self.received.append(body)
        sender, message = body["sender"], body["message"]
        parsed = self.parse(message)
        parsed["metadata"] = body.get("metadata") or {}
        self.tracker[sender].append({"event": "user", "text": message,
                                     "parse_data": parsed})
        tracker = Tracker(sender, dict(self.slots[sender]), parsed, [], False, None, {}, None)
        dispatcher = CollectingDispatcher()
        events = await ActionDispatch().run(dispatcher, tracker, {})
        for event in events:
            if event.get("event") == "slot":
                self.slots[sender][event["name"]] = event["value"]
        self.tracker[sender].extend(events)
        self._store(sender, [self.tracker[sender][-len(events) - 1], *events])
        return httpx.Response(200, json=[{"recipient_id": sender, "custom": m["custom"]}
                                         for m in dispatcher.messages if m.get("custom")])

    @staticmethod
    def parse(message: str) -> dict[str, Any]:
        if message.startswith("/"):
            intent, _, rest = message[1:].partition("{")
            values = json.loads("{" + rest) if rest else {}
            return {"intent": {"name": intent, "confidence": 1.0}, "text": message,
                    "entities": [{"entity": k, "value": v} for k, v in values.items()]}
        for pattern, intent in KEYWORDS:
            if pattern.search(message):  # a keyword is a sure classification, as Rasa's 1.0
                return {"intent": {"name": intent, "confidence": 1.0}, "text": message,
                        "entities": []}
        return {"intent": {"name": "nlu_fallback"}, "text": message, "entities": []}
