"""The neutral message types the core speaks. Channel adapters translate to and from these.

No Telegram or WhatsApp payload ever crosses this boundary.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import Enum
from typing import Any


class Channel(str, Enum):
    WEB = "web"
    TELEGRAM = "telegram"
    WHATSAPP = "whatsapp"


class InboundKind(str, Enum):
    TEXT = "text"
    CHOICE = "choice"
    VOICE = "voice"
    MEDIA = "media"  # photo, document, video, non-voice audio
    LOCATION = "location"
    CONTACT = "contact"  # a shared phone contact card
    UNSUPPORTED = "unsupported"  # stickers, reactions, unknown types: politely refused


@dataclass(frozen=True)
class Media:
    """A file the user sent; `ref` is the channel's file/media id until it is downloaded."""

    kind: str  # "voice", "audio", "photo", "document", "video", ...
    ref: str
    mime_type: str | None = None
    size: int | None = None
    duration: int | None = None


@dataclass(frozen=True)
class Location:
    latitude: float
    longitude: float


@dataclass(frozen=True)
class Inbound:
    """One message from a user, as any channel delivers it.

    `channel_message_id` is the channel's own id (Telegram update_id, WhatsApp wamid, a
    client-made id for the web chat); the inbox is deduplicated on (channel, channel_message_id).
    `address` is the channel's user identifier (chat id, phone number, web sender id): personal
    data, stored encrypted once and never logged.
    """

    channel: Channel
    channel_message_id: str
    address: str
    kind: InboundKind
    text: str | None = None
    choice_id: str | None = None
    media: Media | None = None
    location: Location | None = None
    profile_name: str | None = None  # never stored; channels may use it for nothing else

    def to_record(self) -> dict[str, Any]:
        """What the inbox keeps of the message (the address is stored separately, encrypted)."""
        return {
            "kind": self.kind.value,
            "text": self.text,
            "choice_id": self.choice_id,
            "media": asdict(self.media) if self.media else None,
            "location": asdict(self.location) if self.location else None,
        }


@dataclass(frozen=True)
class Choice:
    id: str
    title: str


@dataclass
class Reply:
    """One message to a user. Channels render choices as buttons, lists or numbered lines."""

    text: str
    choices: list[Choice] = field(default_factory=list)
    lang: str | None = None
    country: str | None = None
    sensitive: bool = False
    template: str | None = None  # set by the gateway when only a template may be sent

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"text": self.text, "choices": [asdict(c) for c in self.choices]}
        if self.lang:
            data["lang"] = self.lang
        if self.country:
            data["country"] = self.country
        if self.sensitive:
            data["sensitive"] = True
        if self.template:
            data["template"] = self.template
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Reply:
        return cls(
            text=str(data.get("text") or ""),
            choices=[Choice(str(c["id"]), str(c["title"])) for c in data.get("choices") or []],
            lang=data.get("lang"),
            country=data.get("country"),
            sensitive=bool(data.get("sensitive")),
            template=data.get("template"),
        )
