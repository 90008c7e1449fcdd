"""A `Repository` in memory: what flow tests (and tools that need no database) hand `Talk`.

It keeps what the dialogue wrote as plain lists and dicts, so a test asserts exactly what a
turn stored (`requests`, `erasures`, `misses`...), and it is filled by hand (`inbox`,
`drafts`, `addresses`, `known_requests`, `callback_countries`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.store.repository import (
    MEDIA_LIMIT,
    NOT_WORTH_SHARING,
    SHARE_LIMIT,
    CallbackNumber,
    NewRequest,
    Repository,
    RequestView,
    shared_summary,
)
from bot.store.requests import CODE_ALPHABET


@dataclass
class InboxLine:
    id: int
    contact_id: str
    text: str | None = None
    kind: str = "text"
    received_at: datetime | None = None


@dataclass
class MemoryRepository:
    inbox: list[InboxLine] = field(default_factory=list)
    drafts: dict[str, str] = field(default_factory=dict)  # contact -> encrypted number
    addresses: dict[tuple[str, str], str] = field(default_factory=dict)  # (contact, channel)
    callback_countries: set[str] = field(default_factory=set)
    known_requests: dict[tuple[str, str], RequestView] = field(default_factory=dict)
    # What the dialogue wrote:
    requests: list[dict[str, Any]] = field(default_factory=list)
    erasures: list[str] = field(default_factory=list)
    withdrawn: list[str] = field(default_factory=list)
    misses: list[dict[str, Any]] = field(default_factory=list)
    chosen: list[tuple[str, str]] = field(default_factory=list)

    def _code(self, country: object) -> str:
        prefix = country if isinstance(country, str) and len(country) == 2 else "XX"
        n = len(self.requests)
        return f"{prefix}-TEST{CODE_ALPHABET[n // 31 % 31]}{CODE_ALPHABET[n % 31]}"

    # ---- requests --------------------------------------------------------------------
    def request_codes(self, contact_id: str | None) -> list[str]:
        return [code for (contact, code) in self.known_requests if contact == contact_id]

    def find_request(self, contact_id: str | None, code: str) -> RequestView | None:
        return self.known_requests.get((contact_id or "", code))

    def create_request(self, *, contact_id: str | None, category: str, channel: str,
                       callback_number: CallbackNumber | None = None,
                       shared_messages: list[int] | None = None,
                       **fields: object) -> NewRequest | None:
        if callback_number is not None:
            encrypted = self.drafts.pop(contact_id or "", None)
            if callback_number == "channel":
                encrypted = self.addresses.get((contact_id or "", channel))
            if not encrypted:
                return None
            fields.update(callback_method="phone", callback_contact_encrypted=encrypted)
        if shared_messages:
            texts = {line.id: line.text for line in self.inbox if line.contact_id == contact_id}
            summary = shared_summary(texts, shared_messages)
            fields.update(summary=summary, share_conversation=summary is not None)
        code = self._code(fields.get("country"))
        self.requests.append({"reference_code": code, "contact_id": contact_id,
                              "category": category, "channel": channel, **fields})
        return NewRequest(code, None)

    # ---- call-backs and consents -----------------------------------------------------
    def callback_available(self, country: str | None) -> bool:
        return country in self.callback_countries

    def has_callback_draft(self, contact_id: str | None) -> bool:
        return (contact_id or "") in self.drafts

    def clear_callback_draft(self, contact_id: str | None) -> None:
        self.drafts.pop(contact_id or "", None)

    def withdraw_callback(self, contact_id: str | None) -> None:
        if contact_id:
            self.withdrawn.append(contact_id)

    # ---- the inbox lines a miner shares ---------------------------------------------
    def shareable_messages(self, contact_id: str | None) -> list[tuple[int, str]]:
        lines = [(line.id, " ".join(line.text.split())[:200]) for line in self.inbox
                 if line.contact_id == contact_id and line.kind == "text" and line.text
                 and not NOT_WORTH_SHARING.match(line.text)]
        return lines[-SHARE_LIMIT:]

    def media_since(self, contact_id: str | None, since: datetime | None) -> list[int]:
        return [line.id for line in self.inbox
                if line.contact_id == contact_id and line.kind in ("voice", "media")
                and (since is None or line.received_at is None or line.received_at >= since)
                ][-MEDIA_LIMIT:]

    # ---- erasure and the learning loop ----------------------------------------------
    def request_erasure(self, contact_id: str | None) -> None:
        if contact_id:
            self.erasures.append(contact_id)

    def keep_miss(self, *, contact_id: str, text: str, channel: str | None,
                  language: str | None, country: str | None, intent: str | None,
                  confidence: float | None, suggested: list[str]) -> None:
        self.misses.append({"contact_id": contact_id, "text": text, "channel": channel,
                            "language": language, "country": country, "intent": intent,
                            "confidence": confidence, "suggested": suggested})

    def note_chosen_suggestion(self, contact_id: str, answer_id: str) -> None:
        self.chosen.append((contact_id, answer_id))


if TYPE_CHECKING:  # pragma: no cover - mypy checks that it is a Repository
    _conforms: Repository = MemoryRepository()
