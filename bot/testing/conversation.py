"""One conversation driver for the tests, reading like a chat transcript (after Errbot's test
backend), over two transports:

    chat = Conversation(Dialogue(country="ML"))       # the dialogue in process, no Rasa:
    chat.say("datugu waati", intent="seasonal_closure")  # the test gives what Rasa would
    chat = Conversation(WebChat(app_url, sender))     # the web chat over HTTP, the real stack
    chat.say("Bonjour").expect("Choisissez").has_choice("menu:licensing")
    chat.press("menu:licensing").expect("pays")
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, overload

import httpx

from bot.actions.dialogue import State, Talk
from bot.actions.dialogue import Turn as Understood


def _get(obj: Any, name: str) -> Any:
    return obj[name] if isinstance(obj, dict) else getattr(obj, name)


class Turn(Sequence[Any]):
    """The bot's replies to one user message: the raw replies (dicts over HTTP, `Reply` objects
    in process) as a sequence, with their text, choices and assertions."""

    def __init__(self, replies: list[Any], pending: bool = False):
        self.replies = list(replies)
        self.pending = pending

    @overload
    def __getitem__(self, index: int) -> Any: ...
    @overload
    def __getitem__(self, index: slice) -> list[Any]: ...
    def __getitem__(self, index: int | slice) -> Any:
        return self.replies[index]

    def __len__(self) -> int:
        return len(self.replies)

    def __repr__(self) -> str:
        return f"Turn({self.text!r}, {self.ids})"

    @property
    def text(self) -> str:
        return "\n".join(_get(r, "text") for r in self.replies)

    @property
    def choices(self) -> list[dict[str, str]]:
        """Every choice offered, in order, as {"id", "title"} (the web chat's shape)."""
        return [{"id": _get(c, "id"), "title": _get(c, "title")}
                for r in self.replies for c in (_get(r, "choices") or [])]

    @property
    def ids(self) -> list[str]:
        return [c["id"] for c in self.choices]

    @property
    def titles(self) -> list[str]:
        return [c["title"] for c in self.choices]

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
        for choice_id in choice_ids:
            assert choice_id in self.ids, f"{choice_id!r} not among {self.ids}"
        return self


class Transport(Protocol):
    def say(self, text: str, understood: dict[str, Any]) -> Turn: ...
    def press(self, choice_id: str) -> Turn: ...


class Dialogue:
    """The dialogue in process (`Talk` over a `State`), without Rasa: each message carries
    what Rasa would have understood (intent, entities, confidence...)."""

    def __init__(self, contact_id: str | None = None, channel: str | None = None, **state: Any):
        self.state = State(**state)
        self.contact_id = contact_id
        self.channel = channel

    def _run(self, turn: Understood) -> Turn:
        if self.channel:
            turn.metadata = {"channel": self.channel, **turn.metadata}
        return Turn(Talk(self.state, sender_id=self.contact_id).respond(turn))

    def say(self, text: str, understood: dict[str, Any]) -> Turn:
        understood = dict(understood)
        intent = understood.pop("intent", "nlu_fallback")
        fields = {k: understood.pop(k) for k in ("guess", "confidence") if k in understood}
        metadata = dict(understood.pop("metadata", None) or {})
        return self._run(Understood(intent=intent, text=text or None, entities=understood,
                                    metadata=metadata, **fields))

    def press(self, choice_id: str) -> Turn:
        return self._run(Understood(intent="choose", choice=choice_id,
                                    text=f'/choose{{"choice":"{choice_id}"}}',
                                    entities={"choice": choice_id}))


@dataclass
class WebChat:
    """The web chat's HTTP API (`POST /api/chat`, `GET /api/chat/updates`) of a running app."""

    base_url: str
    sender: str

    def post(self, body: dict, timeout: float = 60) -> dict:
        response = httpx.post(f"{self.base_url}/api/chat", json={"sender": self.sender, **body},
                              timeout=timeout)
        response.raise_for_status()
        return response.json()

    def _turn(self, body: dict) -> Turn:
        data = self.post(body)
        replies = list(data["replies"])
        deadline = time.monotonic() + 60
        # The answer may come after the acknowledgement when Rasa was busy or restarting.
        while data.get("pending") and time.monotonic() < deadline:
            time.sleep(0.5)
            data = httpx.get(f"{self.base_url}/api/chat/updates",
                             params={"sender": self.sender}, timeout=10).json()
            replies.extend(data["replies"])
        return Turn(replies, bool(data.get("pending")))

    def say(self, text: str, understood: dict[str, Any]) -> Turn:
        if understood:
            raise TypeError(f"the real NLU understands the web chat, not {sorted(understood)}")
        return self._turn({"text": text})

    def press(self, choice_id: str) -> Turn:
        return self._turn({"choice": choice_id})


@dataclass
class Conversation:
    """`say` and `press` over a transport; keeps the transcript and the last turn."""

    transport: Transport
    transcript: list[tuple[str, str]] = field(default_factory=list)
    last: Turn = field(default_factory=lambda: Turn([]))

    def _record(self, shown: str, turn: Turn) -> Turn:
        self.transcript.append(("user", shown))
        self.transcript.extend(("bot", _get(r, "text")) for r in turn.replies)
        self.last = turn
        return turn

    def say(self, text: str = "", **understood: Any) -> Turn:
        """Send a message; in process, keywords give what Rasa understood of it (`intent`,
        default nlu_fallback, `guess`, `confidence`, `metadata`, the rest are entities)."""
        return self._record(text, self.transport.say(text, understood))

    def press(self, choice_id: str) -> Turn:
        return self._record(f"[{choice_id}]", self.transport.press(choice_id))

    @property
    def state(self) -> State:
        """The conversation state (the in-process transport only)."""
        state = getattr(self.transport, "state", None)
        if not isinstance(state, State):
            raise AttributeError("only the in-process dialogue exposes its state")
        return state

    @property
    def step(self) -> str | None:
        """The step of the running guided flow, if any (in process)."""
        return (self.state.flow or {}).get("step")

    @property
    def text(self) -> str:
        return self.last.text

    @property
    def choices(self) -> list[str]:
        """The choice ids of the last turn."""
        return self.last.ids


def dialogue(contact_id: str | None = None, channel: str | None = None,
             **state: Any) -> Conversation:
    """A conversation with the dialogue in process."""
    return Conversation(Dialogue(contact_id, channel, **state))


def web_chat(base_url: str, sender: str) -> Conversation:
    """A conversation with a running app over the web chat's HTTP API."""
    return Conversation(WebChat(base_url, sender))
