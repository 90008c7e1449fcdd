"""bot/store/db.py: engines, units of work, migrations."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import delete, inspect, select, update

from bot.store.db import Database, alembic_config, get_database, make_engine, rowcount
from bot.store.models import Contact


def test_a_sqlite_engine_creates_its_folder_and_sets_its_pragmas(tmp_path):
    path = tmp_path / "deep" / "folder" / "app.db"
    engine = make_engine(f"sqlite:///{path}")
    with engine.connect() as connection:
        pragmas = {name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()
                   for name in ("journal_mode", "synchronous", "foreign_keys", "secure_delete")}
    engine.dispose()
    assert path.parent.is_dir()
    # WAL, synchronous NORMAL (1), foreign keys on, erased rows overwritten.
    assert pragmas == {"journal_mode": "wal", "synchronous": 1, "foreign_keys": 1,
                       "secure_delete": 1}
    assert engine.hide_parameters is True


def test_a_postgresql_url_uses_psycopg_3():
    engine = make_engine("postgresql://user@127.0.0.1:5432/app")
    assert engine.dialect.driver == "psycopg"
    assert engine.hide_parameters is True


def test_a_session_commits_at_the_end_of_the_block(db):
    with db.session() as session:
        session.add(Contact(id="c_kept", language="bm"))
    with db.session() as session:
        assert session.get_one(Contact, "c_kept").language == "bm"


def test_a_session_rolls_back_on_any_error(db):
    with pytest.raises(KeyboardInterrupt), db.session() as session:
        session.add(Contact(id="c_lost"))
        session.flush()
        raise KeyboardInterrupt
    with db.session() as session:
        assert session.get(Contact, "c_lost") is None


def test_rowcount_counts_the_rows_an_update_or_delete_matched(db):
    with db.session() as session:
        session.add_all([Contact(id=f"c_{n}", country="ML") for n in range(3)])
        session.flush()
        assert rowcount(session.execute(
            update(Contact).where(Contact.id != "c_0").values(country="GN"))) == 2
        assert rowcount(session.execute(delete(Contact).where(Contact.country == "XX"))) == 0
        assert rowcount(session.execute(delete(Contact))) == 3


def test_downgrade_to_base_and_upgrade_again(tmp_path):
    database = Database(f"sqlite:///{tmp_path / 'app.db'}")
    try:
        database.upgrade()
        tables = set(inspect(database.engine).get_table_names())
        assert {"contacts", "channel_identities", "inbox", "outbox", "follow_up_requests",
                "alembic_version"} <= tables
        database.downgrade("base")
        assert inspect(database.engine).get_table_names() == ["alembic_version"]
        database.upgrade()
        assert set(inspect(database.engine).get_table_names()) == tables
    finally:
        database.dispose()


def test_after_erasure_checkpoints_the_write_ahead_log(db):
    with db.session() as session:
        session.add(Contact(id="c_gone"))
    assert db.is_sqlite
    assert db.after_erasure() is True
    wal = Path(f"{db.engine.url.database}-wal")
    assert wal.stat().st_size == 0  # truncated: no old row versions left in it
    with db.session() as session:
        assert session.scalars(select(Contact.id)).all() == ["c_gone"]


def test_alembic_config_escapes_percent_signs():
    config = alembic_config("postgresql://user:p%40ss@host/db")
    assert config.get_main_option("sqlalchemy.url") == "postgresql://user:p%40ss@host/db"


def test_get_database_gives_one_database_per_url(tmp_path):
    url = f"sqlite:///{tmp_path / 'one.db'}"
    first = get_database(url)
    try:
        assert get_database(url) is first
        assert get_database(f"sqlite:///{tmp_path / 'two.db'}") is not first
    finally:
        first.dispose()
        get_database.cache_clear()
