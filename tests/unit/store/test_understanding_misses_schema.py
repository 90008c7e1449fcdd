"""The migration of the learning loop's table matches its model, and downgrades cleanly."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from bot.store.models import Base


def test_the_migrated_table_matches_the_model(db):
    with db.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert [d for d in diff if "understanding_misses" in repr(d)] == []


def test_the_migration_downgrades(db):
    db.downgrade("0005_outbox_lease")
    assert "understanding_misses" not in inspect(db.engine).get_table_names()
    db.upgrade()
    assert "understanding_misses" in inspect(db.engine).get_table_names()
