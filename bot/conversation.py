"""The app's dialogue behind the gateway's `Answerer` (bot/core/answering.py): one turn of
`bot.actions.dialogue.Talk` over the contact's saved state. Rasa only reads typed text; the
conversation itself (slots, flow steps, history) lives in the app's database."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from bot.actions.dialogue import State, Talk, Turn
from bot.core.answering import Understood
from bot.core.messages import Reply
from bot.store.db import Database
from bot.store.repository import Repository, SqlRepository


class TalkDialogue:
    """`Dialogue` (bot/core/answering.py) with `Talk`: the replies and the new state. `db`:
    the database the flows reach (requests, consents, misses) through the repository: the
    gateway's."""

    def __init__(self, db: Database | None = None):
        self.repo: Repository | None = SqlRepository(db) if db is not None else None

    def respond(self, contact_id: str, slots: dict[str, Any],
                understood: Understood) -> tuple[list[Reply], dict[str, Any]]:
        state = State.from_slots(slots)
        talk = Talk(state, sender_id=contact_id, repo=self.repo)
        replies = talk.respond(Turn(**asdict(understood)))
        return replies, state.to_slots()
