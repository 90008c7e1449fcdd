"""What one turn brings (`Turn`) and what the dialogue remembers between turns (`State`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from bot.facts import COUNTRY_CODES as COUNTRY_CODES  # re-exported


@dataclass
class Turn:
    """What Rasa understood of one user message."""

    intent: str | None
    entities: dict[str, str] = field(default_factory=dict)
    choice: str | None = None
    text: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    # The classifier's best real intent and its confidence (also under a fallback).
    guess: str | None = None
    confidence: float | None = None

    @property
    def original_text(self) -> str:
        """What the user typed, as typed: Rasa sees the normalized text (lower case, no
        accents), a partner should read the original, which the caller passes in the
        metadata (`original_text`) with the message it answers."""
        original = (self.metadata or {}).get("original_text")
        return original if isinstance(original, str) and original else (self.text or "")


@dataclass
class State:
    """What the assistant remembers about a conversation (kept in `conversation_states`)."""

    language: str | None = None
    country: str | None = None
    flow: dict[str, Any] | None = None
    misunderstood: int = 0
    history: list[str] = field(default_factory=list)
    pending: str | None = None  # what to show once the missing language/country is known
    last_answer: str | None = None
    progress: dict[str, Any] = field(default_factory=dict)  # guides: steps done, per guide
    language_offered: bool = False  # a detected language is proposed once, never imposed

    def to_slots(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_slots(cls, slots: dict[str, Any]) -> State:
        known = {k: v for k, v in slots.items() if k in cls.__dataclass_fields__}
        state = cls(**{k: v for k, v in known.items() if v is not None})
        state.misunderstood = int(state.misunderstood or 0)
        state.history = list(state.history or [])
        state.progress = dict(state.progress or {})
        return state
