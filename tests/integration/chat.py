"""A conversation driver that reads like a chat transcript (after Errbot's test backend).

    chat.say("Bonjour").expect("Choisissez").has_choice("menu:licensing")
    chat.press("menu:licensing").expect("pays")
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import httpx


@dataclass
class Turn:
    replies: list[dict]
    pending: bool

    @property
    def text(self) -> str:
        return "\n".join(r["text"] for r in self.replies)

    @property
    def choices(self) -> list[dict]:
        return [c for r in self.replies for c in r.get("choices", [])]

    def expect(self, *fragments: str) -> Turn:
        lowered = self.text.lower()
        for fragment in fragments:
            assert fragment.lower() in lowered, f"{fragment!r} not in reply:\n{self.text}"
        return self

    def expect_not(self, *fragments: str) -> Turn:
        lowered = self.text.lower()
        for fragment in fragments:
            assert fragment.lower() not in lowered, f"{fragment!r} in reply:\n{self.text}"
        return self

    def has_choice(self, *choice_ids: str) -> Turn:
        ids = [c["id"] for c in self.choices]
        for choice_id in choice_ids:
            assert choice_id in ids, f"{choice_id!r} not among {ids}"
        return self


@dataclass
class Chat:
    base_url: str
    sender: str
    transcript: list[tuple[str, str]] = field(default_factory=list)

    def post(self, body: dict, timeout: float = 60) -> dict:
        response = httpx.post(f"{self.base_url}/api/chat", json={"sender": self.sender, **body},
                              timeout=timeout)
        response.raise_for_status()
        return response.json()

    def _turn(self, body: dict, shown: str) -> Turn:
        data = self.post(body)
        replies = list(data["replies"])
        deadline = time.monotonic() + 60
        # The answer may come after the acknowledgement when Rasa was busy or restarting.
        while data.get("pending") and time.monotonic() < deadline:
            time.sleep(0.5)
            data = httpx.get(f"{self.base_url}/api/chat/updates",
                             params={"sender": self.sender}, timeout=10).json()
            replies.extend(data["replies"])
        self.transcript.append(("user", shown))
        self.transcript.extend(("bot", r["text"]) for r in replies)
        return Turn(replies, bool(data.get("pending")))

    def say(self, text: str) -> Turn:
        return self._turn({"text": text}, text)

    def press(self, choice_id: str) -> Turn:
        return self._turn({"choice": choice_id}, f"[{choice_id}]")
