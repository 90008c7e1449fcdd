"""Run the real app (bot.app.create_app) on loopback against the fakes, with a temp SQLite DB.

    with RunningApp(make_settings(tmp_path, rasa.url, telegram_bot_token=...)) as app:
        httpx.post(f"{app.url}/webhooks/telegram", ...)
        app.outbox()  # rows, for assertions
"""

from __future__ import annotations

import base64
import secrets
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bot.config import Settings, given, replace
from bot.store.db import Database
from bot.store.models import Contact, InboxMessage, MediaFile, OutboxMessage
from bot.testing.server import LoopbackServer


def make_settings(tmp_path: Path, rasa_url: str, **overrides: Any) -> Settings:
    settings = given(
        database_url=f"sqlite:///{tmp_path / 'app.db'}",
        rasa_url=rasa_url,
        rasa_token=None,
        port=0,
        host="127.0.0.1",
        data_key=base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        worker_poll_seconds=0.05,
        web_wait_seconds=5.0,
        media_dir=tmp_path / "media",
    )
    return replace(settings, **overrides)


class RunningApp:
    def __init__(self, settings: Settings):
        from bot.app import create_app

        self.settings = settings
        self.app = create_app(settings)
        self.server = LoopbackServer(self.app)
        self.db = Database(settings.database_url)

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def gateway(self):
        return self.app.state.gateway

    def __enter__(self) -> RunningApp:
        self.server.start()
        return self

    def __exit__(self, *_exc: Any) -> None:
        self.server.stop()
        self.db.dispose()

    def _all(self, model, *where) -> list:
        with self.db.session() as session:
            rows = session.scalars(select(model).where(*where).order_by(model.id)).all()
            session.expunge_all()
            return list(rows)

    def inbox(self) -> list[InboxMessage]:
        return self._all(InboxMessage)

    def outbox(self, *where) -> list[OutboxMessage]:
        return self._all(OutboxMessage, *where)

    def media(self) -> list[MediaFile]:
        return self._all(MediaFile)

    def contacts(self) -> list[Contact]:
        return self._all(Contact)
