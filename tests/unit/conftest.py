"""Fixtures shared by unit tests."""

from __future__ import annotations

import pytest

from bot.store import requests as store
from bot.store.db import Database


@pytest.fixture
def db(tmp_path):
    """A migrated SQLite database that the flows' store writes to (partners, requests)."""
    database = Database(f"sqlite:///{tmp_path / 'requests.db'}")
    database.upgrade()
    with store.use_database(database):
        yield database
    database.dispose()
