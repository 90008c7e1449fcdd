"""Multi-step flows, and the one place they are registered (`build_registry`).

A new flow: a `Flow` subclass in its own module here (`base.py` has the shared helpers),
then one line in `build_registry` (with the intents that start it).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from bot.actions.flows.base import Flow
from bot.actions.flows.delete import DeleteFlow
from bot.actions.flows.disclosure import DisclosureOffer
from bot.actions.flows.group_guide import GroupGuide
from bot.actions.flows.protection import ProtectionFlow
from bot.actions.flows.report import ReportFlow
from bot.actions.flows.status import StatusFlow
from bot.actions.flows.talk import TalkFlow

if TYPE_CHECKING:  # pragma: no cover
    from bot.actions.dialogue import Talk
    from bot.core.messages import Reply

__all__ = ["Flow", "FlowRegistry", "REGISTRY", "build_registry"]


class FlowRegistry:
    """The flows by name, and the intents that start them."""

    def __init__(self) -> None:
        self.by_name: dict[str, Flow] = {}
        self.by_intent: dict[str, str] = {}  # intent -> flow name

    def add(self, flow: Flow, *intents: str) -> FlowRegistry:
        self.by_name[flow.name] = flow
        self.by_intent.update(dict.fromkeys(intents, flow.name))
        return self

    def get(self, name: str | None) -> Flow | None:
        return self.by_name.get(name or "")

    def __contains__(self, name: object) -> bool:
        return name in self.by_name

    def __getitem__(self, name: str) -> Flow:
        return self.by_name[name]

    def __iter__(self) -> Iterator[Flow]:
        return iter(self.by_name.values())

    def for_intent(self, intent: str | None) -> Flow | None:
        return self.by_name.get(self.by_intent.get(intent or "", ""))

    def current(self, talk: Talk) -> Flow | None:
        """The flow the conversation is in (None outside a flow)."""
        return self.get((talk.state.flow or {}).get("name"))

    def start(self, name: str, talk: Talk) -> list[Reply]:
        """Start another flow by name (flows never import each other)."""
        return self.by_name[name].start(talk, "start")


def build_registry() -> FlowRegistry:
    """Every flow of the assistant. The order is the order of "Reprendre" buttons and of
    the flows asked to `claim` a message."""
    return (FlowRegistry()
            .add(ReportFlow(), "report_problem")
            .add(ProtectionFlow(), "violence_help")
            .add(DeleteFlow(), "delete_data")
            .add(DisclosureOffer())
            .add(GroupGuide())
            .add(StatusFlow(), "check_status")
            .add(TalkFlow(), "talk_to_person"))


REGISTRY = build_registry()
